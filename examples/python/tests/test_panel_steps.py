"""Unit tests of the examples' Python steps, as a team tests its own code (run by `cargo test`
through the test virtualenv, or by `python -m unittest discover -s tests -t .` here)."""

import datetime
import pathlib
import tempfile
import unittest

import pandas as pd
import polars as pl

from panel_steps.extracts import extract
from panel_steps.publishing import publish_weights
from panel_steps.summaries import count_rows, web_use_by_age
from panel_steps.weights import trim_report, trim_weights


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def test_the_receipt_counts_rows_and_hashes_the_file(self):
        f = self.path / "w.csv"
        f.write_text("id,weight\n1,0.5\n2,1.5\n")
        receipt = publish_weights(f, datetime.date(2024, 6, 3))
        self.assertEqual(receipt["rows"], 2)
        self.assertEqual(receipt["day"], "2024-06-03")
        self.assertEqual(len(receipt["sha256"]), 64)
        f.write_text("id,w\n1,2\n")
        with self.assertRaises(ValueError):
            publish_weights(f, datetime.date(2024, 6, 3))

    def test_web_use_is_averaged_by_age_group(self):
        f = self.path / "fused.csv"
        f.write_text("age_group,web_minutes\nb,10\na,1\nb,20\n")
        self.assertEqual(web_use_by_age(f), "age_group,panelists,mean_web_minutes\r\na,1,1.0\r\nb,2,15.0\r\n")

    def test_rows_are_counted_without_the_header(self):
        f = self.path / "x.csv"
        f.write_text("a\n1\n2\n")
        self.assertEqual(count_rows(f), {"rows": 2, "empty": False})

    def test_the_extract_never_shows_the_password(self):
        text = extract(datetime.date(2024, 6, 3), "panel")
        self.assertTrue(text.startswith("day,source,host,authenticated\n2024-06-03,panel,"))


class Weights(unittest.TestCase):
    def test_trimming_caps_and_keeps_the_total(self):
        w = pd.DataFrame({"id": [1, 2, 3, 4], "weight": [1.0, 1.0, 1.0, 9.0]})
        t = trim_weights(w, cap=2.0)
        self.assertAlmostEqual(t["weight"].sum(), 12.0)
        self.assertLessEqual(t["weight"].max(), 2.0 * 3.0 + 1e-9)
        report = trim_report(pl.from_pandas(t))
        self.assertEqual(report["rows"], 4)
        self.assertEqual(report["trimmed"], 1)


if __name__ == "__main__":
    unittest.main()
