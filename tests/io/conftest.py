"""The asymmetric phantom (ARCHITECTURE §7) and its files written by the formats' own libraries.

The phantom is 5 x 7 x 9 voxels (slice, row, column), anisotropic spacing, an oblique direction,
values that encode their index, and one marked corner voxel. Every file is written by pynrrd,
nibabel or slicerio directly from the phantom's explicit parts (spacing, direction, origin), not
through sessionkit's writers, so a reader bug cannot hide behind the same bug in a writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import nrrd
import numpy as np
import pytest
import slicerio

SHAPE = (5, 7, 9)  # slice, row, column
SPACING = np.array([2.5, 0.8, 1.3])  # mm along slice, row, column


def _rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


#: Unit LPS vectors of the slice, row and column axes (columns), oblique.
DIRECTION = _rotation(0.3, -0.2, 0.5)[:, ::-1]
ORIGIN = np.array([-12.5, 30.25, 7.0])  # LPS mm, centre of voxel (0, 0, 0)
CORNER = (4, 6, 8)  # marked voxel (last slice, last row, last column)


def phantom_volume() -> np.ndarray:
    """int16 values ``100*slice + 10*row + column``; corner voxel set to 2000."""
    s, r, c = np.indices(SHAPE)
    values = (100 * s + 10 * r + c).astype(np.int16)
    values[CORNER] = 2000
    return values


def phantom_labels() -> np.ndarray:
    """uint8 label map: 1 in a block, 2 in the first column, 3 in the marked corner."""
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[1:3, 2:5, 3:7] = 1
    labels[:, :, 0] = 2
    labels[CORNER] = 3
    return labels


@dataclass(frozen=True)
class Phantom:
    """The phantom's parts, for tests (conftest modules are not importable under importlib mode)."""

    shape: tuple[int, int, int] = SHAPE
    spacing: np.ndarray = field(default_factory=lambda: SPACING)
    direction: np.ndarray = field(default_factory=lambda: DIRECTION)
    origin: np.ndarray = field(default_factory=lambda: ORIGIN)
    corner: tuple[int, int, int] = CORNER

    def volume(self) -> np.ndarray:
        return phantom_volume()

    def labels(self) -> np.ndarray:
        return phantom_labels()


@pytest.fixture(scope="session")
def phantom() -> Phantom:
    return Phantom()


@dataclass(frozen=True)
class PhantomFiles:
    """Phantom files by name; ``volumes`` hold phantom_volume(), ``labels`` phantom_labels()."""

    volumes: dict[str, Path]
    labels: dict[str, Path]
    segmentation: Path  # slicerio .seg.nrrd with two overlapping layers


def _ijk_lps() -> np.ndarray:
    """(i, j, k) = (column, row, slice) index -> LPS mm."""
    matrix = np.eye(4)
    matrix[:3, 0] = DIRECTION[:, 2] * SPACING[2]
    matrix[:3, 1] = DIRECTION[:, 1] * SPACING[1]
    matrix[:3, 2] = DIRECTION[:, 0] * SPACING[0]
    matrix[:3, 3] = ORIGIN
    return matrix


def _write_nrrd(path: Path, array: np.ndarray, space: str) -> Path:
    ijk = _ijk_lps()
    flip = np.diag([-1.0, -1.0, 1.0]) if space in ("right-anterior-superior", "RAS") else np.eye(3)
    header = {
        "space": space,
        "space directions": (flip @ ijk[:3, :3]).T,  # one row per file axis i, j, k
        "space origin": flip @ ijk[:3, 3],
        "kinds": ["domain"] * 3,
        "encoding": "gzip",
    }
    nrrd.write(str(path), np.asfortranarray(array.T), header, index_order="F")
    return path


def _write_nifti(path: Path, array: np.ndarray, endianness: str = "<") -> Path:
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ _ijk_lps()
    header = nib.Nifti1Header(endianness=endianness)
    header.set_data_dtype(array.dtype)
    image = nib.Nifti1Image(array.T, affine, header=header)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    nib.save(image, str(path))
    return path


