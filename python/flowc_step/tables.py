"""Tables in and out: Parquet files read as the DataFrame a function asks for, and returned
tables checked against their declared schema and written as Parquet.

A function receives a pandas ``DataFrame`` unless the parameter's annotation names a polars
``DataFrame`` (``pl.DataFrame``) or a pyarrow ``Table`` (``pa.Table``). It may return any of
the three. The returned table must have every declared column, each of its declared type or a
lossless widening of it (any integer type that fits into ``Int``; an integer or ``float32``
column where ``Float`` is declared; ``large_string``, ``string_view`` or a dictionary of strings
(pandas ``category``) where ``Str`` is; ``date64``, or a timestamp whose times are all midnight,
where ``Date`` is; floats that are all whole numbers where ``Int`` is, as pandas holds an integer
column with missing values; a column of nulls anywhere), and no null in a column declared without ``?``.
Extra columns are dropped, as a table with more columns is a table of the declared schema
(flowc's width rule) and as the built-in steps do. The file written holds exactly the declared
columns, in the declared order, with exactly their types, row groups of 262,144 rows, zstd
compression and no pandas metadata, so the same table gives the same bytes.
"""

import inspect
import os

from flowc_step import errors
from flowc_step.errors import StepError

#: Rows per Parquet row group (the built-in steps' figure).
ROW_GROUP_SIZE = 262_144


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 (loads the submodule)
    except ImportError:
        raise StepError(
            errors.MISSING_PACKAGE,
            "pyarrow is not installed in the interpreter that runs the step",
            "`pip install pyarrow` into it (the step's image, or the interpreter `flowc run --python` uses)",
        ) from None
    return pyarrow


def frame_kind(annotation):
    """``"pandas"``, ``"polars"`` or ``"arrow"``: the kind of table a parameter asks for."""
    if annotation is None or annotation is inspect.Parameter.empty:
        return "pandas"
    text = annotation if isinstance(annotation, str) else repr(annotation)
    module = getattr(annotation, "__module__", "") or ""
    if module.startswith("polars") or "polars" in text or "pl." in text:
        return "polars"
    if module.startswith("pyarrow") or "pyarrow" in text or "pa." in text:
        return "arrow"
    return "pandas"


def _import_frame_library(kind, name):
    package = {"pandas": "pandas", "polars": "polars"}[kind]
    try:
        return __import__(package)
    except ImportError:
        raise StepError(
            errors.MISSING_PACKAGE,
            f"input `{name}` is wanted as a {package} DataFrame, but {package} is not installed",
            f"`pip install {package}` into the interpreter that runs the step, or annotate the "
            "parameter `pa.Table` to get a pyarrow table",
        ) from None


def _plain_strings(table):
    pa = _pyarrow()
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def read_table(name, path, annotation):
    """The table at ``path`` as the kind of table the parameter's annotation asks for."""
    pa = _pyarrow()
    try:
        # One file, read whole: `ParquetFile` rather than `read_table`, which goes through
        # pyarrow.dataset and pyarrow.compute (a quarter of a second to import).
        table = pa.parquet.ParquetFile(path).read()
    except (OSError, pa.ArrowException) as e:
        raise StepError(errors.BAD_INPUT, f"input `{name}` is not a Parquet table: {e}") from None
    table = _plain_strings(table).replace_schema_metadata(None)
    kind = frame_kind(annotation)
    if kind == "arrow":
        return table
    library = _import_frame_library(kind, name)
    if kind == "polars":
        return library.from_arrow(table)
    return table.to_pandas()


def _as_arrow(output, value):
    """A returned table as a pyarrow Table, or a P104 when it is no table."""
    pa = _pyarrow()
    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    module = type(value).__module__ or ""
    if module.startswith("polars") and hasattr(value, "to_arrow"):
        return value.to_arrow()
    if module.startswith("pandas") and hasattr(value, "columns"):
        return _from_pandas(output, value)
    raise StepError(
        errors.RETURN_SHAPE,
        f"output `{output}` must be a table (a pandas or polars DataFrame, or a pyarrow Table), "
        f"but the function returned {type(value).__name__}",
    )


def _from_pandas(output, frame):
    pa = _pyarrow()
    arrays, names = [], []
    for column in frame.columns:
        series = frame[column]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowException, TypeError, ValueError) as e:
            row = _first_odd_row(series)
            raise StepError(
                errors.TABLE_SCHEMA,
                f"column `{column}` of output `{output}` mixes types: row {row} holds "
                f"{series.iloc[row]!r} ({e})",
                "give every row of the column the same type",
            ) from None
        names.append(str(column))
    return pa.table(arrays, names=names)


def _first_odd_row(series):
    """The first row whose Python type differs from the first non-null row's."""
    first = None
    for i, v in enumerate(series.tolist()):
        if v is None:
            continue
        if first is None:
            first = type(v)
        elif type(v) is not first:
            return i
    return 0


def _target(pa, type_name):
    return {
        "Str": pa.string(),
        "Int": pa.int64(),
        "Float": pa.float64(),
        "Bool": pa.bool_(),
        "Date": pa.date32(),
    }[type_name]


