"""Empirical ROC: Wilcoxon AUC, placement values, DeLong's variance, ROC points, accuracy with Wilson CIs.

Sources: Hanley & McNeil (1982) for the Wilcoxon AUC; DeLong, DeLong & Clarke-Pearson (1988) for its
variance from placement values; Wilson (1927) for the score interval of a proportion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]


def placement_values(positive: npt.ArrayLike, negative: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """DeLong's placement values of each positive and each negative case.

    Parameters
    ----------
    positive : array_like, shape (n1,)
        Ratings of the diseased (truth 1) cases; higher means more suspicious.
    negative : array_like, shape (n0,)
        Ratings of the non-diseased (truth 0) cases.

    Returns
    -------
    v10 : ndarray of float64, shape (n1,)
        For each positive case, the fraction of negatives rated lower (ties count ½).
    v01 : ndarray of float64, shape (n0,)
        For each negative case, the fraction of positives rated higher (ties count ½).
        ``v10.mean() == v01.mean()`` is the Wilcoxon AUC.

    Raises
    ------
    ValueError
        When either group is empty.
    """
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("the AUC needs at least one positive and one negative case")
    neg_sorted, pos_sorted = np.sort(neg), np.sort(pos)
    below = np.searchsorted(neg_sorted, pos, side="left")
    not_above = np.searchsorted(neg_sorted, pos, side="right")
    v10 = (below + 0.5 * (not_above - below)) / neg.size
    above = pos.size - np.searchsorted(pos_sorted, neg, side="right")
    not_below = pos.size - np.searchsorted(pos_sorted, neg, side="left")
    v01 = (above + 0.5 * (not_below - above)) / pos.size
    return v10, v01


def wilcoxon_auc(positive: npt.ArrayLike, negative: npt.ArrayLike) -> float:
    """Area under the empirical ROC curve (= Mann–Whitney U / (n1·n0), ties ½).

    Parameters
    ----------
    positive, negative : array_like
        Ratings of the diseased and non-diseased cases.

    Returns
    -------
    float
        The trapezoidal (Wilcoxon) AUC in [0, 1].
    """
    v10, _ = placement_values(positive, negative)
    return float(v10.mean())


@dataclass(frozen=True)
class AucEstimate:
    """One reader's Wilcoxon AUC with DeLong's standard error and a normal 95 % (or 1−alpha) CI."""

    auc: float
    std_err: float
    ci: tuple[float, float]
    positives: int
    negatives: int


def delong_auc(positive: npt.ArrayLike, negative: npt.ArrayLike, alpha: float = 0.05) -> AucEstimate:
    """Wilcoxon AUC with DeLong's variance ``S10/n1 + S01/n0`` (DeLong et al. 1988).

    Parameters
    ----------
    positive, negative : array_like
        Ratings of the diseased and non-diseased cases (each at least two for a variance).
    alpha : float
        Two-sided level of the confidence interval (normal quantile, clipped to [0, 1]).

    Returns
    -------
    AucEstimate
    """
    v10, v01 = placement_values(positive, negative)
    auc = float(v10.mean())
    s10 = float(v10.var(ddof=1)) if v10.size > 1 else 0.0
    s01 = float(v01.var(ddof=1)) if v01.size > 1 else 0.0
    se = float(np.sqrt(s10 / v10.size + s01 / v01.size))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return AucEstimate(auc, se, (max(0.0, auc - z * se), min(1.0, auc + z * se)), v10.size, v01.size)


def roc_points(positive: npt.ArrayLike, negative: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Operating points of the empirical ROC curve, from (0, 0) to (1, 1).

    Returns
    -------
    fpr, tpr : ndarray of float64, shape (m,)
        False- and true-positive fractions when "positive" is rating ≥ each distinct threshold,
        thresholds descending; joining them with straight lines gives the trapezoidal AUC.
    """
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    thresholds = np.unique(np.concatenate([pos, neg]))[::-1]
    tpr = np.array([0.0] + [float((pos >= t).mean()) for t in thresholds])
    fpr = np.array([0.0] + [float((neg >= t).mean()) for t in thresholds])
    return fpr, tpr


def wilson_ci(successes: int, total: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927); ``(nan, nan)`` when ``total`` is 0."""
    if total == 0:
        return (float("nan"), float("nan"))
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (float(centre - half), float(centre + half))
