"""``sessionkit analyze``: JSON layout of analysis.md, exit codes 0 / 1 (input problems) / 2 (unreadable)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sessionkit.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_mrmc_json_has_the_keys_of_analysis_md() -> None:
    code, out, _ = run("analyze", "mrmc", str(DATA / "mrmc" / "vandyke.imrmc"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["method"] == "OR-Hillis" and data["figure_of_merit"] == "wilcoxon-auc"
    assert data["covariance"] == "jackknife"
    assert set(data["variance_components"]) == {"var_r", "var_tr", "cov1", "cov2", "cov3", "var_error"}
    assert set(data["rrrc"]) >= {"f", "df_num", "df_den", "p", "differences", "single"}
    assert set(data["frrc"]) >= {"chi2", "df", "p", "differences", "single"}
    assert set(data["rrfc"]) >= {"f", "df_num", "df_den", "p", "differences", "single"}
    assert set(data["rrrc"]["differences"][0]) >= {"modalities", "estimate", "std_err", "df", "t", "p", "ci"}
    assert set(data["frrc"]["differences"][0]) >= {"modalities", "estimate", "std_err", "z", "p", "ci"}
    assert round(data["rrrc"]["p"], 4) == 0.0517


def test_mrmc_text_prints_the_three_analyses() -> None:
    code, out, _ = run("analyze", "mrmc", str(DATA / "mrmc" / "vandyke.imrmc"))
    assert code == 0
    assert "F(1, 15.26) = 4.46, p = 0.0517" in out
    assert "X2(1) = 5.47595, p = 0.0193" in out
    assert "F(1, 4) = 8.70, p = 0.0420" in out


def test_mrmc_incomplete_design_exits_1_naming_the_cell(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    rows = ["reader,modality,case,truth,rating"]
    for reader in ("A", "B"):
        for modality in ("CT", "CT+AI"):
            for case, truth in (("c1", 0), ("c2", 0), ("c3", 1), ("c4", 1)):
                if (reader, modality, case) != ("B", "CT+AI", "c3"):
                    rows.append(f"{reader},{modality},{case},{truth},{case[1]}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _, err = run("analyze", "mrmc", str(path))
    assert code == 1
    assert "reader B, modality CT+AI, case c3" in err


def test_mrmc_unreadable_input_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("reader,case,score\n1,2,3\n", encoding="utf-8")
    code, _, err = run("analyze", "mrmc", str(path))
    assert code == 2
    assert "no modality or treatment column" in err
