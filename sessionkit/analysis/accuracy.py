"""Accuracy against the reference standard, per reader and modality (analysis.md §3.2).

Sensitivity, specificity, PPV, NPV and accuracy with Wilson 95 % CIs; the empirical ROC curve and its
trapezoidal (= Wilcoxon) AUC with DeLong's standard error. A ``truth`` of 0/1 is disease absent/present;
any other truth is a category label compared with the answer (accuracy only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sessionkit.analysis.answers import FinalAnswer
from sessionkit.analysis.roc import delong_auc, roc_points, wilson_ci


@dataclass(frozen=True)
class Proportion:
    """``successes`` of ``total`` with its Wilson interval; ``value`` is NaN when ``total`` is 0."""

    successes: int
    total: int
    ci: tuple[float, float]

    @property
    def value(self) -> float:
        return self.successes / self.total if self.total else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "successes": self.successes, "total": self.total, "ci": list(self.ci)}


def proportion(successes: int, total: int, alpha: float = 0.05) -> Proportion:
    """A proportion with its Wilson score interval."""
    return Proportion(successes, total, wilson_ci(successes, total, alpha))


@dataclass(frozen=True)
class ReaderAccuracy:
    """One reader in one modality: counts, proportions and (binary truth, numeric rating) the ROC."""

    reader: str
    modality: str
    cases: int
    accuracy: Proportion
    sensitivity: Proportion | None = None
    specificity: Proportion | None = None
    ppv: Proportion | None = None
    npv: Proportion | None = None
    auc: float | None = None
    auc_std_err: float | None = None
    auc_ci: tuple[float, float] | None = None
    roc: tuple[list[float], list[float]] | None = None

    def to_json(self) -> dict[str, Any]:
        def part(p: Proportion | None) -> dict[str, Any] | None:
            return p.to_json() if p else None

        return {
            "reader": self.reader,
            "modality": self.modality,
            "cases": self.cases,
            "accuracy": part(self.accuracy),
            "sensitivity": part(self.sensitivity),
            "specificity": part(self.specificity),
            "ppv": part(self.ppv),
            "npv": part(self.npv),
            "auc": self.auc,
            "auc_std_err": self.auc_std_err,
            "auc_ci": list(self.auc_ci) if self.auc_ci else None,
            "roc": {"fpr": self.roc[0], "tpr": self.roc[1]} if self.roc else None,
        }


def _binary(truths: Sequence[str]) -> bool:
    return all(t in ("0", "1") for t in truths)


def reader_accuracy(
    reader: str,
    modality: str,
    answers: Sequence[FinalAnswer],
    positive_from: float | None = None,
    alpha: float = 0.05,
) -> ReaderAccuracy:
    """Accuracy and ROC of one reader's answers to one question in one modality.

    Parameters
    ----------
    answers : sequence of FinalAnswer
        Answers with a design ``truth``.
    positive_from : float, optional
        With 0/1 truth: a rating ≥ this is a positive call (sensitivity, specificity, PPV, NPV,
        accuracy). Without it only the ROC is computed for 0/1 truth.
    alpha : float
        Two-sided level of every interval.
    """
    truths = [a.truth for a in answers]
    if not _binary(truths):
        correct = sum(a.answer == a.truth for a in answers)
        return ReaderAccuracy(reader, modality, len(answers), proportion(correct, len(answers), alpha))
    ratings = [(a.answer_numeric, a.truth == "1") for a in answers if a.answer_numeric is not None]
    positives = [r for r, diseased in ratings if diseased]
    negatives = [r for r, diseased in ratings if not diseased]
    roc = auc = se = ci = None
    if positives and negatives:
        estimate = delong_auc(positives, negatives, alpha)
        auc, se, ci = estimate.auc, estimate.std_err, estimate.ci
        fpr, tpr = roc_points(positives, negatives)
        roc = ([float(x) for x in fpr], [float(y) for y in tpr])
    if positive_from is None:
        return ReaderAccuracy(
            reader, modality, len(answers), proportion(0, 0), auc=auc, auc_std_err=se, auc_ci=ci, roc=roc
        )
    tp = sum(r >= positive_from for r in positives)
    fn = len(positives) - tp
    fp = sum(r >= positive_from for r in negatives)
    tn = len(negatives) - fp
    return ReaderAccuracy(
        reader,
        modality,
        len(answers),
        accuracy=proportion(tp + tn, len(ratings), alpha),
        sensitivity=proportion(tp, tp + fn, alpha),
        specificity=proportion(tn, tn + fp, alpha),
        ppv=proportion(tp, tp + fp, alpha),
        npv=proportion(tn, tn + fn, alpha),
        auc=auc,
        auc_std_err=se,
        auc_ci=ci,
        roc=roc,
    )


def accuracy_table(
    answers: Sequence[FinalAnswer], positive_from: float | None = None, alpha: float = 0.05
) -> list[ReaderAccuracy]:
    """:func:`reader_accuracy` for every (reader, modality) of one question's answers on design cases
    (first read, original page instances), readers and modalities in order of appearance."""
    groups: dict[tuple[str, str], list[FinalAnswer]] = defaultdict(list)
    for a in answers:
        if a.case_id and a.truth and a.read == 1 and a.repetition == 0:
            groups[(a.reader_id, a.modality)].append(a)
    return [reader_accuracy(r, m, items, positive_from, alpha) for (r, m), items in groups.items()]
