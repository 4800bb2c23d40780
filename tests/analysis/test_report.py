"""``analyze report`` on real run folders: results.json, tables, and a self-contained report.html."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from sessionkit.cli import main
from tests.analysis._study import CASE_PAGES, RATINGS, Study


def test_report_numbers_tables_and_self_contained_html(study: Study, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        ["analyze", "report", str(study.root), "--design", str(study.design), "--rating", "Malignancy",
         "--positive-from", "4", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    study_summary = results["study"]
    assert study_summary["readers"] == ["alice", "bob", "carol"] and study_summary["cases"] == 4
    assert study_summary["modalities"] == ["CT", "AI"] and study_summary["pages_not_in_design"] == ["Train"]
    assert [run["run"].endswith("dave/study") for run in study_summary["excluded_runs"]] == [True]
    assert study_summary["completion"] == {"alice": 1.0, "bob": 1.0, "carol": 1.0}
    for modality in ("CT", "AI"):
        entry = next(e for e in results["agreement"] if e["question"] == "Malignancy" and e["modality"] == modality)
        table = np.array([[RATINGS[r][f"{modality}{c}"][0] for r in RATINGS] for c in "1234"])
        counts, _ = aggregate_raters(table)
        assert entry["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts), abs=1e-9)
    distribution = next(q for q in results["questions"] if q["question"] == "Malignancy")["distribution"]
    assert sum(distribution["alice"].values()) == len(CASE_PAGES)  # the training page is not counted
    assert results["mrmc"]["readers"] == ["alice", "bob", "carol"] and results["mrmc"]["modalities"] == ["CT", "AI"]
    tables = {path.stem for path in (out / "tables").glob("*.csv")}
    assert tables >= {"answers", "agreement", "accuracy", "roc_points", "mrmc_auc", "mrmc_tests", "reading_time"}
    with (out / "tables" / "mrmc_auc.csv").open(encoding="utf-8") as handle:
        aucs = {(row["modality"], row["reader"]): float(row["auc"]) for row in csv.DictReader(handle)}
    assert aucs == {(m, r): results["mrmc"]["auc"][m][r] for m in ("CT", "AI") for r in RATINGS}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 1 + 2 + 2  # reading time, two answer distributions, ROC per modality
    assert not re.search(r"""(src|href)=["']?https?:""", html) and "<script" not in html
    assert "Var(T×R)" in html and "alice" in html


def test_report_pseudonymizes_readers(study: Study, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["analyze", "report", str(study.root), "--design", str(study.design), "--pseudonymize", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["study"]["readers"] == ["R1", "R2", "R3"]
    assert "alice" not in (out / "report.html").read_text(encoding="utf-8")
    assert "alice" not in (out / "tables" / "answers.csv").read_text(encoding="utf-8")
