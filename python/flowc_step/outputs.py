"""What the function returns, split into the step's outputs and written where flowc reads them.

With one output the return value is that output. With several it is a ``dict`` with their
names, or a tuple with one value per output in declaration order (a ``NamedTuple`` by its
fields' names, in any order). An
output the function takes as a parameter (a ``pathlib.Path`` to write to) is written by the
function and left out of the return value. Each output is written as its type asks:

- ``Table<S>``: a pandas or polars DataFrame, or a pyarrow Table, checked against ``S`` and
  written as Parquet (:mod:`flowc_step.tables`);
- ``Json``: any JSON value; ``Metrics<…>``: a ``dict`` with the declared keys (numbers);
- ``File``/``Model``: ``bytes`` or ``str`` (written as they are), or the ``pathlib.Path`` of a
  file the function wrote elsewhere (copied); ``Dir``: the path of a folder (copied);
- a value output (``Str``, ``Int``, ``Float``, ``Bool``, ``Date``, ``List<…>``): the value,
  written as text (a ``Str`` as it is, a ``Date`` as ``YYYY-MM-DD``, the others as JSON).

Every file is written under a temporary name and renamed, so an output is whole or absent.
"""

import datetime
import json
import math
import os
import pathlib
import shutil

from flowc_step import errors
from flowc_step.errors import StepError


def split_returned(function, outputs, written, returned):
    """The value of each output the function returns, by name."""
    names = [n for n in outputs if n not in written]
    if not names:
        if returned is not None:
            raise StepError(
                errors.RETURN_SHAPE,
                f"`{function}` returned {type(returned).__name__}, but the step has no output "
                "for it to go to",
                "return None, or declare the output in the step",
            )
        return {}
    if len(names) == 1:
        return {names[0]: returned}
    if isinstance(returned, dict):
        missing = [n for n in names if n not in returned]
        extra = [k for k in returned if k not in names]
        if missing or extra:
            raise StepError(
                errors.RETURN_SHAPE,
                f"`{function}` returned a dict with keys {sorted(map(str, returned))}, but the "
                f"step's outputs are {names}",
                "return one key per output, named as the step names them",
            )
        return {n: returned[n] for n in names}
    if isinstance(returned, tuple):
        fields = getattr(returned, "_fields", None)
        if fields is not None and sorted(fields) == sorted(names):
            # A NamedTuple's values go by their fields' names (a Kubeflow component's return
            # type names them; the step may list them in another order).
            return {n: getattr(returned, n) for n in names}
        if fields is not None and list(fields) != names:
            raise StepError(
                errors.RETURN_SHAPE,
                f"`{function}` returned a {type(returned).__name__} with fields {list(fields)}, "
                f"but the step's outputs are {names}",
                "name the fields as the step's outputs",
            )
        if len(returned) == len(names):
            return dict(zip(names, returned))
    raise StepError(
        errors.RETURN_SHAPE,
        f"`{function}` returned {type(returned).__name__}"
        + (f" of {len(returned)} values" if isinstance(returned, tuple) else "")
        + f", but the step has {len(names)} outputs ({', '.join(names)})",
        "return a tuple with one value per output, in order, or a dict keyed by their names",
    )


def _write_bytes(path, data):
    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _json_text(output, value):
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False, indent=2, sort_keys=False)
    except (TypeError, ValueError) as e:
        raise StepError(
            errors.NOT_JSON,
            f"output `{output}` cannot be written as JSON: {e}",
            "return only dicts, lists, strings, finite numbers, booleans and None "
            "(convert dates with `.isoformat()` and numpy numbers with `.item()`)",
        ) from None


def _metrics(output, ty, value):
    if not isinstance(value, dict):
        raise StepError(
            errors.RETURN_SHAPE,
            f"output `{output}` is Metrics and must be a dict, not {type(value).__name__}",
        )
    for key in ty.get("keys", []):
        name, type_name = key["name"], key["type"]
        if name not in value:
            raise StepError(
                errors.RETURN_SHAPE,
                f"metrics `{output}` lack the declared key `{name}` ({type_name})",
            )
        value[name] = _value_of(f"{output}.{name}", {"kind": "scalar", "name": type_name}, value[name])
    return value


def _value_of(output, ty, value):
    """A value output checked against its type, as a JSON-ready Python value."""
    kind = ty["kind"]
    if kind == "optional":
        return None if value is None else _value_of(output, ty["inner"], value)
    if kind in ("list", "columns"):
        if not isinstance(value, (list, tuple)):
            raise StepError(errors.RETURN_SHAPE, f"output `{output}` must be a list, not {type(value).__name__}")
        item = ty.get("item", {"kind": "scalar", "name": "Str"})
        return [_value_of(output, item, v) for v in value]
    name = ty.get("name")
    value = getattr(value, "item", lambda: value)() if type(value).__module__ == "numpy" else value
    ok = {
        "Str": lambda v: isinstance(v, str),
        "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
        "Bool": lambda v: isinstance(v, bool),
        "Date": lambda v: isinstance(v, datetime.date) and not isinstance(v, datetime.datetime),
    }.get(name, lambda v: False)
    if not ok(value):
        raise StepError(
            errors.RETURN_SHAPE,
            f"output `{output}` must be a {name}, but the function returned {value!r}",
        )
    return value.isoformat() if name == "Date" else (float(value) if name == "Float" else value)


def _file_output(output, ty, value, path):
    if isinstance(value, (bytes, bytearray)):
        _write_bytes(path, bytes(value))
    elif isinstance(value, str) and ty.get("name") != "Dir":
        _write_bytes(path, value.encode("utf-8"))
    elif isinstance(value, pathlib.PurePath) and ty.get("name") == "Dir" and os.path.isdir(value):
        shutil.copytree(value, f"{path}.partial")
        os.replace(f"{path}.partial", path)
    elif isinstance(value, pathlib.PurePath) and os.path.isfile(value):
        shutil.copyfile(value, f"{path}.partial")
        os.replace(f"{path}.partial", path)
    else:
        raise StepError(
            errors.RETURN_SHAPE,
            f"output `{output}` ({ty.get('name')}) must be bytes, a str or the path of a "
            f"{'folder' if ty.get('name') == 'Dir' else 'file'}, not {value!r}"[:400],
            f"or take a parameter `{output}`: it receives the path to write the output to",
        )


def save_output(output, ty, value, path):
    """Writes one output's value at ``path``."""
    kind = ty["kind"]
    if kind == "optional":
        if value is None:
            return
        ty = ty["inner"]
        kind = ty["kind"]
    if kind == "table":
        from flowc_step.tables import conform, write_table

        write_table(conform(output, ty, value), path)
    elif kind == "metrics":
        _write_bytes(path, _json_text(output, _metrics(output, ty, value)).encode("utf-8"))
    elif kind == "artifact" and ty.get("name") == "Json":
        _write_bytes(path, _json_text(output, value).encode("utf-8"))
    elif kind == "artifact":
        _file_output(output, ty, value, path)
    else:
        checked = _value_of(output, ty, value)
        text = checked if isinstance(checked, str) and ty["kind"] == "scalar" else json.dumps(checked)
        _write_bytes(path, text.encode("utf-8"))


def save_outputs(outputs, paths, values):
    """Writes every returned output where flowc reads it."""
    for name, value in values.items():
        path = paths.get(name)
        if not path:
            raise StepError(errors.BAD_INPUT, f"no path was given for output `{name}`")
        save_output(name, outputs[name], value, path)
