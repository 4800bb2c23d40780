"""Agreement between readers, and of one reader across repeat reads (analysis.md §3.1).

Nominal answers: Cohen's κ (two readers), Fleiss' κ (more), Krippendorff's α (nominal), percent agreement.
Ordinal answers: also weighted κ (linear, quadratic; two readers) and α (ordinal). Numeric answers: ICC in
the Shrout–Fleiss / McGraw–Wong forms with 95 % CIs, Bland–Altman for every reader pair, α (interval).
κ comes from statsmodels (``cohens_kappa``, ``fleiss_kappa``), α from the ``krippendorff`` package; the
ICC forms and CIs are computed here (Shrout & Fleiss 1979; McGraw & Wong 1996).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

import krippendorff
import numpy as np
import numpy.typing as npt
from scipy import stats
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from sessionkit.analysis.icc import icc_forms
from sessionkit.analysis.ratings import read_csv_rows
from sessionkit.errors import AnalysisInputError

Scale = Literal["nominal", "ordinal", "interval"]
SCALES: tuple[Scale, ...] = ("nominal", "ordinal", "interval")
#: Question type → scale; a Radio question with all-numeric labels is ordinal (see :func:`scale_of`).
TYPE_SCALE: dict[str, Scale] = {
    "Radio": "nominal",
    "CheckBox": "nominal",
    "Button": "nominal",
    "IntegerValue": "interval",
    "FloatValue": "interval",
}


@dataclass(frozen=True)
class AgreementRating:
    """One rating for agreement: ``reader`` gave ``value`` to ``case`` (``read`` n of that reader)."""

    question: str
    case: str
    reader: str
    value: str
    modality: str = ""
    read: str = "1"
    question_type: str = ""


@dataclass
class AgreementResult:
    """Agreement of one question (in one modality) across readers, or of one reader across reads."""

    question: str
    scale: Scale
    readers: int
    cases: int
    modality: str = ""
    reader: str | None = None
    percent_agreement: float | None = None
    cohen_kappa: float | None = None
    weighted_kappa_linear: float | None = None
    weighted_kappa_quadratic: float | None = None
    fleiss_kappa: float | None = None
    fleiss_cases: int = 0
    krippendorff_alpha: float | None = None
    icc: dict[str, dict[str, Any]] | None = None
    bland_altman: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """One entry of ``{"questions": [...]}`` (analysis.md §3.1, plus modality, reader, bland_altman)."""
        return {
            "question": self.question,
            "modality": self.modality,
            "reader": self.reader,
            "scale": self.scale,
            "readers": self.readers,
            "cases": self.cases,
            "percent_agreement": self.percent_agreement,
            "cohen_kappa": self.cohen_kappa,
            "weighted_kappa_linear": self.weighted_kappa_linear,
            "weighted_kappa_quadratic": self.weighted_kappa_quadratic,
            "fleiss_kappa": self.fleiss_kappa,
            "fleiss_cases": self.fleiss_cases,
            "krippendorff_alpha": self.krippendorff_alpha,
            "icc": self.icc,
            "bland_altman": self.bland_altman,
        }


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def scale_of(values: Iterable[str], question_type: str = "") -> Scale:
    """The scale of a question's answers (analysis.md §1, §3.1).

    IntegerValue/FloatValue are interval; Radio/CheckBox/Button nominal unless every value is a number
    (then ordinal). Without a type (ratings from elsewhere): non-integer numbers → interval, integers
    → ordinal, anything else → nominal.
    """
    values = list(values)
    numeric = bool(values) and all(_is_number(v) for v in values)
    if question_type in TYPE_SCALE:
        base = TYPE_SCALE[question_type]
        return "ordinal" if base == "nominal" and question_type == "Radio" and numeric else base
    if not numeric:
        return "nominal"
    return "ordinal" if all(float(v).is_integer() for v in values) else "interval"


FloatMatrix = npt.NDArray[np.float64]


def _percent_agreement(codes: FloatMatrix, n_categories: int) -> float | None:
    """Mean over cases (≥ 2 ratings) of the fraction of agreeing rater pairs; ``codes`` NaN = missing."""
    present = ~np.isnan(codes)
    counts = np.stack([(codes == c).sum(axis=1) for c in range(n_categories)], axis=1)
    rated = present.sum(axis=1)
    usable = rated >= 2
    if not usable.any():
        return None
    agreeing = (counts * (counts - 1) / 2).sum(axis=1)[usable]
    pairs = (rated * (rated - 1) / 2)[usable]
    return float(np.mean(agreeing / pairs))


def _kappas(result: AgreementResult, codes: FloatMatrix, levels: FloatMatrix | None) -> None:
    """Cohen's / weighted κ (two raters) or Fleiss' κ (three or more) on the cases every rater rated.

    ``codes`` holds category indices (NaN = missing); ``levels`` the category values (ordinal) for the
    weights of weighted κ.
    """
    complete = codes[~np.isnan(codes).any(axis=1)].astype(np.int64)
    n_categories = int(np.nanmax(codes)) + 1 if not np.isnan(codes).all() else 0
    if complete.shape[0] == 0 or n_categories < 2:
        return
    if complete.shape[1] == 2:
        table = np.zeros((n_categories, n_categories))
        np.add.at(table, (complete[:, 0], complete[:, 1]), 1)
        result.cohen_kappa = float(cohens_kappa(table, return_results=False))
        if levels is not None:
            result.weighted_kappa_linear = float(cohens_kappa(table, weights=levels, wt="linear", return_results=False))
            result.weighted_kappa_quadratic = float(
                cohens_kappa(table, weights=levels, wt="quadratic", return_results=False)
            )
    else:
        counts, _ = aggregate_raters(complete, n_cat=n_categories)
        result.fleiss_kappa = float(fleiss_kappa(counts, method="fleiss"))
        result.fleiss_cases = int(complete.shape[0])


def _bland_altman(
    values: npt.NDArray[np.float64], readers: Sequence[str], alpha: float = 0.05
) -> list[dict[str, Any]]:
    """Bias (mean of A − B) and limits of agreement bias ± z·SD for every reader pair (Bland & Altman 1986)."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    for a, b in combinations(range(len(readers)), 2):
        both = ~np.isnan(values[:, a]) & ~np.isnan(values[:, b])
        diff = values[both, a] - values[both, b]
        if diff.size < 2:
            continue
        bias, sd = float(diff.mean()), float(diff.std(ddof=1))
        rows.append(
            {"readers": [readers[a], readers[b]], "n": int(diff.size), "bias": bias, "sd": sd,
             "loa": [bias - z * sd, bias + z * sd]}
        )  # fmt: skip
    return rows


