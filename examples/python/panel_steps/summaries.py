"""Summaries of files and tables (tv_web_fusion.flow, features/checks.flow,
features/python_steps.flow)."""

import collections
import csv
import pathlib


def web_use_by_age(fused: pathlib.Path) -> str:
    """Internet minutes of the TV panelists by age group, as a CSV text: one row per age group
    with the number of panelists and their mean web minutes (one decimal)."""
    groups = collections.defaultdict(list)
    with fused.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            groups[row["age_group"]].append(float(row["web_minutes"]))
    lines = ["age_group,panelists,mean_web_minutes"]
    for group, minutes in sorted(groups.items()):
        lines.append(f"{group},{len(minutes)},{round(sum(minutes) / len(minutes), 1)}")
    return "\r\n".join(lines) + "\r\n"


def count_rows(csv_file: pathlib.Path) -> dict:
    """The number of data rows of a CSV file (its lines but the header), and whether it is
    empty, as metrics."""
    with csv_file.open(encoding="utf-8") as f:
        n = sum(1 for _ in f) - 1
    return {"rows": n, "empty": n == 0}
