"""Weight trimming and its report over DataFrames (features/python_steps.flow)."""

import pandas as pd
import polars as pl


def trim_weights(weights: pd.DataFrame, cap: float = 3.0) -> pd.DataFrame:
    """Caps each weight at `cap` times the mean weight and rescales the others so that the
    total is unchanged; adds the factor applied to each row as `trim_factor`."""
    mean = weights["weight"].mean()
    capped = weights["weight"].clip(upper=cap * mean)
    rest = weights["weight"] > cap * mean
    free_total = weights["weight"].sum() - capped[rest].sum()
    scale = free_total / capped[~rest].sum() if (~rest).any() else 1.0
    trimmed = capped.where(rest, capped * scale)
    out = weights.copy()
    out["trim_factor"] = trimmed / weights["weight"]
    out["weight"] = trimmed
    return out


def trim_report(trimmed: pl.DataFrame) -> dict:
    """Metrics of a trimmed table, computed with polars: rows, trimmed rows, largest weight."""
    return {
        "rows": trimmed.height,
        "trimmed": int((trimmed["trim_factor"] < 0.999999).sum()),
        "max_weight": float(trimmed["weight"].max()),
    }
