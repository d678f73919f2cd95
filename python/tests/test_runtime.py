"""Unit tests of the runtime package (run by `cargo test` through the test virtualenv, or by
`python -m unittest discover -s tests -t .` in this folder)."""

import collections
import datetime
import json
import os
import tempfile
import unittest

import pandas as pd
import pyarrow as pa

from flowc_step import errors, kfp_dsl
from flowc_step.errors import StepError
from flowc_step.kfp import write_metadata
from flowc_step.main import parse_args
from flowc_step.outputs import split_returned
from flowc_step.tables import conform, frame_kind, write_table
from flowc_step.values import load_param

INT = {"kind": "scalar", "name": "Int"}
DATE = {"kind": "scalar", "name": "Date"}


def table_type(*columns):
    return {"kind": "table", "columns": [
        {"name": n, "type": t, "nullable": n.endswith("_opt")} for n, t in columns]}


class Values(unittest.TestCase):
    def test_parameters_arrive_as_python_values(self):
        self.assertEqual(load_param("n", INT, "41"), 41)
        self.assertEqual(load_param("d", DATE, "2026-03-01"), datetime.date(2026, 3, 1))
        self.assertIs(load_param("b", {"kind": "scalar", "name": "Bool"}, "true"), True)
        dates = {"kind": "list", "item": DATE}
        self.assertEqual(load_param("ds", dates, '["2026-03-01"]'), [datetime.date(2026, 3, 1)])
        self.assertIsNone(load_param("o", {"kind": "optional", "inner": INT}, ""))
        with self.assertRaises(StepError) as e:
            load_param("n", INT, "4.5")
        self.assertEqual(e.exception.code, errors.BAD_INPUT)

    def test_arguments_are_name_value_pairs(self):
        call = parse_args(["--function", "m:f", "--signature", '{"inputs": {}, "outputs": {}}',
                           "--param", "x=a=b", "--output", "o=/tmp/o"])
        self.assertEqual(call.params, {"x": "a=b"})
        self.assertEqual(call.outputs, {"o": "/tmp/o"})
        with self.assertRaises(StepError):
            parse_args(["--function", "m:f"])


class Returns(unittest.TestCase):
    def test_one_output_is_the_value_and_several_are_a_dict_or_a_tuple(self):
        outs = {"a": INT, "b": INT}
        self.assertEqual(split_returned("f", {"a": INT}, set(), 3), {"a": 3})
        self.assertEqual(split_returned("f", outs, set(), (1, 2)), {"a": 1, "b": 2})
        self.assertEqual(split_returned("f", outs, set(), {"b": 2, "a": 1}), {"a": 1, "b": 2})
        self.assertEqual(split_returned("f", outs, {"a"}, 2), {"b": 2})
        # A NamedTuple goes by its fields' names, whatever their order.
        swapped = collections.namedtuple("Outputs", ["b", "a"])(2, 1)
        self.assertEqual(split_returned("f", outs, set(), swapped), {"a": 1, "b": 2})
        other = collections.namedtuple("Outputs", ["a", "c"])(1, 2)
        for wrong in [(1,), {"a": 1}, [1, 2], 3, other]:
            with self.assertRaises(StepError) as e:
                split_returned("f", outs, set(), wrong)
            self.assertEqual(e.exception.code, errors.RETURN_SHAPE)