def _widens(pa, have, type_name):
    """Whether a column of arrow type ``have`` converts losslessly to ``type_name``."""
    t = pa.types
    if t.is_null(have):
        return True
    if type_name == "Str":
        return (
            t.is_string(have)
            or t.is_large_string(have)
            or getattr(t, "is_string_view", lambda _: False)(have)
            or (t.is_dictionary(have) and _widens(pa, have.value_type, "Str"))
        )
    if type_name == "Int":
        return t.is_integer(have)
    if type_name == "Float":
        return t.is_integer(have) or t.is_float16(have) or t.is_float32(have) or t.is_float64(have)
    if type_name == "Bool":
        return t.is_boolean(have)
    if type_name == "Date":
        return t.is_date(have) or t.is_timestamp(have)
    return False


def _flowc_name(pa, t):
    """A column's Arrow type in flowc's words where there are some."""
    for type_name in ("Int", "Float", "Str", "Bool", "Date"):
        if _widens(pa, t, type_name) and not pa.types.is_null(t):
            return f"{type_name} values"
    return f"values of type {t}"


def _first_row(column, predicate):
    for i, v in enumerate(column.to_pylist()):
        if predicate(v):
            return i, v
    return 0, None


def _conform_column(pa, output, table, col):
    name, type_name, nullable = col["name"], col["type"], col.get("nullable", False)
    if name not in table.column_names:
        present = ", ".join(f"`{c}`" for c in table.column_names) or "none"
        raise StepError(
            errors.TABLE_SCHEMA,
            f"output `{output}` has no column `{name}` (its columns: {present})",
            f"add `{name}` ({type_name}) to the table the function returns",
        )
    column = table.column(name)
    wanted = _target(pa, type_name)
    if type_name == "Int" and pa.types.is_floating(column.type):
        # pandas holds an integer column with a missing value as floats (NaN for the null).
        column = _integral(pa, output, name, column)
    if not _widens(pa, column.type, type_name):
        row, value = _first_row(column, lambda v: v is not None)
        raise StepError(
            errors.TABLE_SCHEMA,
            f"column `{name}` of output `{output}` holds {_flowc_name(pa, column.type)}, not "
            f"{type_name} (first value, row {row}: {value!r})",
            f"convert the column to {type_name} before returning, or declare its type in the schema",
        )
    if pa.types.is_timestamp(column.type):
        column = _midnight_dates(pa, output, name, column)
    try:
        # A cast imports pyarrow.compute: only when the type differs.
        if column.type != wanted:
            column = column.cast(wanted, safe=True)
    except pa.ArrowException as e:
        raise StepError(
            errors.TABLE_SCHEMA,
            f"column `{name}` of output `{output}` does not fit {type_name}: {e}",
        ) from None
    if not nullable and column.null_count:
        row, _ = _first_row(column, lambda v: v is None)
        raise StepError(
            errors.TABLE_SCHEMA,
            f"column `{name}` of output `{output}` has a null at row {row}, but it is "
            f"declared `{type_name}`, not `{type_name}?`",
            f"fill the missing values, or declare the column `{name}: {type_name}?`",
        )
    return pa.field(name, wanted, nullable=nullable), column


def _integral(pa, output, name, column):
    """A float column whose values are all whole numbers, as integers (nulls kept)."""
    import pyarrow.compute as pc

    fraction = pc.not_equal(pc.floor(column), column)
    if pc.any(fraction).as_py():
        row, value = _first_row(fraction, bool)
        raise StepError(
            errors.TABLE_SCHEMA,
            f"column `{name}` of output `{output}` is declared Int but row {row} holds "
            f"{column[row].as_py()!r}",
            "round the values, or declare the column Float",
        )
    return column.cast(pa.int64(), safe=True)


def _midnight_dates(pa, output, name, column):
    import pyarrow.compute as pc

    times = pc.cast(column, pa.timestamp("us"))
    dates = pc.cast(times, pa.date32())
    back = pc.cast(pc.cast(dates, pa.timestamp("us")), times.type)
    odd = pc.not_equal(back, times)
    if pc.any(odd).as_py():
        row, _ = _first_row(odd, bool)
        raise StepError(
            errors.TABLE_SCHEMA,
            f"column `{name}` of output `{output}` is declared Date but row {row} holds a time "
            f"of day ({column[row].as_py()!r})",
            "drop the time (`.dt.normalize()` in pandas, `.dt.date()` in polars) before returning",
        )
    return dates


def conform(output, ty, value):
    """The returned table as exactly the declared columns (see the module's documentation)."""
    pa = _pyarrow()
    table = _as_arrow(output, value)
    fields, columns = [], []
    for col in ty.get("columns", []):
        field, column = _conform_column(pa, output, table, col)
        fields.append(field)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def write_table(table, path):
    """Writes ``table`` as Parquet at ``path`` (whole, or not at all)."""
    pa = _pyarrow()
    tmp = f"{path}.partial"
    pa.parquet.write_table(
        table.combine_chunks(),
        tmp,
        row_group_size=ROW_GROUP_SIZE,
        compression="zstd",
        write_statistics=True,
    )
    os.replace(tmp, path)
