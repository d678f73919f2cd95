"""The data-path benchmark's peer: `bench/data_path.flow` written by hand with pyarrow + numpy.

Reads the panel (a Parquet file), rakes it on sex, age_group, region and education to the
population shares of the targets file (`variable`, `level`, `share`) until the largest relative
marginal error `|margin - target| / target` is below 1e-6, on the cell table (the rows grouped
by their tuple of level codes, as flowc's `rake` does), and writes the panel with a `weight`
column added as Parquet (zstd; pyarrow keeps the categorical columns dictionary-encoded).

Usage: python data_path.py PANEL TARGETS OUT
"""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BY = ["sex", "age_group", "region", "education"]
TOLERANCE = 1e-6
MAX_SWEEPS = 1000


def codes(column):
    """A categorical column's level codes (int64) and labels."""
    array = column.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    return array.indices.to_numpy(zero_copy_only=False).astype(np.int64), array.dictionary.to_pylist()


def main(panel_path, targets_path, out_path):
    panel = pq.read_table(panel_path)
    targets = pq.read_table(targets_path).to_pydict()
    n = panel.num_rows
    shape, cell, shares = [], np.zeros(n, dtype=np.int64), []
    for v in BY:
        c, labels = codes(panel.column(v))
        share_of = {
            level: share
            for variable, level, share in zip(targets["variable"], targets["level"], targets["share"])
            if variable == v
        }
        shares.append(np.array([share_of[label] for label in labels]) * n)
        cell = cell * len(labels) + c
        shape.append(len(labels))
    counts = np.bincount(cell, minlength=int(np.prod(shape))).astype(np.float64).reshape(shape)
    fitted = counts.copy()
    axes = range(len(BY))
    for sweep in range(1, MAX_SWEEPS + 1):
        for k in axes:
            margin = fitted.sum(axis=tuple(a for a in axes if a != k))
            factor = np.divide(shares[k], margin, out=np.zeros_like(margin), where=margin > 0)
            fitted *= factor.reshape([-1 if a == k else 1 for a in axes])
        error = max(
            np.max(np.abs(fitted.sum(axis=tuple(a for a in axes if a != k)) - shares[k]) / shares[k])
            for k in axes
        )
        if error < TOLERANCE:
            break
    else:
        sys.exit(f"error: not converged after {MAX_SWEEPS} sweeps (max relative error {error})")
    per_row = np.divide(fitted, counts, out=np.zeros_like(fitted), where=counts > 0).ravel()
    weighted = panel.append_column("weight", pa.array(per_row[cell]))
    pq.write_table(weighted, out_path, compression="zstd")
    print(f"{n} rows, {sweep} sweeps, max relative error {error:.2e}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
