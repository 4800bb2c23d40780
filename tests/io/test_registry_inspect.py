"""read_image's sniffing and messages, describe(), and ``sessionkit inspect``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.errors import ImageReadError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segmentation, Volume
from sessionkit.io import describe, read_image, sniff_format, write_nifti


def test_sniffs_by_content_not_extension(phantom_files: Any, tmp_path: Path) -> None:
    renamed = tmp_path / "no_extension"
    renamed.write_bytes(phantom_files.volumes["nifti-gz"].read_bytes())
    assert sniff_format(renamed) == "nifti"
    plain_named_seg = tmp_path / "seg.nrrd"
    plain_named_seg.write_bytes(phantom_files.segmentation.read_bytes())
    assert sniff_format(plain_named_seg) == "seg_nrrd"
    assert isinstance(read_image(plain_named_seg), Segmentation)


def test_messages_name_file_found_expected_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"missing\.nrrd: does not exist.*Check the path"):
        read_image(tmp_path / "missing.nrrd")
    text = tmp_path / "notes.nrrd"
    text.write_text("hello")
    with pytest.raises(ImageReadError, match=r"notes\.nrrd: unsupported image format.*expected NRRD.*NIfTI"):
        read_image(text)
    dicom = tmp_path / "x.dcm"
    dicom.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 400)
    with pytest.raises(ImageReadError, match=r"x\.dcm: DICOM file has no SeriesInstanceUID"):
        read_image(dicom)
    with pytest.raises(ImageReadError, match="image type 'Mask' is unknown"):
        read_image(text, image_type="Mask")
    with pytest.raises(
        ImageReadError, match=r"broken\.nrrd: cannot read NRRD \(Header is missing required field: endian\)"
    ):
        broken = tmp_path / "broken.nrrd"
        broken.write_bytes(b"NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n\x00")
        read_image(broken)


def test_float_label_map_with_fractions_is_refused(tmp_path: Path) -> None:
    grid = ImageGrid.from_parts((1, 1, 2))
    path = tmp_path / "prob.nii.gz"
    write_nifti(Volume(np.array([[[0.0, 0.5]]]), grid), path)
    with pytest.raises(ImageReadError, match=r"non-integer values.*Read it as a Volume"):
        read_image(path, image_type="LabelMap")


def test_describe_segmentation_and_mask_note(phantom_files: Any) -> None:
    info = describe(read_image(phantom_files.segmentation))
    assert info["kind"] == "segmentation" and info["layers"] == 2
    assert info["spatial_shape"] == [5, 7, 9]
    assert [(s["name"], s["label_value"], s["layer"], s["voxel_count"]) for s in info["segments"]] == [
        ("block", 1, 0, 24),
        ("column", 2, 0, 35),
        ("corner", 3, 0, 1),
        ("cube", 1, 1, 64),
    ]
    assert json.loads(json.dumps(info)) == info
    labels_as_volume = describe(read_image(phantom_files.labels["nrrd-lps"]))
    assert labels_as_volume["notes"] == []  # values 0..3: not a binary mask
    assert labels_as_volume["value_range"] == [0, 3]


def test_cli_inspect_json_on_corpus(corpus: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", str(corpus / "D-segnrrd-slicerio/Segmentation.seg.nrrd"), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["kind"] == "segmentation"
    assert info["spatial_shape"] == [34, 128, 128]
    # direction[r][c]: LPS component r of array axis c; slices superior (+z), rows anterior (-y), columns right (-x)
    assert info["direction"] == [[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]
    assert info["segments"][4] == {
        "segment_id": "Segment_5",
        "label_value": 5,
        "name": "right lung",
        "color": [22, 197, 71],
        "layer": 0,
        "voxel_count": 34450,
    }


def test_cli_inspect_table_type_hint_and_mask_note(corpus: Path) -> None:
    label = str(corpus / "C-nrrd-labelmap-pyradiomics/brain1_label.nrrd")
    result = CliRunner().invoke(main, ["inspect", label])
    assert result.exit_code == 0, result.output
    assert "looks like a mask; use --type Segmentation" in result.output
    result = CliRunner().invoke(main, ["inspect", label, "--type", "Segmentation"])
    assert result.exit_code == 0, result.output
    assert "Label_1" in result.output and "4137" in result.output


def test_cli_inspect_unreadable_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "nope.nii")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_inspect_json_direction_columns_are_the_array_axes(phantom_files: Any, phantom: Any) -> None:
    """``direction[r][c]`` = LPS component r of array axis c, on the oblique phantom written by pynrrd:
    column 0 is the step from voxel (0,0,0) to (1,0,0), divided by the slice spacing."""
    path = phantom_files.volumes["nrrd-lps"]
    result = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    direction = np.array(info["direction"])
    np.testing.assert_allclose(direction, phantom.direction, atol=1e-9)
    assert not np.allclose(direction, direction.T)  # the oblique phantom tells a matrix from its transpose
    for axis in range(3):
        step = np.zeros(3)
        step[axis] = 1.0
        one_voxel = read_image(path).grid.index_to_lps([step])[0] - np.array(info["origin"])
        np.testing.assert_allclose(direction[:, axis], one_voxel / info["spacing"][axis], atol=1e-9)
