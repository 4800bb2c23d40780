"""The demo's sample images come from installed packages and match the copies in sample_sessions/."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sessionkit.io.samples import SAMPLE_IMAGES, copy_sample_images, prepare_demo

REPO = Path(__file__).resolve().parents[2]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_copied_images_equal_the_committed_sample_images(tmp_path: Path) -> None:
    copied = copy_sample_images(tmp_path / "images")
    assert [p.name for p in copied] == list(SAMPLE_IMAGES)
    for path in copied:
        assert _sha256(path) == _sha256(REPO / "sample_sessions" / "images" / path.name)
    # the chest CT is the real slicerio sample (sha256 recorded in ../shared/corpus/MANIFEST.md, set D)
    assert _sha256(tmp_path / "images" / "CTChest4.nrrd") == (
        "439ee098e50ee8e3254bd80ed8bcf7f8d006da4cab35be7a65b61ccb30dd6a3d"
    )


def test_prepare_demo_assembles_session_and_images(tmp_path: Path) -> None:
    session = prepare_demo(tmp_path / "demo")
    assert session == tmp_path / "demo" / "demo.xml"
    for name in ("demo.xml", "demo_colors.txt"):  # the session and its ROIColorFile
        assert (tmp_path / "demo" / name).read_bytes() == (REPO / "sample_sessions" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "demo" / "images").iterdir()) == sorted(SAMPLE_IMAGES)
