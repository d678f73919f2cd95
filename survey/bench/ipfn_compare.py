"""Times Python `ipfn` on the task of `builtins/bench/whole_process.flow`.

The task, as `flowc run` does it: generate a synthetic panel of n rows
(panelist id; sex, age group, region and education as labelled categorical
columns with 2, 6, 8 and 4 levels, unequal correlated marginals; whether the
panelist watched television and for how long), rake it on the four variables
to the population shares, starting from weights of 1, until the largest
relative marginal error is below 1e-6 (ipfn's `convergence_rate`, with
`rate_tolerance=0` so it does not stop early), and store the weighted panel
as a Parquet file (zstd, dictionary-encoded categorical columns, as flowc
stores its tables).

ipfn rakes a pandas DataFrame with the level codes as integer columns, its
fastest input; the labels are attached (as pandas categoricals, without
copying the codes) only to write the result.

Usage: python ipfn_compare.py N [N ...]
Prints one line per N: time to generate, rake (sweeps, achieved error) and
write, each measured inside the process (`run_ipfn.sh` adds the whole
process, interpreter start and imports included).
"""

import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from ipfn import ipfn

# Same distributions as flowc_survey::synth.
PANEL_AGE = [0.07, 0.11, 0.15, 0.19, 0.21, 0.27]
PANEL_REGION = [0.10, 0.12, 0.14, 0.15, 0.10, 0.14, 0.12, 0.13]
FEMALE_BY_AGE = [0.50, 0.53, 0.55, 0.56, 0.57, 0.60]
EDUCATION_BY_AGE = [
    [0.10, 0.45, 0.15, 0.30],
    [0.06, 0.30, 0.19, 0.45],
    [0.08, 0.32, 0.20, 0.40],
    [0.12, 0.36, 0.20, 0.32],
    [0.18, 0.38, 0.18, 0.26],
    [0.30, 0.38, 0.14, 0.18],
]
ACTIVE_BY_AGE = [0.55, 0.62, 0.68, 0.74, 0.80, 0.86]
MINUTES_BY_EDUCATION = [1.20, 1.05, 1.00, 0.80]
MINUTES_BY_REGION = [1.00, 1.05, 0.90, 1.00, 1.02, 1.00, 0.98, 0.97]
POP = {
    "sex": [0.486, 0.514],
    "age_group": [0.135, 0.150, 0.155, 0.165, 0.160, 0.235],
    "region": [0.09, 0.10, 0.19, 0.13, 0.09, 0.12, 0.13, 0.15],
    "education": [0.20, 0.38, 0.17, 0.25],
}
LABELS = {
    "sex": ["male", "female"],
    "age_group": ["15-24", "25-34", "35-44", "45-54", "55-64", "65+"],
    "region": [
        "north-west",
        "north-east",
        "capital",
        "west",
        "east",
        "centre",
        "south-west",
        "south-east",
    ],
    "education": ["primary", "secondary", "vocational", "tertiary"],
}


def panel(n, seed=1):
    """The panel, its categorical variables as integer codes."""
    rng = np.random.default_rng(seed)
    age = rng.choice(6, size=n, p=PANEL_AGE)
    sex = (rng.random(n) < np.take(FEMALE_BY_AGE, age)).astype(np.int64)
    region = rng.choice(8, size=n, p=PANEL_REGION)
    cum = np.cumsum(EDUCATION_BY_AGE, axis=1)
    education = (rng.random(n)[:, None] >= cum[age]).sum(axis=1).clip(0, 3)
    active = rng.random(n) < np.take(ACTIVE_BY_AGE, age)
    median = (
        (80.0 + 28.0 * age)
        * np.where(sex == 1, 1.08, 1.0)
        * np.take(MINUTES_BY_EDUCATION, education)
        * np.take(MINUTES_BY_REGION, region)
    )
    minutes = np.where(
        active, np.minimum(median * np.exp(0.55 * rng.standard_normal(n)), 1440.0), 0.0
    )
    return pd.DataFrame(
        {
            "panelist_id": np.arange(1, n + 1, dtype=np.int64),
            "sex": sex,
            "age_group": age,
            "region": region,
            "education": education,
            "active": active,
            "minutes": minutes,
            "total": np.ones(n),
        }
    )


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
    out_dir = tempfile.mkdtemp(prefix="ipfn-compare-")
    for n in sizes:
        t0 = time.perf_counter()
        df = panel(n)
        total = df["total"].sum()
        names = list(POP)
        aggregates = [
            pd.Series(np.array(POP[v]) * total, index=pd.Index(range(len(POP[v])), name=v))
            for v in names
        ]
        dimensions = [[v] for v in names]
        t1 = time.perf_counter()
        fit = ipfn.ipfn(
            df,
            aggregates,
            dimensions,
            weight_col="total",
            convergence_rate=1e-6,
            max_iteration=1000,
            rate_tolerance=0.0,
            verbose=2,
        )
        out, converged, conv = fit.iteration()
        t2 = time.perf_counter()
        # The columns in the panel's order, as flowc writes them.
        columns = ["panelist_id", *names, "active", "minutes", "total"]
        weighted = out[columns].rename(columns={"total": "weight"})
        for v in names:
            weighted[v] = pd.Categorical.from_codes(weighted[v], categories=LABELS[v])
        path = os.path.join(out_dir, f"weights-{n}.parquet")
        weighted.to_parquet(path, compression="zstd", index=False)
        t3 = time.perf_counter()
        err = 0.0
        for v, agg in zip(names, aggregates):
            m = out.groupby(v)["total"].sum()
            err = max(err, float((m / agg - 1.0).abs().max()))
        os.remove(path)
        print(
            f"ipfn n={n}: generate {t1 - t0:.3f} s, rake {t2 - t1:.3f} s "
            f"({len(conv)} sweeps, converged={converged}, max rel error {err:.2e}), "
            f"write {t3 - t2:.3f} s",
            flush=True,
        )
    os.rmdir(out_dir)


if __name__ == "__main__":
    main()