def agreement(
    question: str,
    ratings: Sequence[AgreementRating],
    scale: Scale | None = None,
    *,
    rater_of: str = "reader",
) -> AgreementResult:
    """Agreement statistics of one question's ratings.

    Parameters
    ----------
    question : str
        Name reported for the question.
    ratings : sequence of AgreementRating
        The ratings of one question (and modality); ``rater_of`` says whether the raters are the
        readers (inter-reader) or one reader's reads (intra-reader).
    scale : {"nominal", "ordinal", "interval"}, optional
        Overrides :func:`scale_of`.

    Returns
    -------
    AgreementResult
        Statistics that do not apply to the scale or the number of raters are ``None``.

    Raises
    ------
    AnalysisInputError
        Ordinal or interval scale with a non-numeric value; one case rated twice by one rater.
    """
    raters = {rater: i for i, rater in enumerate(dict.fromkeys(getattr(r, rater_of) for r in ratings))}
    cases = {case: i for i, case in enumerate(dict.fromkeys(r.case for r in ratings))}
    cells = np.full((len(cases), len(raters)), None, dtype=object)
    for r in ratings:
        row, column = cases[r.case], raters[getattr(r, rater_of)]
        if cells[row, column] is not None:
            raise AnalysisInputError(
                f"question {question!r}: case {r.case!r} rated twice by {rater_of} {getattr(r, rater_of)!r}; "
                "keep one rating"
            )
        cells[row, column] = r.value
    values = [r.value for r in ratings]
    chosen = scale or scale_of(set(values), ratings[0].question_type if ratings else "")
    if chosen != "nominal":
        bad = sorted(v for v in set(values) if not _is_number(v))
        if bad:
            raise AnalysisInputError(
                f"question {question!r}: {chosen} scale needs numbers; found {', '.join(map(repr, bad[:5]))}; "
                "use --scale nominal for labels"
            )
    result = AgreementResult(question, chosen, len(raters), len(cases))
    missing = np.vectorize(lambda v: v is None, otypes=[bool])(cells)
    if chosen == "nominal":
        categories = sorted(set(values))
        index = {category: float(i) for i, category in enumerate(categories)}
        codes = np.vectorize(lambda v: np.nan if v is None else index[v], otypes=[np.float64])(cells)
        numeric, levels = codes, None
    else:
        numeric = np.where(missing, np.nan, np.where(missing, "nan", cells).astype(np.float64))
        levels = np.unique(numeric[~missing])
        codes = np.where(missing, np.nan, np.searchsorted(levels, np.nan_to_num(numeric)).astype(np.float64))
    result.percent_agreement = _percent_agreement(codes, int(np.nanmax(codes)) + 1 if not missing.all() else 0)
    if len(raters) < 2:
        return result
    pairable = int((np.sum(~missing, axis=1) >= 2).sum())
    if pairable >= 1 and len(set(values)) >= 2:
        result.krippendorff_alpha = float(krippendorff.alpha(reliability_data=numeric.T, level_of_measurement=chosen))
    if chosen in ("nominal", "ordinal"):
        _kappas(result, codes, levels if chosen == "ordinal" else None)
    else:
        complete = numeric[~missing.any(axis=1)]
        if complete.shape[0] >= 2:
            result.icc = icc_forms(complete)
        result.bland_altman = _bland_altman(numeric, list(raters))
    return result


