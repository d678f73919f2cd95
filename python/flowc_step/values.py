"""Inputs as Python values: parameters from their text, artifacts from their files.

=====================  ===================================================
flowc type             Python value
=====================  ===================================================
``Str``                ``str``
``Int`` / ``Float``    ``int`` / ``float``
``Bool``               ``bool``
``Date``               ``datetime.date``
``List<T>``            ``list`` of the item's values
``Columns``            ``list`` of column names
``T?``                 ``None`` when absent (an empty ``Str?`` is absent)
``Table<S>``           a DataFrame: pandas by default, polars or a pyarrow
                       ``Table`` when the parameter is annotated so
``File``/``Dir``/``Model``  ``pathlib.Path``
``Json``               the parsed JSON value
``Metrics<…>``         a ``dict``
=====================  ===================================================
"""

import datetime
import json
import os
import pathlib

from flowc_step import errors
from flowc_step.errors import StepError


def _bad(name, ty_name, text, why):
    return StepError(
        errors.BAD_INPUT,
        f"input `{name}`: {text!r} is not a {ty_name}: {why}",
    )


def scalar(name, type_name, value):
    """A scalar from its JSON form (a list item) or its text (a parameter)."""
    try:
        if type_name == "Str":
            return value if isinstance(value, str) else json.dumps(value)
        if type_name == "Int":
            if isinstance(value, bool):
                raise ValueError("a boolean")
            return int(value)
        if type_name == "Float":
            return float(value)
        if type_name == "Bool":
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
            raise ValueError("expected `true` or `false`")
        if type_name == "Date":
            return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError) as e:
        raise _bad(name, type_name, value, e) from None
    raise StepError(errors.BAD_INPUT, f"input `{name}` has an unknown type `{type_name}`")


def _from_json(name, ty, value):
    kind = ty["kind"]
    if kind == "optional":
        return None if value is None else _from_json(name, ty["inner"], value)
    if kind == "list":
        if not isinstance(value, list):
            raise _bad(name, "list", value, "not a JSON list")
        return [_from_json(name, ty["item"], v) for v in value]
    if kind == "columns":
        return [str(v) for v in value]
    return scalar(name, ty["name"], value)


def load_param(name, ty, text):
    """A parameter's value from the text flowc passes."""
    kind = ty["kind"]
    if kind == "optional":
        return None if text == "" else load_param(name, ty["inner"], text)
    if kind in ("list", "columns"):
        try:
            value = json.loads(text)
        except ValueError as e:
            raise _bad(name, "JSON list", text, e) from None
        return _from_json(name, ty, value)
    return scalar(name, ty["name"], text)


def _list_items(name, text):
    """The paths of a list of artifacts: a JSON list (the host engine) or a folder with one
    entry per item, named by its zero-padded index (pods)."""
    if text.startswith("["):
        try:
            return [str(p) for p in json.loads(text)]
        except ValueError as e:
            raise _bad(name, "list of paths", text, e) from None
    if not os.path.isdir(text):
        return []
    return [os.path.join(text, entry) for entry in sorted(os.listdir(text))]


def load_input(name, ty, path, annotation):
    """An input artifact's value from its path; ``None`` when an optional one is absent."""
    kind = ty["kind"]
    if kind == "optional":
        if not path or not os.path.exists(path):
            return None
        return load_input(name, ty["inner"], path, annotation)
    if kind == "list":
        return [load_input(name, ty["item"], p, annotation) for p in _list_items(name, path)]
    if not path or not os.path.exists(path):
        raise StepError(errors.BAD_INPUT, f"input `{name}`: no file at {path!r}")
    if kind == "table":
        from flowc_step.tables import read_table

        return read_table(name, path, annotation)
    if kind in ("metrics",) or ty.get("name") == "Json":
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except ValueError as e:
            raise _bad(name, "JSON file", path, e) from None
    return pathlib.Path(path)
