"""Truncated NRRD and NIfTI files (header intact, data cut) are refused from the header's declared
size, without decoding voxels; every intact corpus file passes (no false alarm)."""

from __future__ import annotations

from pathlib import Path

import nrrd
import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.io import read_header, read_image
from sessionkit.io.integrity import check_data_length

INTACT = [
    "C-nrrd-labelmap-pyradiomics/brain1_image.nrrd",
    "C-nrrd-labelmap-pyradiomics/breast1_label.nrrd",
    "D-segnrrd-slicerio/CTChest4.nrrd",
    "D-segnrrd-slicerio/Segmentation.seg.nrrd",
    "E1-nifti-totalsegmentator/example_ct_sm.nii.gz",
    "E2-nifti-nibabel/anatomical.nii",
    "E2-nifti-nibabel/example4d.nii.gz",
    "A2-rtstruct-sts002-ct-mr-pet/CT/nifti/image/image.nii.gz",
]


def _cut(source: Path, target: Path, keep: float = 0.9) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


@pytest.mark.parametrize("name", INTACT)
def test_intact_corpus_files_pass_and_cut_copies_are_refused(corpus: Path, tmp_path: Path, name: str) -> None:
    source = corpus / name
    check_data_length(source)
    cut = _cut(source, tmp_path / source.name)
    read_header(cut)  # the header alone still reads: only the data is missing
    with pytest.raises(ImageReadError, match=r"truncated: the header declares \d+ bytes .*the file holds \d+"):
        check_data_length(cut)
    with pytest.raises(ImageReadError):  # what a reader would meet when the page opens
        read_image(cut)


def test_raw_attached_and_detached_nrrd(tmp_path: Path) -> None:
    array = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    attached = tmp_path / "raw.nrrd"
    nrrd.write(str(attached), array, {"encoding": "raw"}, index_order="C")
    detached = tmp_path / "raw.nhdr"
    nrrd.write(str(detached), array, {"encoding": "raw"}, detached_header=True, index_order="C")
    data_file = tmp_path / "raw.raw"
    assert data_file.stat().st_size == array.nbytes
    for path in (attached, detached):
        check_data_length(path)
    data_file.write_bytes(data_file.read_bytes()[:-2])  # one voxel short
    # The header bound of the NRRD reader (sizes x dtype against the data file) refuses it first; either
    # refusal must state the declared and the found byte counts.
    with pytest.raises(ImageReadError, match=f"{array.nbytes} bytes.*{array.nbytes - 2}"):
        check_data_length(detached)
    _cut(attached, attached, keep=0.99)
    with pytest.raises(ImageReadError, match="truncated"):
        check_data_length(attached)