def agreement_table(ratings: Sequence[AgreementRating], scale: Scale | None = None) -> list[AgreementResult]:
    """Inter-reader agreement per (question, modality) on each reader's first read, and intra-reader
    agreement per (question, modality, reader) across that reader's reads when there are several."""
    groups: dict[tuple[str, str], list[AgreementRating]] = defaultdict(list)
    for r in ratings:
        groups[(r.question, r.modality)].append(r)
    results = []
    for (question, modality), members in groups.items():
        first_read = min(members, key=lambda r: _read_key(r.read)).read
        inter = agreement(question, [r for r in members if r.read == first_read], scale)
        inter.modality = modality
        results.append(inter)
        by_reader: dict[str, list[AgreementRating]] = defaultdict(list)
        for r in members:
            by_reader[r.reader].append(r)
        for reader, own in by_reader.items():
            if len({r.read for r in own}) > 1:
                intra = agreement(question, own, scale, rater_of="read")
                intra.modality, intra.reader = modality, reader
                results.append(intra)
    return results


def _read_key(read: str) -> tuple[int, str]:
    return (int(read), read) if read.isdigit() else (1 << 30, read)


def read_agreement_csv(path: str | Path) -> list[AgreementRating]:
    """Ratings for agreement from a long CSV ``reader,case,value`` (``rating`` for ``value``; optional
    ``question``, ``modality``, ``read``) (analysis.md §1).

    Raises
    ------
    RatingsReadError
        Unreadable file, no header, or a required column missing.
    AnalysisInputError
        An empty reader, case or value (file:line).
    """
    path = Path(path)
    columns = {"reader": ("reader",), "case": ("case",), "value": ("value", "rating")}
    ratings, problems = [], []
    for where, row in read_csv_rows(path, columns):
        if not row["reader"] or not row["case"]:
            problems.append(f"{where}: empty reader or case; every row names both")
            continue
        if not row["value"]:
            continue  # not rated: a missing value, which α handles and κ/ICC skip
        ratings.append(
            AgreementRating(
                question=row.get("question", "") or path.stem,
                case=row["case"],
                reader=row["reader"],
                value=row["value"],
                modality=row.get("modality", ""),
                read=row.get("read", "") or "1",
            )
        )
    if problems:
        raise AnalysisInputError(f"{path}: {len(problems)} problem(s)\n  " + "\n  ".join(problems[:20]), problems)
    return ratings


def format_agreement_text(results: Sequence[AgreementResult]) -> str:
    """A plain-text table of :func:`agreement_table` results (3 decimals; ``-`` where not applicable)."""
    lines = []
    for r in results:
        title = r.question + (f" [{r.modality}]" if r.modality else "")
        title += f" — reader {r.reader} across reads" if r.reader is not None else ""
        lines.append(f"{title}: {r.scale}, {r.readers} rater(s), {r.cases} case(s)")
        for name, value in (
            ("percent agreement", r.percent_agreement),
            ("Cohen's kappa", r.cohen_kappa),
            ("weighted kappa (linear)", r.weighted_kappa_linear),
            ("weighted kappa (quadratic)", r.weighted_kappa_quadratic),
            ("Fleiss' kappa" + (f" ({r.fleiss_cases} complete cases)" if r.fleiss_kappa is not None else ""),
             r.fleiss_kappa),
            ("Krippendorff's alpha", r.krippendorff_alpha),
        ):  # fmt: skip
            if value is not None:
                lines.append(f"  {name:<40}{value:8.3f}")
        for form, item in (r.icc or {}).items():
            lo, hi = item["ci"]
            lines.append(f"  {form:<40}{item['value']:8.3f}  95% CI {lo:.3f} to {hi:.3f}")
        for pair in r.bland_altman:
            a, b = pair["readers"]
            lo, hi = pair["loa"]
            lines.append(
                f"  Bland-Altman {a} - {b}: bias {pair['bias']:.3f}, limits of agreement {lo:.3f} to {hi:.3f}"
                f" (n {pair['n']})"
            )
    return "\n".join(lines)
