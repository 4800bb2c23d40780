"""Agreement equals statsmodels / krippendorff / pingouin on real multi-reader ratings, ICC equals Shrout & Fleiss."""

from __future__ import annotations

import csv
import json
import warnings
from collections import defaultdict
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from click.testing import CliRunner
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa, to_table

from sessionkit.analysis.agreement import AgreementRating, agreement, agreement_table, read_agreement_csv
from sessionkit.analysis.answers import collect_answers
from sessionkit.analysis.icc import icc_forms
from sessionkit.cli import main
from tests.analysis._study import Study

DATA = Path(__file__).resolve().parent.parent / "data"
LIDC = DATA / "lidc" / "lidc_ratings.csv"
SHROUT_FLEISS = DATA / "agreement" / "shrout_fleiss_1979.csv"


def lidc(question: str) -> dict[str, list[float]]:
    """case -> the radiologists' ratings, read straight from the CSV."""
    ratings: dict[str, list[float]] = defaultdict(list)
    with LIDC.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["question"] == question:
                ratings[row["case"]].append(float(row["value"]))
    return ratings


@pytest.mark.parametrize("question", ["malignancy", "subtlety"])
def test_lidc_fleiss_kappa_and_alpha_equal_statsmodels_and_krippendorff(question: str) -> None:
    results = {r.question: r for r in agreement_table(read_agreement_csv(LIDC))}
    result = results[question]
    per_case = lidc(question)
    four = np.array([v for v in per_case.values() if len(v) == 4])
    counts, _ = aggregate_raters(four)
    assert result.scale == "ordinal" and result.readers == 4 and result.cases == len(per_case)
    assert result.fleiss_cases == len(four) == 83
    assert result.fleiss_kappa == pytest.approx(fleiss_kappa(counts, method="fleiss"), abs=1e-6)
    reliability = np.full((4, len(per_case)), np.nan)
    for unit, values in enumerate(per_case.values()):
        reliability[: len(values), unit] = values
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="ordinal")
    assert result.krippendorff_alpha == pytest.approx(expected, abs=1e-6)
    nominal = agreement(question, [r for r in read_agreement_csv(LIDC) if r.question == question], "nominal")
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert nominal.krippendorff_alpha == pytest.approx(expected, abs=1e-6)
    assert nominal.fleiss_kappa == pytest.approx(result.fleiss_kappa, abs=1e-12)  # κ ignores order
    interval = agreement(question, [r for r in read_agreement_csv(LIDC) if r.question == question], "interval")
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="interval")
    assert interval.krippendorff_alpha == pytest.approx(expected, abs=1e-6)


def test_icc_forms_equal_shrout_fleiss_table_4_and_pingouin() -> None:
    (result,) = agreement_table(read_agreement_csv(SHROUT_FLEISS), scale="interval")
    assert result.icc is not None
    printed = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
    for form, value in printed.items():
        assert round(result.icc[form]["value"], 2) == value
    frame = pd.read_csv(SHROUT_FLEISS)
    pingouin.options["round.column.CI95"] = None  # pingouin rounds CIs to 2 decimals by default
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pingouin's own use of a deprecated pandas keyword
            reference = pingouin.intraclass_corr(frame, targets="case", raters="reader", ratings="value")
    finally:
        pingouin.set_default_options()
    reference = reference.set_index("Type")
    names = {"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)",
             "ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)"}  # fmt: skip
    for form, name in names.items():
        assert result.icc[form]["value"] == pytest.approx(reference.loc[name, "ICC"], abs=1e-6)
        assert result.icc[form]["ci"] == pytest.approx(list(reference.loc[name, "CI95"]), abs=1e-6)


def test_icc_refuses_missing_values() -> None:
    with pytest.raises(ValueError, match="complete"):
        icc_forms([[1.0, np.nan], [2.0, 3.0]])


