"""Kubeflow's metrics view: the numbers of the step's ``Metrics`` outputs as metadata.

Kubeflow's UI shows a metrics artifact's metadata, not its file. When flowc builds a Python
step for Kubeflow it passes the executor input (``--executor-input {{$}}``); after the outputs
are saved, this writes the ``ExecutorOutput`` the launcher reads at ``outputs.outputFile``:
for each ``Metrics`` output, its top-level numbers as the artifact's metadata (the same as
``flowc exec`` for built-in steps). No ``uri`` is written, so the launcher keeps its own.
"""

import json
import os

from flowc_step import errors
from flowc_step.errors import StepError


def _numbers(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError) as e:
        raise StepError(errors.BAD_INPUT, f"cannot read the metrics at `{path}`: {e}") from None
    if not isinstance(value, dict):
        return {}
    return {
        k: v
        for k, v in value.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def write_metadata(executor_input, outputs, paths):
    """Writes the metadata of the ``Metrics`` outputs (``outputs``: name to type; ``paths``:
    name to file) to the output file ``executor_input`` (parsed JSON) names."""
    target = (executor_input or {}).get("outputs", {}).get("outputFile")
    if not target:
        return
    artifacts = {
        name: {"artifacts": [{"metadata": _numbers(paths[name])}]}
        for name, ty in outputs.items()
        if ty.get("kind") == "metrics" and name in paths
    }
    if not artifacts:
        return
    folder = os.path.dirname(target)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(target, "w", encoding="utf-8") as f:
        json.dump({"artifacts": artifacts}, f)
