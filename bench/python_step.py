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

FUNCTION = '''
import pandas as pd

def same(table: pd.DataFrame) -> pd.DataFrame:
    return table
'''

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
    with open(os.path.join(work, "bench_fn.py"), "w") as f:
        f.write(FUNCTION)
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
    flowc = [sys.executable, "-m", "flowc_step", "--function", "bench_fn:same",
             "--signature", json.dumps(sig), "--input", f"table={work}/in.parquet",
             "--output", f"out={work}/out.parquet"]
    bare = [sys.executable, "-c", "import pyarrow.parquet"]
    with open(os.path.join(work, "kfp_chain.py"), "w") as f:
        f.write(KFP_PIPELINE.format(tasks=args.tasks, root=os.path.join(work, "kfp-root")))
    rows = {"bare": [], "flowc": [], "kfp": [], "diff": []}
    timed(flowc, env=env)  # warm the page cache and .pyc files
    for _ in range(args.rounds):
        b = timed(bare)
        f = timed(flowc, env=env)
        out = subprocess.run([args.kfp_python, os.path.join(work, "kfp_chain.py")], check=True,
                             capture_output=True, text=True, cwd=work).stdout.strip().splitlines()
        k = float(out[-1]) / args.tasks
        rows["bare"].append(b)
        rows["flowc"].append(f)
        rows["kfp"].append(k)
        rows["diff"].append(f - b)
    ms = {k: statistics.median(v) * 1000 for k, v in rows.items()}
    print(textwrap.dedent(f"""
        | per step (median of {args.rounds} rounds) | ms |
        |---|---|
        | bare: `python -c "import pyarrow.parquet"` | {ms['bare']:.0f} |
        | flowc: `python -m flowc_step`, 1,000-row table in and out (pandas) | {ms['flowc']:.0f} |
        | kfp.local, SubprocessRunner, per task of a {args.tasks}-task chain | {ms['kfp']:.0f} |
        | flowc runtime's own cost (flowc - bare, within rounds) | {ms['diff']:.0f} |
        | kfp.local / flowc | {ms['kfp'] / ms['flowc']:.1f}x |
        """).strip())


if __name__ == "__main__":
    main()
