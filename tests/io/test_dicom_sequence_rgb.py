"""DICOM time series (VolumeSequence) and colour DICOM (Vector).

The time series are phantoms written with pydicom here: 3 frames x 4 oblique slices, frame ``t``
holding ``1000 * t + 100 * slice + 10 * row + column``, files shuffled on disk. The colour file is
pydicom's ``SC_rgb_rle.dcm`` (the ``SC_rgb`` test picture, RLE lossless): ten bands of ten rows,
red, light red, green, light green, blue, light blue, black, 64 grey, 192 grey, white.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Volume
from sessionkit.io import read_header, read_image, write_image, write_nifti
from sessionkit.io.dicom_series import read_dicom_series

FRAMES, SLICES, ROWS, COLUMNS = 3, 4, 5, 6
SPACING = (2.0, 0.5, 0.75)  # slice, row, column mm
ROW_DIR = np.array([np.cos(0.3), np.sin(0.3), 0.0])  # along a row (column index)
COL_DIR = np.array([0.0, 0.0, -1.0])  # along a column (row index): coronal-ish, oblique
NORMAL = np.cross(ROW_DIR, COL_DIR)
ORIGIN = np.array([10.0, -20.0, 30.0])


def expected_frames() -> np.ndarray:
    t, s, r, c = np.indices((FRAMES, SLICES, ROWS, COLUMNS))
    return (1000 * t + 100 * s + 10 * r + c).astype(np.int16)


def write_time_series(
    folder: Path, make_slice: Any, tag: str | None = "TemporalPositionIdentifier", skip: int | None = None
) -> Path:
    """3 frames x 4 slices, one file each, told apart by ``tag`` (None: no time attribute).

    ``make_slice`` is the ``dicom_slice_writer`` fixture; ``skip`` leaves out file ``frame * 4 + slice``.
    """
    folder.mkdir()
    series, frame_uid = generate_uid(), generate_uid()
    values = expected_frames()
    time_values = {"TemporalPositionIdentifier": (1, 2, 3), "AcquisitionNumber": (7, 8, 9), "TriggerTime": (0, 40, 80)}
    order = np.random.default_rng(5).permutation(FRAMES * SLICES)
    for n, index in enumerate(order):
        t, k = divmod(int(index), SLICES)
        if skip == index:
            continue
        extra = {} if tag is None else {tag: time_values[tag][t]}
        ds = make_slice(
            MRImageStorage,
            series,
            frame_uid,
            (ROW_DIR, COL_DIR),
            ORIGIN + NORMAL * SPACING[0] * k,
            SPACING[1:],
            values[t, k],
            Modality="MR",
            InstanceNumber=1 + t * SLICES + k,
            **extra,
        )
        ds.save_as(folder / f"{n:03d}.dcm", enforce_file_format=True)
    return folder


def _check_sequence(volume: Volume) -> None:
    assert volume.frames == FRAMES and not volume.is_rgb
    assert volume.array.shape == (FRAMES, SLICES, ROWS, COLUMNS)
    assert volume.grid.spatial_shape == (SLICES, ROWS, COLUMNS)
    np.testing.assert_allclose(volume.grid.spacing, SPACING)
    np.testing.assert_allclose(volume.grid.origin, ORIGIN)
    np.testing.assert_allclose(volume.grid.direction, np.column_stack([NORMAL, COL_DIR, ROW_DIR]), atol=1e-12)
    np.testing.assert_array_equal(volume.array, expected_frames())


@pytest.mark.parametrize("tag", ["TemporalPositionIdentifier", "AcquisitionNumber", "TriggerTime"])
def test_time_series_is_read_as_frames(tmp_path: Path, dicom_slice_writer: Any, tag: str) -> None:
    folder = write_time_series(tmp_path / "cine", dicom_slice_writer, tag)
    volume = read_image(folder / "000.dcm", image_type="VolumeSequence")
    assert isinstance(volume, Volume)
    _check_sequence(volume)
    header = read_header(folder)
    assert header.frames == FRAMES and header.grid.matches(volume.grid)
    with pytest.raises(ImageReadError, match="is 4-D"):
        read_image(folder, image_type="Volume")
    with pytest.raises(ImageReadError, match="time series"):
        read_image(folder, image_type="LabelMap")


def test_time_series_to_nifti_and_nrrd(tmp_path: Path, dicom_slice_writer: Any) -> None:
    volume = read_dicom_series(write_time_series(tmp_path / "cine", dicom_slice_writer))
    data = write_nifti(volume, tmp_path / "cine.nii.gz")
    image = nib.Nifti1Image.from_bytes(gzip.decompress(data))
    assert image.shape == (COLUMNS, ROWS, SLICES, FRAMES)  # (i, j, k, t)
    np.testing.assert_array_equal(np.asanyarray(image.dataobj).T, expected_frames())
    write_image(volume, tmp_path / "cine.nrrd")
    back = read_image(tmp_path / "cine.nrrd", image_type="VolumeSequence")
    assert isinstance(back, Volume)
    _check_sequence(back)


def test_repeated_positions_without_a_time_attribute_are_refused(tmp_path: Path, dicom_slice_writer: Any) -> None:
    folder = write_time_series(tmp_path / "cine", dicom_slice_writer, tag=None)
    with pytest.raises(ImageReadError, match=r"12 slices at 4 positions: positions repeat 3 times.*absent"):
        read_dicom_series(folder)


def test_a_missing_slice_in_one_frame_is_refused(tmp_path: Path, dicom_slice_writer: Any) -> None:
    folder = write_time_series(tmp_path / "cine", dicom_slice_writer, skip=1 * SLICES + 2)  # frame 1 lacks slice 2
    with pytest.raises(
        ImageReadError,
        match=r"11 slices at 4 positions: positions repeat unevenly \(position 3 of 4 \(\S+ mm along the normal\) x2; "
        r"most positions x3\).*"
        r"TemporalPositionIdentifier/TemporalPositionIndex: 1, 2, 3",
    ):
        read_dicom_series(folder)


def test_enhanced_multiframe_with_temporal_positions(tmp_path: Path) -> None:
    """One enhanced MR file, frames listed slice-major (as scanners often do), TemporalPositionIndex per frame."""
    values = expected_frames()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"  # Enhanced MR Image Storage
    meta.MediaStorageSOPInstanceUID, meta.TransferSyntaxUID = generate_uid(), ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, generate_uid(), "MR"
    ds.SeriesInstanceUID, ds.FrameOfReferenceUID, ds.StudyInstanceUID = generate_uid(), generate_uid(), "1.2.3"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLUMNS, FRAMES * SLICES
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    shared = Dataset()
    orientation, measures = Dataset(), Dataset()
    orientation.ImageOrientationPatient = [*ROW_DIR, *COL_DIR]
    measures.PixelSpacing, measures.SliceThickness = [SPACING[1], SPACING[2]], SPACING[0]
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([orientation]), Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    groups, pixels = [], []
    for k in range(SLICES):
        for t in range(FRAMES):
            group, position, content = Dataset(), Dataset(), Dataset()
            position.ImagePositionPatient = list(ORIGIN + NORMAL * SPACING[0] * k)
            content.TemporalPositionIndex = t + 1
            group.PlanePositionSequence, group.FrameContentSequence = Sequence([position]), Sequence([content])
            groups.append(group)
            pixels.append(values[t, k])
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    ds.PixelData = np.stack(pixels).astype(np.int16).tobytes()
    ds.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)
    volume = read_image(tmp_path / "enhanced.dcm", image_type="VolumeSequence")
    assert isinstance(volume, Volume)
    _check_sequence(volume)


def _sc_rgb_bands() -> list[tuple[int, int, int]]:
    return [
        (255, 0, 0),
        (255, 128, 128),
        (0, 255, 0),
        (128, 255, 128),
        (0, 0, 255),
        (128, 128, 255),
        (0, 0, 0),
        (64, 64, 64),
        (192, 192, 192),
        (255, 255, 255),
    ]


def _test_file(name: str, folder: Path) -> Path:
    """A copy of a pydicom test file alone in ``folder`` (a file names its series: the folder is searched)."""
    found = get_testdata_file(name)
    assert found is not None
    path = folder / name
    shutil.copyfile(found, path)
    return path


def test_rgb_dicom_picture_stays_rgb_up_to_the_viewer_nifti(tmp_path: Path) -> None:
    path = _test_file("SC_rgb_rle.dcm", tmp_path)
    volume = read_image(path, image_type="Vector")
    assert isinstance(volume, Volume) and volume.is_rgb and volume.frames == 1
    assert volume.array.shape == (1, 100, 100, 3) and volume.array.dtype == np.uint8
    for band, colour in enumerate(_sc_rgb_bands()):
        assert {
            tuple(int(v) for v in pixel) for pixel in volume.array[0, 10 * band : 10 * band + 10].reshape(-1, 3)
        } == {colour}
    # no ImagePositionPatient/ImageOrientationPatient: upright picture grid with the file's 1 mm PixelSpacing
    np.testing.assert_allclose(volume.grid.index_to_lps([[0, 2, 5]]), [[5.0, 2.0, 0.0]])
    assert read_header(path).grid.matches(volume.grid)
    write_nifti(volume, tmp_path / "rgb.nii.gz")
    image = nib.load(tmp_path / "rgb.nii.gz")
    assert int(image.header["datatype"]) == 128
    data = np.asanyarray(image.dataobj)
    assert data.dtype.names == ("R", "G", "B")
    assert tuple(int(data[name][0, 45, 0]) for name in "RGB") == (0, 0, 255)  # (i, j, k) = column 0, row 45


def test_ybr_jpeg_dicom_is_converted_to_rgb(tmp_path: Path) -> None:
    path = _test_file("SC_rgb_jpeg_dcmtk.dcm", tmp_path)  # the same picture, YBR_FULL JPEG baseline (lossy)
    assert pydicom.dcmread(path).PhotometricInterpretation == "YBR_FULL"
    volume = read_image(path)
    assert isinstance(volume, Volume) and volume.is_rgb
    for band, colour in enumerate(_sc_rgb_bands()):
        assert np.abs(volume.array[0, 10 * band + 5, 50].astype(int) - colour).max() <= 8