def test_two_readers_cohen_and_weighted_kappa_equal_statsmodels(study: Study) -> None:
    answers = collect_answers([study.root]).answers
    ratings = [
        AgreementRating("Malignancy", a.page_id, a.reader_id, a.answer, question_type=a.question_type)
        for a in answers
        if a.question_descriptor == "Malignancy" and a.reader_id in ("alice", "bob")
    ]
    result = agreement("Malignancy", ratings)
    assert result.scale == "ordinal" and result.readers == 2 and result.fleiss_kappa is None
    pairs = defaultdict(dict)
    for r in ratings:
        pairs[r.case][r.reader] = int(r.value)
    data = np.array([[p["alice"], p["bob"]] for p in pairs.values()])
    table, _ = to_table(data, bins=np.arange(0.5, 6.5))  # categories 1..5 by value
    table = table[table.sum(axis=1) + table.sum(axis=0) > 0][:, table.sum(axis=1) + table.sum(axis=0) > 0]
    levels = np.array(sorted(set(data.ravel())), dtype=float)
    assert result.cohen_kappa == pytest.approx(cohens_kappa(table, return_results=False), abs=1e-6)
    linear = cohens_kappa(table, weights=levels, wt="linear", return_results=False)
    quadratic = cohens_kappa(table, weights=levels, wt="quadratic", return_results=False)
    assert result.weighted_kappa_linear == pytest.approx(linear, abs=1e-6)
    assert result.weighted_kappa_quadratic == pytest.approx(quadratic, abs=1e-6)
    agree = np.mean(data[:, 0] == data[:, 1])
    assert result.percent_agreement == pytest.approx(agree)


def test_bland_altman_of_a_reader_pair() -> None:
    frame = pd.read_csv(SHROUT_FLEISS)
    (result,) = agreement_table(read_agreement_csv(SHROUT_FLEISS), scale="interval")
    wide = frame.pivot(index="case", columns="reader", values="value")
    diff = (wide["judge1"] - wide["judge3"]).to_numpy(dtype=float)
    row = next(r for r in result.bland_altman if r["readers"] == ["judge1", "judge3"])
    assert row["bias"] == pytest.approx(diff.mean()) and row["n"] == 6
    assert row["loa"][1] - row["bias"] == pytest.approx(1.959963984540054 * diff.std(ddof=1))


def test_repeat_reads_give_intra_reader_agreement() -> None:
    ratings = [
        AgreementRating("Q", case, "ann", value, read=read)
        for read, values in (("1", "abcab"), ("2", "abcbb"))
        for case, value in zip("12345", values, strict=True)
    ]
    inter, intra = agreement_table(ratings)
    assert inter.readers == 1 and inter.cohen_kappa is None
    assert intra.reader == "ann" and intra.readers == 2 and intra.scale == "nominal"
    assert intra.percent_agreement == pytest.approx(4 / 5)
    table = np.array([[1, 1, 0], [0, 2, 0], [0, 0, 1]])  # read 1 rows (a, b, c) x read 2 columns
    assert intra.cohen_kappa == pytest.approx(cohens_kappa(table, return_results=False), abs=1e-12)


def test_cli_agreement_json_and_scale_override() -> None:
    result = CliRunner().invoke(main, ["analyze", "agreement", str(LIDC), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    keys = {"question", "scale", "readers", "cases", "percent_agreement", "cohen_kappa", "weighted_kappa_linear",
            "weighted_kappa_quadratic", "fleiss_kappa", "krippendorff_alpha", "icc"}  # fmt: skip
    assert [q["question"] for q in data["questions"]] == ["malignancy", "subtlety"]
    assert all(keys <= set(q) for q in data["questions"])
    assert data["questions"][0]["scale"] == "ordinal" and data["questions"][0]["icc"] is None
    result = CliRunner().invoke(main, ["analyze", "agreement", str(SHROUT_FLEISS), "--scale", "interval"])
    assert result.exit_code == 0
    assert "ICC3k" in result.stdout and "0.909" in result.stdout


def test_cli_agreement_refuses_labels_on_an_ordinal_scale(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("reader,case,rating\nA,1,benign\nB,1,malignant\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["analyze", "agreement", str(path), "--scale", "ordinal"])
    assert result.exit_code == 1
    assert "ordinal scale needs numbers" in result.stderr and "'benign'" in result.stderr
