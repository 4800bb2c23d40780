"""Ranking readers per contour metric with bootstrap CIs over cases and rank stability (challenge reports)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sessionkit.analysis.contour_metrics import ContourMetrics
from sessionkit.analysis.contours import ContourRow
from sessionkit.analysis.ranking import rank_readers


def row(reader: str, case: str, dice: float, hd95: float = 1.0, compared_to: str = "reference") -> ContourRow:
    metrics = ContourMetrics(dice, dice, 1.0, 1.0, 0.0, hd95, hd95, hd95, dice, 2.0)
    return ContourRow(reader, "arm", 1, case, f"P{case}", f"P{case}", "CT", "tumor", compared_to, metrics)


def scores() -> dict[str, list[float]]:
    rng = np.random.default_rng(7)
    return {"ann": list(0.9 + 0.02 * rng.standard_normal(20)), "ben": list(0.6 + 0.2 * rng.standard_normal(20)),
            "cem": list(0.58 + 0.2 * rng.standard_normal(20))}  # fmt: skip


def test_means_ranks_and_bootstrap_cis_over_cases() -> None:
    values = scores()
    rows = [row(r, str(k), v) for r, vs in values.items() for k, v in enumerate(vs)]
    rows.append(row("ann", "0", 0.0, compared_to="ben"))  # pairs are not ranked
    result = rank_readers(rows, "dice", n_boot=500, seed=3)
    by_mean = sorted(values, key=lambda reader: -np.mean(values[reader]))
    assert by_mean[0] == "ann"
    assert result["cases"] == 20 and [e["reader_id"] for e in result["readers"]] == by_mean
    assert [e["rank"] for e in result["readers"]] == [1, 2, 3]
    # the percentile bootstrap, recomputed here case by case with the same draws
    generator = np.random.default_rng(3)
    draws = [generator.integers(0, 20, 20) for _ in range(500)]
    for entry in result["readers"]:
        case_order = sorted(str(k) for k in range(20))  # cases are taken in sorted order
        own = np.array([values[entry["reader_id"]][int(case)] for case in case_order])
        assert entry["mean"] == pytest.approx(own.mean())
        boot = [own[d].mean() for d in draws]
        assert entry["ci"] == pytest.approx(list(np.percentile(boot, [2.5, 97.5])))
    first = result["readers"][0]
    assert first["rank"] == 1 and first["rank_ci"] == [1.0, 1.0]
    # ben and cem are close: their ranks swap in some resamples, so the ranking is not perfectly stable
    assert result["readers"][1]["rank_ci"][1] > 2.0 and result["kendall_tau"]["ci"][0] < 1.0


def test_lower_is_better_for_distances_and_nan_cases_are_left_out() -> None:
    rows = [row("ann", str(k), 0.8, hd95=2.0 + k) for k in range(5)]
    rows += [row("ben", str(k), 0.8, hd95=1.0 if k else math.nan) for k in range(5)]
    result = rank_readers(rows, "hd95_mm", n_boot=50)
    assert [(e["reader_id"], e["rank"], e["mean"]) for e in result["readers"]] == [("ben", 1, 1.0), ("ann", 2, 4.0)]
    assert result["higher_is_better"] is False and result["kendall_tau"]["median"] == 1.0


def test_no_reference_rows_rank_nobody() -> None:
    result = rank_readers([row("ann", "1", 0.5, compared_to="ben")], "dice")
    assert result["readers"] == [] and result["cases"] == 0
