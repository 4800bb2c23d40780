"""Accuracy and ROC against the reference standard (analysis.md §3.2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from sessionkit.analysis.accuracy import accuracy_table
from sessionkit.analysis.answers import collect_answers, select_rating
from sessionkit.analysis.design import read_design
from sessionkit.analysis.ratings import read_mrmc_ratings
from sessionkit.analysis.roc import delong_auc, placement_values, roc_points, wilcoxon_auc, wilson_ci
from tests.analysis._study import RATINGS, TRUTH, Study

VANDYKE = Path(__file__).resolve().parent.parent / "data" / "mrmc" / "vandyke.imrmc"


def test_wilcoxon_auc_is_mann_whitney_and_the_trapezoid_under_the_roc() -> None:
    table = read_mrmc_ratings(VANDYKE)  # five-point ratings: many ties
    for t in range(2):
        for r in range(5):
            pos, neg = table.scores[t, r, table.truth == 1], table.scores[t, r, table.truth == 0]
            u = stats.mannwhitneyu(pos, neg).statistic
            auc = wilcoxon_auc(pos, neg)
            assert auc == pytest.approx(u / (pos.size * neg.size), abs=1e-12)
            fpr, tpr = roc_points(pos, neg)
            assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
            assert np.trapezoid(tpr, fpr) == pytest.approx(auc, abs=1e-12)


def test_delong_variance_from_brute_force_placement_values() -> None:
    table = read_mrmc_ratings(VANDYKE)
    pos, neg = table.scores[1, 4, table.truth == 1], table.scores[1, 4, table.truth == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = placement_values(pos, neg)
    assert np.allclose(v10, psi.mean(axis=1)) and np.allclose(v01, psi.mean(axis=0))
    estimate = delong_auc(pos, neg)
    variance = psi.mean(axis=1).var(ddof=1) / pos.size + psi.mean(axis=0).var(ddof=1) / neg.size
    assert estimate.std_err == pytest.approx(np.sqrt(variance), abs=1e-12)
    assert estimate.auc == pytest.approx(0.92995169, abs=5e-9)  # OR-DBM's reader 5, modality 2
    z = stats.norm.ppf(0.975)
    assert estimate.ci == pytest.approx((estimate.auc - z * estimate.std_err, estimate.auc + z * estimate.std_err))


@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_equals_newcombe_1998_and_statsmodels(
    successes: int, total: int, low: float, high: float
) -> None:
    lo, hi = wilson_ci(successes, total)
    assert (round(lo, 4), round(hi, 4)) == (low, high)  # Newcombe (1998) Stat Med 17:857, Table II
    expected = proportion_confint(successes, total, method="wilson")
    assert (lo, hi) == pytest.approx(expected, abs=1e-12)


def test_reader_accuracy_from_the_study_runs(study: Study) -> None:
    answers = select_rating(collect_answers([study.root], read_design(study.design)).answers, "Malignancy")
    rows = {(r.reader, r.modality): r for r in accuracy_table(answers, positive_from=4)}
    assert len(rows) == 6
    for reader, ratings in RATINGS.items():
        for modality in ("CT", "AI"):
            row = rows[(reader, modality)]
            calls = {case: ratings[f"{modality}{case}"][0] >= 4 for case in TRUTH}
            tp = sum(calls[c] for c, t in TRUTH.items() if t == 1)
            tn = sum(not calls[c] for c, t in TRUTH.items() if t == 0)
            assert row.sensitivity is not None and row.specificity is not None
            assert (row.sensitivity.successes, row.sensitivity.total) == (tp, 2)
            assert (row.specificity.successes, row.specificity.total) == (tn, 2)
            assert row.accuracy.value == (tp + tn) / 4
            scores = {case: ratings[f"{modality}{case}"][0] for case in TRUTH}
            assert row.auc == wilcoxon_auc([scores["3"], scores["4"]], [scores["1"], scores["2"]])


def test_category_truth_gives_accuracy_only(study: Study, tmp_path: Path) -> None:
    design = tmp_path / "design.csv"
    design.write_text("page_id,case_id,truth\nCT1,1,mass\nCT2,2,none\n", encoding="utf-8")
    answers = select_rating(collect_answers([study.root], read_design(design)).answers, "Findings")
    rows = {r.reader: r for r in accuracy_table(answers)}
    # alice: CT1 none (wrong: truth mass), CT2 mass (wrong); bob: none, none (1 of 2); carol: none, mass (0 of 2)
    assert rows["bob"].accuracy.successes == 1 and rows["bob"].accuracy.total == 2
    assert rows["alice"].accuracy.successes == 0 and rows["alice"].sensitivity is None and rows["alice"].auc is None
