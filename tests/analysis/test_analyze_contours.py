"""``sessionkit analyze contours``: readers' saved contours against the design's reference and each other."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sessionkit.analysis.contour_metrics import contour_metrics
from sessionkit.cli import main
from sessionkit.io import read_seg_nrrd
from tests.analysis._contouring import Challenge, run_challenge


@pytest.fixture(scope="module")
def challenge(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Challenge:
    return run_challenge(tmp_path_factory.mktemp("challenge"), corpus)


def analyze(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["analyze", "contours", *args])
    return result.exit_code, result.stdout, result.stderr


def test_every_reader_against_the_reference_and_each_other(challenge: Challenge) -> None:
    code, out, err = analyze(str(challenge.root), "--design", str(challenge.design), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["tolerance_mm"] == 2.0 and result["training_pages"] == ["Train"]
    rows = {(r["reader_id"], r["page_instance"], r["segment"], r["compared_to"]): r for r in result["rows"]}
    # the reference has one segment ("Tumor"), matched to the colour table's "tumor" by name
    assert {key[2] for key in rows} == {"Tumor"}
    readers = ("alice", "bob", "carol")
    expected_keys = {(r, p, "Tumor", "reference") for r in readers for p in ("Case1", "Case2")}
    expected_keys |= {(a, p, "Tumor", b) for p in ("Case1", "Case2") for a, b in [("alice", "bob"), ("alice", "carol"),
                                                                               ("bob", "carol")]}
    assert set(rows) == expected_keys
    truth = challenge.reference == 1
    for reader in readers:
        drawn = challenge.drawings[(reader, "Case1")] == 1
        expected = contour_metrics(truth, drawn, challenge.grid).to_json()
        for name, value in expected.items():
            assert rows[(reader, "Case1", "Tumor", "reference")][name] == pytest.approx(value, abs=1e-9), name
    pair = contour_metrics(challenge.drawings[("bob", "Case2")] == 1, challenge.drawings[("alice", "Case2")] == 1,
                           challenge.grid)  # fmt: skip
    assert rows[("alice", "Case2", "Tumor", "bob")]["hd95_mm"] == pytest.approx(pair.hd95_mm)
    assert rows[("alice", "Case1", "Tumor", "reference")]["case_id"] == "1"
    ranking = {r["metric"]: r for r in result["ranking"]}
    assert ranking["dice"]["cases"] == 2 and {e["reader_id"] for e in ranking["dice"]["readers"]} == set(readers)


def test_csv_and_a_reference_segment_by_label_value(tmp_path: Path, corpus: Path) -> None:
    challenge = run_challenge(tmp_path, corpus, reference_segment="1")
    code, out, err = analyze(str(challenge.root), "--design", str(challenge.design), "--format", "csv",
                             "--tolerance-mm", "1")  # fmt: skip
    assert code == 0, err
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 12 and {row["tolerance_mm"] for row in table} == {"1.0"}
    bob = next(r for r in table if r["reader_id"] == "bob" and r["compared_to"] == "reference")
    assert float(bob["dice"]) == pytest.approx(
        contour_metrics(challenge.reference == 1, challenge.drawings[("bob", "Case1")] == 1, challenge.grid).dice
    )


def test_without_reference_pairs_score_every_drawn_segment(challenge: Challenge, tmp_path: Path) -> None:
    """No reference_contour: readers are compared pairwise on every segment any of them drew; bob drew no
    gland, so his gland comparisons follow the empty-mask convention (Dice 0, distances NaN/null)."""
    design = tmp_path / "design.csv"
    design.write_text("page_id,case_id\nCase1,1\n", encoding="utf-8")
    code, out, err = analyze(str(challenge.root), "--design", str(design), "--format", "json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert {r["compared_to"] for r in rows} == {"bob", "carol"} and {r["segment"] for r in rows} == {"gland", "tumor"}
    gland = {(r["reader_id"], r["compared_to"]): r for r in rows if r["segment"] == "gland"}
    assert gland[("alice", "carol")]["dice"] == 1.0 and gland[("alice", "carol")]["hd_mm"] == 0.0
    assert gland[("alice", "bob")]["dice"] == 0.0 and gland[("alice", "bob")]["hd95_mm"] is None
    code, text, _ = analyze(str(challenge.root), "--design", str(design))
    lines = [line.split() for line in text.splitlines()]
    assert code == 0 and ["alice", "Case1", "gland", "bob", "0.000", "nan", "nan", "0.000"] in lines


def test_bad_reference_is_reported(challenge: Challenge, tmp_path: Path) -> None:
    design = tmp_path / "design.csv"
    design.write_text("page_id,case_id,reference_contour\nCase1,1,missing.seg.nrrd\n", encoding="utf-8")
    code, _, err = analyze(str(challenge.root), "--design", str(design))
    assert code == 1 and "design.csv:2" in err and "missing.seg.nrrd" in err and "relative to the design" in err
    design.write_text(
        f"page_id,case_id,reference_contour,reference_segment\nCase1,1,{challenge.design.parent}/truth/breast1.seg.nrrd,"
        "liver\n",
        encoding="utf-8",
    )
    code, _, err = analyze(str(challenge.root), "--design", str(design))
    assert code == 1 and "'liver'" in err and "Tumor" in err


def test_staple_consensus_is_saved_on_the_image_grid(challenge: Challenge, tmp_path: Path) -> None:
    sitk = pytest.importorskip("SimpleITK")
    out_dir = tmp_path / "consensus"
    code, out, err = analyze(
        str(challenge.root), "--design", str(challenge.design), "--format", "json", "--consensus", str(out_dir)
    )
    assert code == 0, err
    masks = [challenge.drawings[(reader, "Case1")] == 1 for reader in ("alice", "bob", "carol")]
    itk = sitk.STAPLEImageFilter()
    probability = sitk.GetArrayFromImage(itk.Execute([sitk.GetImageFromArray(m.astype(np.uint8)) for m in masks]))
    seg = read_seg_nrrd(out_dir / "challenge" / "Case1_CT.seg.nrrd")
    assert seg.grid.matches(challenge.grid) and [s.name for s in seg.segments] == ["Tumor"]
    assert np.array_equal(seg.mask(seg.segments[0]), probability > 0.5)
    rows = {(r["reader_id"], r["page_instance"]): r for r in json.loads(out)["consensus"]}
    assert set(rows) == {(r, p) for r in ("alice", "bob", "carol") for p in ("Case1", "Case2")}
    for k, reader in enumerate(("alice", "bob", "carol")):
        assert rows[(reader, "Case1")]["sensitivity"] == pytest.approx(itk.GetSensitivity()[k], abs=1e-6)
        assert rows[(reader, "Case1")]["specificity"] == pytest.approx(itk.GetSpecificity()[k], abs=1e-6)
