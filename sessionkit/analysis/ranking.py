"""Challenge ranking of readers per contour metric, with bootstrap 95 % CIs over cases and rank stability.

As challenge reports print it (Maier-Hein et al. 2018; Wiesenfarth et al. 2021, challengeR's
"aggregate then rank"): each reader's score on a case is the mean of its rows against the reference on that
case (segments and images; NaN rows, i.e. distances to an empty mask, left out); readers are ranked by
their mean over cases (ties share the best rank). The bootstrap draws the cases with replacement
(``n_boot`` times, seeded, so the report is reproducible), recomputes every mean and the ranking, and gives
each reader's 95 % percentile CI of the mean, its median rank and rank 95 % interval; the ranking's
stability is Kendall's τ between the full-data ranking and each bootstrap ranking (median and 95 % range).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from sessionkit.analysis.contours import ContourRow

#: Metric -> True when a higher value is better.
RANKED_METRICS = {"dice": True, "surface_dice": True, "hd95_mm": False, "msd_mm": False}


def _ranks(means: np.ndarray[Any, np.dtype[np.float64]], higher_is_better: bool) -> np.ndarray[Any, Any]:
    """Rank 1 = best; ties share the best rank; a NaN mean ranks last."""
    keyed = np.where(np.isnan(means), np.inf, -means if higher_is_better else means)
    return np.asarray(stats.rankdata(keyed, method="min"))


def rank_readers(
    rows: Iterable[ContourRow], metric: str, *, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Rank readers on one metric of their rows against the reference (module docstring).

    Parameters
    ----------
    rows : iterable of ContourRow
        From :func:`sessionkit.analysis.contours.score_case`; only ``compared_to == "reference"`` rows
        of first reads count.
    metric : str
        A key of :data:`RANKED_METRICS`.
    n_boot : int
        Bootstrap resamples of the cases.
    seed : int
        Seed of the resampling.

    Returns
    -------
    dict
        ``{"metric", "higher_is_better", "cases", "bootstrap", "kendall_tau": {"median", "ci"},
        "readers": [{"reader_id", "mean", "ci", "rank", "median_rank", "rank_ci"}, ...]}`` in rank order;
        ``readers`` empty when there are no reference rows.
    """
    higher = RANKED_METRICS[metric]
    per_case: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        if row.compared_to == "reference" and row.read == 1:
            per_case[(row.reader_id, row.case_id)].append(float(getattr(row.metrics, metric)))
    readers = sorted({reader for reader, _ in per_case})
    cases = sorted({case for _, case in per_case})
    result: dict[str, Any] = {"metric": metric, "higher_is_better": higher, "cases": len(cases), "bootstrap": n_boot}
    if not readers:
        return {**result, "kendall_tau": {"median": None, "ci": [None, None]}, "readers": []}
    scores = np.full((len(readers), len(cases)), np.nan)
    for (reader, case), values in per_case.items():
        finite = [v for v in values if np.isfinite(v)]
        if finite:
            scores[readers.index(reader), cases.index(case)] = float(np.mean(finite))

    def means_of(columns: Sequence[int] | np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        chosen = scores[:, columns]
        counts = np.sum(np.isfinite(chosen), axis=1)
        sums = np.nansum(chosen, axis=1)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    means = means_of(np.arange(len(cases)))
    ranks = _ranks(means, higher)
    generator = np.random.default_rng(seed)
    boot_means = np.empty((n_boot, len(readers)))
    boot_ranks = np.empty((n_boot, len(readers)))
    taus = np.full(n_boot, np.nan)
    for b in range(n_boot):
        sample = generator.integers(0, len(cases), len(cases))
        boot_means[b] = means_of(sample)
        boot_ranks[b] = _ranks(boot_means[b], higher)
        if len(readers) > 1:
            taus[b] = stats.kendalltau(ranks, boot_ranks[b]).statistic
    finite_taus = taus[np.isfinite(taus)]
    tau = (
        {"median": float(np.median(finite_taus)), "ci": [float(v) for v in np.percentile(finite_taus, [2.5, 97.5])]}
        if finite_taus.size
        else {"median": None, "ci": [None, None]}
    )
    entries = []
    for k in np.argsort(ranks, kind="stable"):
        column = boot_means[:, k]
        column = column[np.isfinite(column)]
        entries.append(
            {
                "reader_id": readers[k],
                "mean": float(means[k]),
                "ci": [float(v) for v in np.percentile(column, [2.5, 97.5])] if column.size else [None, None],
                "rank": int(ranks[k]),
                "median_rank": float(np.median(boot_ranks[:, k])),
                "rank_ci": [float(v) for v in np.percentile(boot_ranks[:, k], [2.5, 97.5])],
            }
        )
    return {**result, "kendall_tau": tau, "readers": entries}


def ranking_table(rows: Sequence[ContourRow], *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """:func:`rank_readers` for every metric of :data:`RANKED_METRICS`."""
    return [rank_readers(rows, metric, n_boot=n_boot, seed=seed) for metric in RANKED_METRICS]
