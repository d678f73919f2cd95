"""Lightweight Python components of every parameter style, for `flowc import kfp`'s tests:
`InputPath`/`OutputPath`, `Input[...]`/`Output[...]` artifact objects, a `Metrics` output
filled with `log_metric`, packages installed at start, and a NamedTuple of values returned.
Compile: python python_components.py OUT.yaml
"""
import sys
from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, InputPath, Metrics, Model, Output, OutputPath


@dsl.component(base_image="python:3.11-slim", packages_to_install=["pandas"])
def make_panel(rows: int, panel: Output[Dataset]):
    import pandas as pd
    pd.DataFrame({"id": range(rows), "minutes": [i * 3 % 17 for i in range(rows)]}).to_csv(
        panel.path, index=False
    )


@dsl.component(base_image="python:3.11-slim", packages_to_install=["pandas"])
def clean(panel: Input[Dataset], min_minutes: int, kept: Output[Dataset], stats: Output[Metrics]):
    import pandas as pd
    df = pd.read_csv(panel.path)
    out = df[df["minutes"] >= min_minutes]
    out.to_csv(kept.path, index=False)
    stats.log_metric("dropped", len(df) - len(out))
    stats.log_metric("kept", len(out))


@dsl.component(base_image="python:3.11-slim")
def fit(data: InputPath(Dataset), model: OutputPath(Model)) -> NamedTuple("Outputs", [("n", int), ("label", str)]):
    from collections import namedtuple
    n = sum(1 for _ in open(data)) - 1
    with open(model, "w") as f:
        f.write(f"mean-model n={n}\n")
    return namedtuple("Outputs", ["n", "label"])(n, f"fitted on {n}")


@dsl.container_component
def report(model: Input[Model], label: str):
    return dsl.ContainerSpec(image="busybox:1.36", command=["sh", "-c"],
                             args=['cat "$0"; echo "$1"', model.path, label])


@dsl.pipeline(name="python-components")
def pipeline(rows: int = 40, min_minutes: int = 5):
    p = make_panel(rows=rows)
    c = clean(panel=p.outputs["panel"], min_minutes=min_minutes)
    f = fit(data=c.outputs["kept"])
    report(model=f.outputs["model"], label=f.outputs["label"])


if __name__ == "__main__":
    compiler.Compiler().compile(pipeline, sys.argv[1] if len(sys.argv) > 1 else "python_components.yaml")
