"""Timing of bench/python_step.sh: the per-step cost of a Python step, a bare interpreter
importing pyarrow, and a kfp.local task. Prints a Markdown table of medians and the
difference flowc - bare (the runtime's own cost), measured within each round."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(HERE, "..", "python")

FUNCTIONS = {
    # The user's function imports pandas: what most steps over DataFrames pay.
    "bench_pandas.py": "import pandas as pd\n\ndef same(table: pd.DataFrame) -> pd.DataFrame:\n    return table\n",
    # A pyarrow table in and out: only the runtime's own work around the interpreter.
    "bench_arrow.py": "import pyarrow as pa\n\ndef same(table: pa.Table) -> pa.Table:\n    return table\n",
    # Values only: the runtime does not import pyarrow at all.
    "bench_value.py": "def add_one(n: int) -> int:\n    return n + 1\n",
}

KFP_PIPELINE = '''
import sys, time
from kfp import dsl, local

@dsl.component(base_image="python:3.12-slim")
def add_one(n: int) -> int:
    return n + 1

@dsl.pipeline
def chain(n: int = 0):
    x = add_one(n=n)
    for _ in range({tasks} - 1):
        x = add_one(n=x.output)

local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root="{root}")
start = time.perf_counter()
chain()
print(time.perf_counter() - start)
'''


def timed(argv, env=None, cwd=None):
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--kfp-python", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    for name, text in FUNCTIONS.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(1000)), "x": [float(i) for i in range(1000)]})
    pq.write_table(table, os.path.join(work, "in.parquet"))
    sig = {"inputs": {"table": {"kind": "table", "schema": None, "columns": [
        {"name": "id", "type": "Int", "nullable": False},
        {"name": "x", "type": "Float", "nullable": False}]}},
        "outputs": {"out": {"kind": "table", "schema": None, "columns": [
            {"name": "id", "type": "Int", "nullable": False},
            {"name": "x", "type": "Float", "nullable": False}]}}}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([RUNTIME, work]))
    def step(function, signature, args):
        return [sys.executable, "-m", "flowc_step", "--function", function,
                "--signature", json.dumps(signature)] + args
    tables = ["--input", f"table={work}/in.parquet", "--output", f"out={work}/out.parquet"]
    runs = {
        "pandas": step("bench_pandas:same", sig, tables),
        "arrow": step("bench_arrow:same", sig, tables),
        "value": step("bench_value:add_one", {
            "inputs": {"n": {"kind": "scalar", "name": "Int"}},
            "outputs": {"out": {"kind": "scalar", "name": "Int"}}},
            ["--param", "n=1", "--output", f"out={work}/n.txt"]),
    }
    bare = [sys.executable, "-c", "import pyarrow.parquet"]
    bare_py = [sys.executable, "-c", "pass"]
    with open(os.path.join(work, "kfp_chain.py"), "w") as f:
        f.write(KFP_PIPELINE.format(tasks=args.tasks, root=os.path.join(work, "kfp-root")))
    rows = {k: [] for k in ["bare_py", "bare", "pandas", "arrow", "value", "kfp", "d_arrow", "d_value"]}
    for argv in runs.values():
        timed(argv, env=env)  # warm the page cache and .pyc files
    for _ in range(args.rounds):
        rows["bare_py"].append(timed(bare_py))
        rows["bare"].append(timed(bare))
        for name, argv in runs.items():
            rows[name].append(timed(argv, env=env))
        out = subprocess.run([args.kfp_python, os.path.join(work, "kfp_chain.py")], check=True,
                             capture_output=True, text=True, cwd=work).stdout.strip().splitlines()
        rows["kfp"].append(float(out[-1]) / args.tasks)
        rows["d_arrow"].append(rows["arrow"][-1] - rows["bare"][-1])
        rows["d_value"].append(rows["value"][-1] - rows["bare_py"][-1])
    ms = {k: statistics.median(v) * 1000 for k, v in rows.items()}
    print(textwrap.dedent(f"""
        | per step (median of {args.rounds} rounds, whole processes) | ms |
        |---|---|
        | bare: `python -c pass` | {ms['bare_py']:.0f} |
        | bare: `python -c "import pyarrow.parquet"` | {ms['bare']:.0f} |
        | flowc step, an int in and out (no pyarrow) | {ms['value']:.0f} |
        | flowc step, 1,000-row table in and out as a pyarrow Table | {ms['arrow']:.0f} |
        | flowc step, 1,000-row table in and out as a pandas DataFrame (imports pandas) | {ms['pandas']:.0f} |
        | kfp.local, SubprocessRunner, per task of a {args.tasks}-task chain (an int in and out) | {ms['kfp']:.0f} |
        | runtime's own cost, table step (arrow step - bare pyarrow, within rounds) | {ms['d_arrow']:.0f} |
        | runtime's own cost, value step (value step - bare `pass`, within rounds) | {ms['d_value']:.0f} |
        | kfp.local per task / flowc value step | {ms['kfp'] / ms['value']:.1f}x |
        """).strip())


if __name__ == "__main__":
    main()
