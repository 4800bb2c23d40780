"""Segments of a .seg.nrrd from its header alone, and one header parse for sniff + read_header."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nrrd
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.io import read_header, read_image
from sessionkit.io.nrrd import read_nrrd_header
from sessionkit.io.seg_nrrd import read_seg_nrrd, seg_nrrd_segments

CORPUS_SEGMENTATIONS = (
    "Segmentation.seg.nrrd",  # one layer, 3-D
    "SegmentationOverlapping.seg.nrrd",  # several layers, 4-D
    "EclipseProstate_Bladder_Union_PTV.seg.nrrd",  # legacy 4-D layout (C5)
)


@pytest.mark.parametrize("name", CORPUS_SEGMENTATIONS)
def test_header_segments_equal_the_decoded_ones(corpus: Path, name: str) -> None:
    file = corpus / "D-segnrrd-slicerio" / name
    decoded = read_seg_nrrd(file)
    assert decoded.segments  # every corpus file has segments
    assert seg_nrrd_segments(read_nrrd_header(file)) == decoded.segments
    header = read_header(file, image_type="Segmentation")
    assert header.format == "seg_nrrd"
    assert header.segments == decoded.segments
    assert header.grid.differences(decoded.grid) == []


def test_legacy_segments_from_header(corpus: Path) -> None:
    header = read_nrrd_header(corpus / "D-segnrrd-slicerio" / "EclipseProstate_Bladder_Union_PTV.seg.nrrd")
    (segment,) = seg_nrrd_segments(header)
    assert (segment.segment_id, segment.name, segment.label_value, segment.layer) == (
        "Bladder_Union_PTV",
        "Bladder_Union_PTV",
        1,
        0,
    )
    assert segment.color == (128, 128, 128)  # Segment0_DefaultColor 0.5 0.5 0.5


def test_slicerio_phantom_segments_from_header(phantom_files: Any) -> None:
    decoded = read_seg_nrrd(phantom_files.segmentation)
    assert len({s.layer for s in decoded.segments}) == 2  # the phantom's overlapping layers
    assert read_header(phantom_files.segmentation).segments == decoded.segments


def test_header_segments_need_no_voxels(corpus: Path, tmp_path: Path) -> None:
    # voxel data cut short: the reader fails, the header still gives grid and segments
    source = corpus / "D-segnrrd-slicerio" / "Segmentation.seg.nrrd"
    data = source.read_bytes()
    broken = tmp_path / "broken.seg.nrrd"
    broken.write_bytes(data[: data.index(b"\n\n") + 2 + 10])
    with pytest.raises(ImageReadError):
        read_image(broken)
    header = read_header(broken, image_type="Segmentation")
    assert header.segments == read_seg_nrrd(source).segments


def test_a_plain_nrrd_has_no_header_segments(corpus: Path) -> None:
    header = read_header(corpus / "D-segnrrd-slicerio" / "CTChest4.nrrd")
    assert header.format == "nrrd" and header.segments is None


def test_sniff_and_header_parse_the_nrrd_header_once(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "s.seg.nrrd"
    shutil.copy(corpus / "D-segnrrd-slicerio" / "Segmentation.seg.nrrd", file)
    calls: list[Any] = []
    parse = nrrd.read_header

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return parse(*args, **kwargs)

    monkeypatch.setattr(nrrd, "read_header", counting)
    read_header(file, image_type="Segmentation")
    assert len(calls) == 1
