"""Functions of the Python-step tests: every kind of value in and out of a step."""

import datetime
import json
import pathlib

import pandas as pd
import polars as pl
import pyarrow as pa


def make(text: str, n: int, x: float, flag: bool, day: datetime.date,
         days: list[datetime.date], maybe: int | None, note: str | None, report: pathlib.Path):
    """Checks each parameter's Python type and returns one output of each kind."""
    assert isinstance(text, str) and isinstance(n, int) and isinstance(x, float)
    assert isinstance(flag, bool) and type(day) is datetime.date
    assert all(type(d) is datetime.date for d in days), days
    assert maybe == 7 and note is None, (maybe, note)
    report.write_text(f"report for {text}\n", encoding="utf-8")
    table = pd.DataFrame({
        "id": [1, 2, 3],
        "name": ["a", "b", None],
        "score": [0.5, 1.5, 2.5],
        "active": [True, False, True],
        "day": [day, day + datetime.timedelta(days=1), days[-1]],
        "extra": ["dropped", "by", "width"],
    })
    return {
        "table": table,
        "doc": {"text": text, "days": [d.isoformat() for d in days]},
        "stats": {"rows": 3, "mean": 1.5},
        "label": text.upper(),
        "count": n + 1,
        "ratio": x * 2,
        "ok": not flag,
        "next_day": day + datetime.timedelta(days=1),
        "names": ["a", "b"],
    }


def use(table: pl.DataFrame, doc, stats: dict, report: pathlib.Path, label: str, count: int,
        ratio: float, ok: bool, next_day: datetime.date, names: list[str]):
    """Reads every output of `make` back, with a polars table, and describes what arrived."""
    assert isinstance(table, pl.DataFrame), type(table)
    return {
        "columns": table.columns,
        "rows": table.height,
        "names": table["name"].to_list(),
        "day_type": str(table.schema["day"]),
        "doc": doc,
        "stats": stats,
        "report": report.read_text(encoding="utf-8"),
        "values": [label, count, ratio, ok, next_day.isoformat(), names],
        "types": [type(v).__name__ for v in (label, count, ratio, ok, next_day, names)],
    }


def scale(table: pa.Table, factor: float = 2.0) -> pa.Table:
    """A pyarrow table in and out: doubles the scores."""
    import pyarrow.compute as pc

    assert isinstance(table, pa.Table), type(table)
    scores = pc.multiply(table.column("score"), factor)
    return table.set_column(table.schema.get_field_index("score"), "score", scores)
