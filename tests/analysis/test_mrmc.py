"""OR-Hillis MRMC equals every figure OR-DBM MRMC 2.51 prints for Van Dyke et al. (tests/data/mrmc)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from sessionkit.analysis.mrmc import or_hillis
from sessionkit.analysis.ratings import read_mrmc_ratings
from sessionkit.errors import AnalysisInputError

DATA = Path(__file__).resolve().parent.parent / "data" / "mrmc"
IMRMC = DATA / "vandyke.imrmc"


def printed(value: float, text: str) -> None:
    """``value`` rounds to ``text`` at the precision OR-DBM printed it (half a unit of the last digit)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - float(text)) <= 0.5 * 10**-decimals + 1e-12, f"{value!r} does not print as {text}"


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return or_hillis(read_mrmc_ratings(IMRMC)).to_json()


def test_reader_and_modality_aucs(result: dict[str, Any]) -> None:
    table = {  # reader: (treatment 1, treatment 2)
        "0": ("0.91964573", "0.94782609"),
        "1": ("0.85877617", "0.90531401"),
        "2": ("0.90386473", "0.92173913"),
        "3": ("0.97310789", "0.99935588"),
        "4": ("0.82979066", "0.92995169"),
    }
    assert result["readers"] == ["0", "1", "2", "3", "4"] and result["modalities"] == ["0", "1"]
    assert result["cases"] == {"negative": 69, "positive": 45}
    for reader, (first, second) in table.items():
        printed(result["auc"]["0"][reader], first)
        printed(result["auc"]["1"][reader], second)
    printed(result["modality_auc"]["0"], "0.89703704")
    printed(result["modality_auc"]["1"], "0.94083736")
    printed(result["rrrc"]["differences"][0]["estimate"], "-0.04380032")


def test_anova_tables(result: dict[str, Any]) -> None:
    anova = result["anova"]
    rows = (("t", "0.00479617", "0.00479617"), ("r", "0.01534480", "0.00383620"), ("tr", "0.00220412", "0.00055103"))
    for key, ss, ms in rows:
        printed(anova["ss"][key], ss)
        printed(anova["ms"][key], ms)
    assert anova["df"] == {"t": 1, "r": 4, "tr": 4}
    printed(anova["ms_r_by_modality"]["0"], "0.00308263")
    printed(anova["ms_r_by_modality"]["1"], "0.00130460")


def test_or_and_dbm_variance_components(result: dict[str, Any]) -> None:
    components = result["variance_components"]
    for key, text in (
        ("var_r", "0.00153500"),
        ("var_tr", "0.00020040"),
        ("cov1", "0.00034661"),
        ("cov2", "0.00034407"),
        ("cov3", "0.00023903"),
        ("var_error", "0.00080229"),
    ):
        printed(components[key], text)
    printed(result["correlations"]["cov1"], "0.43203138")
    printed(result["correlations"]["cov2"], "0.42886683")
    printed(result["correlations"]["cov3"], "0.29793328")
    dbm = result["dbm_variance_components"]
    for key, text in (
        ("var_r", "0.00153500"),
        ("var_c", "0.02724923"),
        ("var_tr", "0.00020040"),
        ("var_tc", "0.01197530"),
        ("var_rc", "0.01226473"),
        ("var_trc_error", "0.03997160"),
    ):
        printed(dbm[key], text)


def test_random_readers_random_cases(result: dict[str, Any]) -> None:
    rrrc = result["rrrc"]
    printed(rrrc["error_term"], "0.00107626")
    printed(rrrc["f"], "4.46")
    assert rrrc["df_num"] == 1
    printed(rrrc["df_den"], "15.26")
    printed(rrrc["p"], "0.0517")
    diff = rrrc["differences"][0]
    assert diff["modalities"] == ["0", "1"]
    printed(diff["estimate"], "-0.04380")
    printed(diff["std_err"], "0.02075")
    printed(diff["df"], "15.26")
    printed(diff["t"], "-2.11")
    printed(diff["p"], "0.0517")
    printed(diff["ci"][0], "-0.08796")
    printed(diff["ci"][1], "0.00036")
    for modality, (auc, se, df, lo, hi, cov2) in {
        "0": ("0.89703704", "0.03317360", "12.74", "0.82522360", "0.96885048", "0.00048396"),
        "1": ("0.94083736", "0.02156637", "12.71", "0.89413783", "0.98753689", "0.00020419"),
    }.items():
        single = rrrc["single"][modality]
        for key, text in (("auc", auc), ("std_err", se), ("df", df), ("cov2", cov2)):
            printed(single[key], text)
        printed(single["ci"][0], lo)
        printed(single["ci"][1], hi)


