"""Times Python `ipfn` raking a synthetic panel held in a pandas DataFrame.

The panel has the shapes of flowc-survey's benchmark (`cargo bench -p
flowc-survey`): n rows, 4 variables with 2, 6, 8 and 4 levels, unequal
correlated marginals, regional base weights, population share targets, and a
convergence criterion of 1e-6 maximum relative marginal error (ipfn's
`convergence_rate`, with `rate_tolerance=0` so it does not stop early).

Usage: python ipfn_compare.py N [N ...]
Prints one line per N: generation time, raking time, sweeps, achieved error.
"""

import sys
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
POP = {
    "sex": [0.486, 0.514],
    "age_group": [0.135, 0.150, 0.155, 0.165, 0.160, 0.235],
    "region": [0.09, 0.10, 0.19, 0.13, 0.09, 0.12, 0.13, 0.15],
    "education": [0.20, 0.38, 0.17, 0.25],
}


def panel(n, seed=1):
    rng = np.random.default_rng(seed)
    age = rng.choice(6, size=n, p=PANEL_AGE)
    sex = (rng.random(n) < np.take(FEMALE_BY_AGE, age)).astype(np.int64)
    region = rng.choice(8, size=n, p=PANEL_REGION)
    cum = np.cumsum(EDUCATION_BY_AGE, axis=1)
    education = (rng.random(n)[:, None] >= cum[age]).sum(axis=1).clip(0, 3)
    region_w = 1.0 + 0.5 * (np.array(POP["region"]) / np.array(PANEL_REGION) - 1.0)
    return pd.DataFrame(
        {
            "sex": sex,
            "age_group": age,
            "region": region,
            "education": education,
            "total": region_w[region],
        }
    )


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
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
        err = 0.0
        for v, agg in zip(names, aggregates):
            m = out.groupby(v)["total"].sum()
            err = max(err, float((m / agg - 1.0).abs().max()))
        print(
            f"ipfn n={n}: generate {t1 - t0:.3f} s, rake {t2 - t1:.3f} s, "
            f"{len(conv)} sweeps, converged={converged}, max rel error {err:.2e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
