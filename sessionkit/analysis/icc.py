"""Intraclass correlation in the six Shrout–Fleiss forms with their confidence intervals.

Sources: Shrout & Fleiss (1979) Psychol Bull 86:420 (forms, ICC(1,·) and ICC(3,·) intervals);
McGraw & Wong (1996) Psychol Methods 1:30 (the ICC(2,·) interval, Satterthwaite-type df).
ICC1 = one-way random, ICC2 = two-way random absolute agreement, ICC3 = two-way mixed consistency;
``k`` suffix = the mean of k raters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats


def icc_forms(ratings: npt.ArrayLike, alpha: float = 0.05) -> dict[str, dict[str, Any]]:
    """ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k), ICC(2,k), ICC(3,k) with (1 − alpha) confidence intervals.

    Parameters
    ----------
    ratings : array_like, shape (n_targets, k_raters)
        Complete ratings (no missing values), n ≥ 2 targets and k ≥ 2 raters.
    alpha : float
        Two-sided level of the intervals (default 0.05: 95 %).

    Returns
    -------
    dict
        ``{"ICC1": {"value": float, "ci": [lo, hi]}, "ICC2": …, "ICC3": …, "ICC1k": …, "ICC2k": …, "ICC3k": …}``.

    Raises
    ------
    ValueError
        Fewer than 2 targets or raters, or a missing value.
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or np.isnan(x).any():
        raise ValueError(f"ICC needs a complete targets × raters table (n, k ≥ 2); got shape {x.shape}")
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    ss_total = float(((x - grand) ** 2).sum())
    msr = ss_rows / (n - 1)
    msw = (ss_total - ss_rows) / (n * (k - 1))
    msc = ss_cols / (k - 1)
    mse = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    df1, df_w, df_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    q = 1 - alpha / 2

    icc1 = (msr - msw) / (msr + (k - 1) * msw)
    icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    icc3 = (msr - mse) / (msr + (k - 1) * mse)
    f1, f3 = msr / msw, msr / mse
    f1l, f1u = f1 / stats.f.ppf(q, df1, df_w), f1 * stats.f.ppf(q, df_w, df1)
    f3l, f3u = f3 / stats.f.ppf(q, df1, df_e), f3 * stats.f.ppf(q, df_e, df1)
    fc = msc / mse
    vn = df_e * (k * icc2 * fc + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df1 * k**2 * icc2**2 * fc**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u, f2l = stats.f.ppf(q, df1, v), stats.f.ppf(q, v, df1)
    l2 = n * (msr - f2u * mse) / (f2u * (k * msc + (k * n - k - n) * mse) + n * msr)
    u2 = n * (f2l * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f2l * msr)

    def form(value: float, lo: float, hi: float) -> dict[str, Any]:
        return {"value": float(value), "ci": [float(lo), float(hi)]}

    return {
        "ICC1": form(icc1, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        "ICC2": form(icc2, l2, u2),
        "ICC3": form(icc3, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        "ICC1k": form((msr - msw) / msr, 1 - 1 / f1l, 1 - 1 / f1u),
        "ICC2k": form((msr - mse) / (msr + (msc - mse) / n), l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
        "ICC3k": form((msr - mse) / msr, 1 - 1 / f3l, 1 - 1 / f3u),
    }
