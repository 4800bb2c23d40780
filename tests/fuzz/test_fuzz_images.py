"""Mutated image files of every format end in a clean result or an ImageReadError, never a
traceback or a hang (issue 11 item 12): ``read_header`` and ``read_image`` through the registry,
and ``sessionkit inspect`` on the worst cases. Budget: about a minute on 2 cores; the long run is
``benchmarks/fuzz_soak.py``."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import nrrd
import numpy as np
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.io import read_header, read_image
from tests.fuzz.mutate import Outcome, cases, memory_cap, mutate, run_case
from tests.fuzz.seeds import CORPUS_SEEDS, written_seeds

CASES = 240
SECONDS = 10.0
MEMORY = 1536 * 1024 * 1024


def _read_both(path: Path) -> None:
    read_header(path)
    read_image(path)


def test_mutated_images_never_crash_or_hang(corpus: Path, tmp_path: Path) -> None:
    seeds = [corpus / name for name in CORPUS_SEEDS] + written_seeds(tmp_path)
    failures: list[str] = []
    kinds: dict[str, int] = {}
    with memory_cap(MEMORY):
        for number, (seed, mutation, case_seed) in enumerate(cases(seeds, CASES, base_seed=1100)):
            folder = tmp_path / f"case{number}"
            folder.mkdir()
            target = folder / seed.name
            target.write_bytes(mutate(seed.read_bytes(), mutation, case_seed))
            outcome: Outcome = run_case(partial(_read_both, target), SECONDS)
            kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
            if outcome.failed:
                failures.append(f"{seed.name} {mutation} seed={case_seed}: {outcome.kind} {outcome.detail}")
            shutil.rmtree(folder)
    assert not failures, "\n".join(failures)
    assert kinds.get("refused", 0) > CASES // 4  # the mutations do break files (not a vacuous pass)


def _worst_nrrd(folder: Path) -> Path:
    """A raw NRRD whose header asks pynrrd to skip 10⁹ lines (581 s before the bound)."""
    path = folder / "skip.nrrd"
    nrrd.write(str(path), np.zeros((2, 3, 4), np.uint8), {"encoding": "raw"}, index_order="C")
    data = path.read_bytes().replace(b"encoding: raw\n", b"encoding: raw\nline skip: 999999999\n")
    path.write_bytes(data)
    return path


def test_bounded_header_fields_are_refused_before_reading(tmp_path: Path) -> None:
    path = _worst_nrrd(tmp_path)
    outcome = run_case(lambda: read_image(path), SECONDS)
    assert outcome.kind == "refused"
    assert "line skip: 999999999" in outcome.detail and "skip.nrrd" in outcome.detail
    huge = tmp_path / "huge.nrrd"
    nrrd.write(str(huge), np.zeros((2, 3, 4), np.uint8), {"encoding": "raw"}, index_order="C")
    huge.write_bytes(huge.read_bytes().replace(b"sizes: 4 3 2", b"sizes: 40000 30000 20000"))
    outcome = run_case(lambda: read_image(huge), SECONDS)
    assert outcome.kind == "refused" and "need 24000000000000 bytes" in outcome.detail


def test_inspect_cli_on_broken_files_exits_with_a_message(corpus: Path, tmp_path: Path) -> None:
    truncated_dicom = tmp_path / "truncated.dcm"
    truncated_dicom.write_bytes((corpus / "F-pydicom" / "CT_small.dcm").read_bytes()[:700])
    corrupt_gzip = tmp_path / "corrupt.nii.gz"
    data = bytearray((corpus / "E1-nifti-totalsegmentator" / "example_seg.nii.gz").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    corrupt_gzip.write_bytes(bytes(data))
    for path in (truncated_dicom, corrupt_gzip, _worst_nrrd(tmp_path)):
        result = CliRunner().invoke(main, ["inspect", str(path)])
        assert result.exit_code in (1, 2), result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output and path.name in result.output


def test_valid_dicom_is_read_beside_a_broken_sibling(corpus: Path, tmp_path: Path) -> None:
    """Issue 12 item 4: the folder scan for the rest of the series skips what it cannot read."""
    good = tmp_path / "CT_small.dcm"
    shutil.copy(corpus / "F-pydicom" / "CT_small.dcm", good)
    (tmp_path / "broken.dcm").write_bytes(good.read_bytes()[:400])
    volume = read_image(good)
    assert volume.grid.spatial_shape == (1, 128, 128)
    result = CliRunner().invoke(main, ["inspect", str(good)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["E2-nifti-nibabel/anatomical.nii", "F-pydicom/CT_small.dcm"])
def test_truncated_files_name_the_file(corpus: Path, tmp_path: Path, name: str) -> None:
    source = corpus / name
    target = tmp_path / source.name
    target.write_bytes(source.read_bytes()[: source.stat().st_size * 2 // 3])
    outcome = run_case(lambda: read_image(target), SECONDS)
    assert outcome.kind == "refused", outcome
    assert source.name in outcome.detail
