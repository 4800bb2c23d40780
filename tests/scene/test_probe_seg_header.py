"""The probe takes a .seg.nrrd's segment names from its header: no voxel decode."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from sessionkit.errors import ImageReadError
from sessionkit.io import read_image
from sessionkit.scene.probe import probe_image
from sessionkit.session.model import Location, SessionImage

LOC = Location("test.xml")


def _segmentation(path: str) -> SessionImage:
    return SessionImage("Seg", "Segmentation", 1, LOC, path=path)


def test_names_come_from_the_header_even_when_voxels_are_broken(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "D-segnrrd-slicerio" / "Segmentation.seg.nrrd"
    whole = probe_image(source, _segmentation(source.name))
    data = source.read_bytes()
    broken = tmp_path / "broken.seg.nrrd"
    # header and gzip trailer intact, compressed voxels overwritten: only decoding would notice
    # (a file cut short is SK804: tests/io/test_integrity.py)
    start = data.index(b"\n\n") + 2 + 10
    broken.write_bytes(data[:start] + b"\xff" * (len(data) - start - 8) + data[-8:])
    with pytest.raises((ImageReadError, zlib.error)):  # zlib.error until the readers wrap it
        read_image(broken)
    facts = probe_image(broken, _segmentation(broken.name))
    assert facts.segment_names == whole.segment_names
    assert whole.segment_names is not None and "left lung" in whole.segment_names
    assert facts.grid is not None and whole.grid is not None
    assert facts.bounds == whole.bounds


def test_a_labelmap_typed_segmentation_still_reports_its_label_segments(corpus: Path) -> None:
    # a plain label map: its segments are the label values, which only the voxels tell
    label = corpus / "C-nrrd-labelmap-pyradiomics" / "breast1_label.nrrd"
    facts = probe_image(label, _segmentation(label.name))
    assert facts.segment_names  # at least one label found in the voxels