@pytest.fixture(scope="session")
def phantom_files(tmp_path_factory: pytest.TempPathFactory) -> PhantomFiles:
    root = tmp_path_factory.mktemp("phantom")
    volume, labels = phantom_volume(), phantom_labels()
    volumes = {
        "nrrd-lps": _write_nrrd(root / "v_lps.nrrd", volume, "left-posterior-superior"),
        "nrrd-ras": _write_nrrd(root / "v_ras.nrrd", volume, "right-anterior-superior"),
        "nhdr-lps": _write_nrrd(root / "v_lps.nhdr", volume, "left-posterior-superior"),
        "nifti": _write_nifti(root / "v.nii", volume),
        "nifti-gz": _write_nifti(root / "v.nii.gz", volume),
        "nifti-big-endian": _write_nifti(root / "v_be.nii", volume, endianness=">"),
    }
    label_files = {
        "nrrd-lps": _write_nrrd(root / "l_lps.nrrd", labels, "left-posterior-superior"),
        "nrrd-ras": _write_nrrd(root / "l_ras.nrrd", labels, "right-anterior-superior"),
        "nifti-gz": _write_nifti(root / "l.nii.gz", labels),
    }
    second = np.zeros(SHAPE, dtype=np.uint8)
    second[0:4, 0:4, 0:4] = 1  # overlaps labels 1 and 2 of the first layer
    segmentation = {
        "voxels": np.stack([labels.T, second.T]),  # (layer, i, j, k)
        "ijkToLPS": _ijk_lps(),
        "segments": [
            {"id": "s1", "name": "block", "labelValue": 1, "layer": 0, "color": [1.0, 0.0, 0.0]},
            {"id": "s2", "name": "column", "labelValue": 2, "layer": 0, "color": [0.0, 1.0, 0.0]},
            {"id": "s3", "name": "corner", "labelValue": 3, "layer": 0, "color": [0.0, 0.0, 1.0]},
            {"id": "s4", "name": "cube", "labelValue": 1, "layer": 1, "color": [0.5, 0.25, 1.0]},
        ],
    }
    seg_path = root / "phantom.seg.nrrd"
    slicerio.write_segmentation(str(seg_path), segmentation)
    return PhantomFiles(volumes=volumes, labels=label_files, segmentation=seg_path)


def dicom_slice(
    sop_class: str,
    series: str,
    frame: str,
    directions: tuple[np.ndarray, np.ndarray],
    position: np.ndarray,
    pixel_spacing: tuple[float, float],
    stored: np.ndarray,
    **attributes: Any,
) -> Any:
    """One single-frame int16 image as a pydicom data set (test-only writer, clarifications C12).

    ``directions``: LPS unit vectors along a row and along a column (ImageOrientationPatient);
    ``stored``: (rows, columns) stored values; ``attributes``: further DICOM keywords and values.
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID, ds.FrameOfReferenceUID, ds.StudyInstanceUID = series, frame, "1.2.3"
    ds.PatientName, ds.PatientID, ds.StudyDate, ds.StudyTime = "Phantom^Io", "io-phantom", "20260101", "120000"
    ds.PatientBirthDate = ds.PatientSex = ds.AccessionNumber = ds.ReferringPhysicianName = ds.StudyID = ""
    ds.ImageOrientationPatient = [*directions[0], *directions[1]]
    ds.ImagePositionPatient = list(position)
    ds.PixelSpacing = list(pixel_spacing)
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = stored.astype(np.int16).tobytes()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def write_phantom_dicom_series(folder: Path, volume: np.ndarray, series_number: int = 1, description: str = "") -> Path:
    """The oblique phantom grid as a CT series (stored = value + 1000, intercept -1000), one file
    per slice; files named in reverse slice order so reading must sort."""
    from pydicom.uid import CTImageStorage, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series, frame = generate_uid(), generate_uid()
    for k in range(SHAPE[0]):
        ds = dicom_slice(
            CTImageStorage,
            series,
            frame,
            (DIRECTION[:, 2], DIRECTION[:, 1]),
            ORIGIN + DIRECTION[:, 0] * SPACING[0] * k,
            (SPACING[1], SPACING[2]),
            volume[k].astype(np.int32) + 1000,
            Modality="CT",
            SeriesNumber=series_number,
            SeriesDescription=description,
            InstanceNumber=k + 1,
            SliceThickness=SPACING[0],
            RescaleSlope=1,
            RescaleIntercept=-1000,
        )
        ds.save_as(folder / f"{SHAPE[0] - 1 - k}.dcm", enforce_file_format=True)
    return folder


@pytest.fixture(scope="session")
def phantom_dicom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of the phantom volume as a CT series (see :func:`write_phantom_dicom_series`)."""
    return write_phantom_dicom_series(tmp_path_factory.mktemp("phantom_dicom") / "ct", phantom_volume())


@pytest.fixture(scope="session")
def dicom_series_writer() -> Any:
    """:func:`write_phantom_dicom_series` (conftest modules are not importable under importlib mode)."""
    return write_phantom_dicom_series


@pytest.fixture(scope="session")
def dicom_slice_writer() -> Any:
    """:func:`dicom_slice`."""
    return dicom_slice