class KubeflowNames(unittest.TestCase):
    """flowc_step.kfp_dsl: what a Kubeflow component's module imports from kfp.dsl."""

    def test_annotations_give_paths_or_artifact_objects(self):
        self.assertEqual(kfp_dsl.argument(kfp_dsl.InputPath(kfp_dsl.Dataset), "d", "/in/d"), "/in/d")
        self.assertEqual(kfp_dsl.argument(kfp_dsl.OutputPath("Model"), "m", "/out/m"), "/out/m")
        panel = kfp_dsl.argument(kfp_dsl.Input[kfp_dsl.Dataset], "panel", "/in/panel")
        self.assertIsInstance(panel, kfp_dsl.Dataset)
        self.assertEqual((panel.name, panel.path, panel.uri), ("panel", "/in/panel", "/in/panel"))
        self.assertIsNone(kfp_dsl.argument(int, "n", "/x"))
        self.assertIs(kfp_dsl.dsl.Output, kfp_dsl.Output)
        self.assertIs(kfp_dsl.dsl.component(packages_to_install=["x"])(len), len)
        with self.assertRaises(AttributeError):
            kfp_dsl.dsl.pipeline  # noqa: B018 - flowc is the pipeline

    def test_logged_metrics_are_written_unless_the_function_wrote_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "stats")
            stats = kfp_dsl.argument(kfp_dsl.Output[kfp_dsl.Metrics], "stats", path)
            stats.log_metric("kept", 3)
            kfp_dsl.finish(stats)
            with open(path, encoding="utf-8") as f:
                self.assertEqual(json.load(f), {"kept": 3})
            stats.log_metric("kept", 4)
            kfp_dsl.finish(stats)  # the file is there: left as it is
            with open(path, encoding="utf-8") as f:
                self.assertEqual(json.load(f), {"kept": 3})


class Tables(unittest.TestCase):
    def test_frame_kinds_follow_the_annotation(self):
        self.assertEqual(frame_kind(None), "pandas")
        self.assertEqual(frame_kind("pl.DataFrame"), "polars")
        self.assertEqual(frame_kind(pa.Table), "arrow")
        self.assertEqual(frame_kind(pd.DataFrame), "pandas")

    def test_lossless_widenings_are_accepted_and_extra_columns_dropped(self):
        frame = pd.DataFrame({
            "i": pd.Series([1, 2], dtype="int32"),
            "f": pd.Series([1, 2], dtype="int64"),
            "s": pd.Series(["a", "b"], dtype="category"),
            "d": pd.to_datetime(["2026-03-01", "2026-03-02"]),
            "extra": [0, 0],
        })
        ty = table_type(("i", "Int"), ("f", "Float"), ("s", "Str"), ("d", "Date"))
        t = conform("t", ty, frame)
        self.assertEqual(t.column_names, ["i", "f", "s", "d"])
        self.assertEqual([str(x) for x in t.schema.types], ["int64", "double", "string", "date32[day]"])

    def test_a_time_of_day_in_a_date_column_is_refused_naming_the_row(self):
        frame = pd.DataFrame({"d": pd.to_datetime(["2026-03-01 00:00", "2026-03-02 10:00"])})
        with self.assertRaises(StepError) as e:
            conform("t", table_type(("d", "Date")), frame)
        self.assertIn("row 1", e.exception.message)

    def test_the_same_table_is_written_to_the_same_bytes(self):
        t = conform("t", table_type(("i", "Int")), pd.DataFrame({"i": [3, 1, 2]}))
        with tempfile.TemporaryDirectory() as d:
            a, b = os.path.join(d, "a"), os.path.join(d, "b")
            write_table(t, a)
            write_table(t, b)
            with open(a, "rb") as fa, open(b, "rb") as fb:
                self.assertEqual(fa.read(), fb.read())
            self.assertFalse(os.path.exists(a + ".partial"))


class KubeflowMetadata(unittest.TestCase):
    def test_the_numbers_of_metrics_outputs_reach_the_executor_output(self):
        with tempfile.TemporaryDirectory() as d:
            report = os.path.join(d, "report.json")
            with open(report, "w", encoding="utf-8") as f:
                f.write('{"rmse": 0.5, "rows": 12, "ok": true, "note": "x"}')
            target = os.path.join(d, "kfp", "output_metadata.json")
            outputs = {"report": {"kind": "metrics", "keys": []}, "clean": {"kind": "artifact"}}
            paths = {"report": report, "clean": os.path.join(d, "clean")}
            write_metadata({"outputs": {"outputFile": target}}, outputs, paths)
            with open(target, encoding="utf-8") as f:
                written = f.read()
            self.assertEqual(
                written,
                '{"artifacts": {"report": {"artifacts": [{"metadata": {"rmse": 0.5, "rows": 12}}]}}}',
            )

    def test_nothing_is_written_without_an_output_file(self):
        write_metadata(None, {"report": {"kind": "metrics"}}, {"report": "missing"})
        write_metadata({}, {"report": {"kind": "metrics"}}, {"report": "missing"})


if __name__ == "__main__":
    unittest.main()