def test_fixed_readers_random_cases(result: dict[str, Any]) -> None:
    frrc = result["frrc"]
    printed(frrc["chi2"], "5.47595")
    assert frrc["df"] == 1
    printed(frrc["p"], "0.0193")
    diff = frrc["differences"][0]
    printed(diff["estimate"], "-0.04380")
    printed(diff["std_err"], "0.01872")
    printed(diff["z"], "-2.34")
    printed(diff["p"], "0.0193")
    printed(diff["ci"][0], "-0.08049")
    printed(diff["ci"][1], "-0.00711")
    for modality, (auc, se, lo, hi, var_error, cov2) in {
        "0": ("0.89703704", "0.02428971", "0.84943008", "0.94464399", "0.00101410", "0.00048396"),
        "1": ("0.94083736", "0.01677632", "0.90795637", "0.97371835", "0.00059047", "0.00020419"),
    }.items():
        single = frrc["single"][modality]
        for key, text in (("auc", auc), ("std_err", se), ("var_error", var_error), ("cov2", cov2)):
            printed(single[key], text)
        printed(single["ci"][0], lo)
        printed(single["ci"][1], hi)
    per_reader = {
        "0": ("-0.02818", "0.02551", "-1.10", "0.2693", "-0.07818", "0.02182", "0.00069890", "0.00037347"),
        "1": ("-0.04654", "0.02630", "-1.77", "0.0768", "-0.09809", "0.00501", "0.00110605", "0.00076016"),
        "2": ("-0.01787", "0.03121", "-0.57", "0.5668", "-0.07904", "0.04330", "0.00084234", "0.00035532"),
        "3": ("-0.02625", "0.01729", "-1.52", "0.1290", "-0.06014", "0.00764", "0.00015058", "0.00000108"),
        "4": ("-0.10016", "0.04406", "-2.27", "0.0230", "-0.18651", "-0.01381", "0.00121357", "0.00024304"),
    }
    assert [row["reader"] for row in frrc["per_reader"]] == list(per_reader)
    for row in frrc["per_reader"]:
        estimate, se, z, p, lo, hi, var_error, cov1 = per_reader[row["reader"]]
        for key, text in (("estimate", estimate), ("std_err", se), ("z", z), ("p", p)):
            printed(row[key], text)
        printed(row["ci"][0], lo)
        printed(row["ci"][1], hi)
        printed(row["var_error"], var_error)
        printed(row["cov1"], cov1)


def test_random_readers_fixed_cases(result: dict[str, Any]) -> None:
    rrfc = result["rrfc"]
    printed(rrfc["f"], "8.70")
    assert (rrfc["df_num"], rrfc["df_den"]) == (1, 4)
    printed(rrfc["p"], "0.0420")
    diff = rrfc["differences"][0]
    printed(diff["std_err"], "0.01485")
    assert diff["df"] == 4
    printed(diff["t"], "-2.95")
    printed(diff["p"], "0.0420")
    printed(diff["ci"][0], "-0.08502")
    printed(diff["ci"][1], "-0.00258")
    for modality, (auc, ms_r, se, lo, hi) in {
        "0": ("0.89703704", "0.00308263", "0.02482994", "0.82809808", "0.96597599"),
        "1": ("0.94083736", "0.00130460", "0.01615303", "0.89598936", "0.98568536"),
    }.items():
        single = rrfc["single"][modality]
        for key, text in (("auc", auc), ("ms_r", ms_r), ("std_err", se)):
            printed(single[key], text)
        assert single["df"] == 4
        printed(single["ci"][0], lo)
        printed(single["ci"][1], hi)


def _write_long_csv(path: Path, skip: set[tuple[str, str, str]] = frozenset()) -> None:  # type: ignore[assignment]
    """The reference ratings as the long CSV with a ``treatment`` column, written from the .imrmc file."""
    table = read_mrmc_ratings(IMRMC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reader", "treatment", "case", "truth", "rating"])
        for r, reader in enumerate(table.readers):
            for t, modality in enumerate(table.modalities):
                for k, case in enumerate(table.cases):
                    if (reader, modality, case) not in skip:
                        writer.writerow([reader, modality, case, int(table.truth[k]), table.scores[t, r, k]])


def test_long_csv_with_treatment_column_gives_the_same_result(tmp_path: Path, result: dict[str, Any]) -> None:
    path = tmp_path / "vandyke.csv"
    _write_long_csv(path)
    again = or_hillis(read_mrmc_ratings(path)).to_json()
    assert json.dumps(again, sort_keys=True) == json.dumps(result, sort_keys=True)


def test_incomplete_design_is_refused_with_the_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "incomplete.csv"
    _write_long_csv(path, skip={("2", "1", "17"), ("4", "0", "101")})
    with pytest.raises(AnalysisInputError) as info:
        read_mrmc_ratings(path)
    assert info.value.missing == [("2", "1", "17"), ("4", "0", "101")]
    assert "reader 2, modality 1, case 17" in str(info.value)
    assert "reader 4, modality 0, case 101" in str(info.value)


def test_bad_truth_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("reader,modality,case,truth,rating\nA,CT,1,yes,3\n", encoding="utf-8")
    with pytest.raises(AnalysisInputError, match=r"bad\.csv:2: truth 'yes' is not 0 or 1"):
        read_mrmc_ratings(path)
