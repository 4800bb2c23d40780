"""Final answers from real run folders (``export --format answers``) and ``export --format imrmc``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from sessionkit.analysis.answers import ANSWER_COLUMNS, reading_time
from sessionkit.analysis.mrmc import or_hillis
from sessionkit.analysis.ratings import read_mrmc_ratings
from sessionkit.analysis.roc import wilcoxon_auc
from sessionkit.cli import main
from tests.analysis._study import CASE_PAGES, RATINGS, TRUTH, Study, checkboxes


def export(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["export", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_answers_csv_has_one_row_per_reader_page_and_question(study: Study, tmp_path: Path) -> None:
    out = tmp_path / "answers.csv"
    code, _, err = export(str(study.root), "--format", "answers", "--design", str(study.design), "-o", str(out))
    assert code == 0
    assert "excluded" in err and "dave" in err  # the unfinished run is left out and listed
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == ANSWER_COLUMNS
    assert len(rows) == 3 * (1 + len(CASE_PAGES)) * 3
    by_key = {(r["reader_id"], r["page_id"], r["question_descriptor"]): r for r in rows}
    for reader, ratings in RATINGS.items():
        for page, (label, boxes, size) in ratings.items():
            radio = by_key[(reader, page, "Malignancy")]
            assert (radio["answer"], radio["answer_numeric"]) == (str(label), str(label))
            assert radio["case_id"] == page[-1] and radio["modality"] == page[:2]
            assert radio["truth"] == str(TRUTH[page[-1]])
            assert (radio["arm"], radio["read"], radio["question_type"]) == ("study", "1", "Radio")
            names = ("mass", "calcification", "none")
            chosen = "|".join(name for name, box in zip(names, checkboxes(boxes), strict=True) if box == "Y")
            checkbox = by_key[(reader, page, "Findings")]
            assert (checkbox["answer"], checkbox["answer_numeric"]) == (chosen, "")
            assert by_key[(reader, page, "Size")]["answer_numeric"] == size
            assert float(radio["reading_time_s"]) >= 30  # each page was open 30 s before its save
    assert by_key[("alice", "Train", "Malignancy")]["case_id"] == ""  # a training page: not in the design


def test_reading_time_merges_visits_and_drops_idle_gaps() -> None:
    rows = [  # one visit saved twice (autosave, then next), then a second visit 10 min later
        {"started_at": "2026-01-01T10:00:00.000Z", "saved_at": "2026-01-01T10:00:40.000Z", "answered_at": ""},
        {"started_at": "2026-01-01T10:00:00.000Z", "saved_at": "2026-01-01T10:00:50.000Z",
         "answered_at": "2026-01-01T10:00:45.000Z"},
        {"started_at": "2026-01-01T10:10:00.000Z", "saved_at": "2026-01-01T10:10:20.000Z", "answered_at": ""},
    ]  # fmt: skip
    assert reading_time(rows) == 70.0
    assert reading_time(rows, idle_timeout_s=15) == 5.0 + 5.0  # only the 40-45 and 45-50 s stretches


def test_imrmc_export_round_trips_into_mrmc(study: Study, tmp_path: Path) -> None:
    out = tmp_path / "study.imrmc"
    code, _, _ = export(
        str(study.root), "--format", "imrmc", "--design", str(study.design), "--rating", "Malignancy", "-o", str(out)
    )
    assert code == 0
    table = read_mrmc_ratings(out)
    assert table.readers == ("alice", "bob", "carol") and table.modalities == ("CT", "AI")
    assert table.cases == ("1", "2", "3", "4") and list(table.truth) == [0, 0, 1, 1]
    result = or_hillis(table)
    for t, modality in enumerate(("CT", "AI")):
        for r, reader in enumerate(("alice", "bob", "carol")):
            scores = {case: RATINGS[reader][f"{modality}{case}"][0] for case in TRUTH}
            expected = wilcoxon_auc([scores["3"], scores["4"]], [scores["1"], scores["2"]])
            assert result.auc[t, r] == expected
    assert np.isfinite(result.rrrc["f"])


def test_imrmc_export_refuses_an_ambiguous_rating(study: Study, tmp_path: Path) -> None:
    code, _, err = export(
        str(study.root), "--format", "imrmc", "--design", str(study.design), "--rating", "Nothing", "-o",
        str(tmp_path / "x.imrmc"),
    )  # fmt: skip
    assert code == 1
    assert "matches no question" in err and "Malignancy" in err


def test_analyze_mrmc_on_run_folders_equals_mrmc_on_the_exported_imrmc(study: Study, tmp_path: Path) -> None:
    out = tmp_path / "study.imrmc"
    args = ["--design", str(study.design), "--rating", "Malignancy"]
    assert export(str(study.root), "--format", "imrmc", *args, "-o", str(out))[0] == 0
    runner = CliRunner()
    from_runs = runner.invoke(main, ["analyze", "mrmc", str(study.root), *args, "--format", "json"])
    from_file = runner.invoke(main, ["analyze", "mrmc", str(out), "--format", "json"])
    assert from_runs.exit_code == 0 and from_file.exit_code == 0
    assert from_runs.stdout == from_file.stdout
    refused = runner.invoke(main, ["analyze", "mrmc", str(study.root)])
    assert refused.exit_code == 2 and "--design" in refused.stderr
