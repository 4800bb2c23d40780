"""Synthetic DICOM for the io benchmarks, written with pydicom: a CT series and an RT Structure Set
with full references (clarifications C12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RTStructureSetStorage, generate_uid

PIXEL = 0.9765625  # mm
ORIGIN_XY = -250.0  # mm, centre of the first pixel
SLICE = 1.25  # mm
Z0 = -300.0


def _meta(sop_class: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def write_series(folder: Path, slices: int, size: int = 512) -> dict[str, object]:
    """Write a size x size x slices CT series (files in shuffled order); returns its UIDs.

    Returns ``{"study", "series", "frame_of_reference", "sops"}`` with ``sops`` in slice order.
    """
    series_uid, for_uid, study_uid = generate_uid(), generate_uid(), generate_uid()
    rng = np.random.default_rng(0)
    sops = []
    for index in range(slices):
        meta = _meta(CTImageStorage)
        ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = (
            "CT",
            study_uid,
            series_uid,
            for_uid,
        )
        ds.PatientName, ds.PatientID, ds.InstanceNumber = "Bench^Series", "bench", index + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [ORIGIN_XY, ORIGIN_XY, Z0 + SLICE * index]
        ds.PixelSpacing, ds.SliceThickness = [PIXEL, PIXEL], SLICE
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = rng.integers(0, 4096, size=(size, size), dtype=np.uint16).tobytes()
        # shuffle the file order against the slice order, as PACS exports do
        ds.save_as(folder / f"{(index * 7919) % slices:04d}.dcm", enforce_file_format=True)
        sops.append(ds.SOPInstanceUID)
    return {"study": study_uid, "series": series_uid, "frame_of_reference": for_uid, "sops": sops}


def write_rtstruct(path: Path, uids: dict[str, object], rois: dict[str, list[tuple[int, np.ndarray]]]) -> None:
    """RT Structure Set whose ROIs are ``name -> [(slice index, (N, 2) polygon x/y in mm), ...]``.

    Every contour carries its ContourImageSequence, and the referenced series lists every slice.
    """
    sops: list[str] = uids["sops"]  # type: ignore[assignment]
    meta = _meta(RTStructureSetStorage)
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = RTStructureSetStorage, meta.MediaStorageSOPInstanceUID, "RTSTRUCT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids["study"], generate_uid()
    ds.PatientName, ds.PatientID, ds.StructureSetLabel = "Bench^Series", "bench", "bench"
    images = Sequence()
    for sop in sops:
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = CTImageStorage, sop
        images.append(item)
    series = Dataset()
    series.SeriesInstanceUID, series.ContourImageSequence = uids["series"], images
    study = Dataset()
    study.ReferencedSOPInstanceUID, study.RTReferencedSeriesSequence = uids["study"], Sequence([series])
    frame = Dataset()
    frame.FrameOfReferenceUID, frame.RTReferencedStudySequence = uids["frame_of_reference"], Sequence([study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])
    ds.StructureSetROISequence, ds.ROIContourSequence = Sequence(), Sequence()
    ds.RTROIObservationsSequence = Sequence()
    for number, (name, contours) in enumerate(rois.items(), start=1):
        roi = Dataset()
        roi.ROINumber, roi.ReferencedFrameOfReferenceUID, roi.ROIName = number, uids["frame_of_reference"], name
        roi.ROIGenerationAlgorithm = "MANUAL"
        ds.StructureSetROISequence.append(roi)
        observation = Dataset()
        observation.ObservationNumber, observation.ReferencedROINumber = number, number
        observation.RTROIInterpretedType, observation.ROIInterpreter = "ORGAN", ""
        ds.RTROIObservationsSequence.append(observation)
        contour_items = Sequence()
        for slice_index, polygon in contours:
            contour = Dataset()
            reference = Dataset()
            reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = CTImageStorage, sops[slice_index]
            contour.ContourImageSequence = Sequence([reference])
            contour.ContourGeometricType, contour.NumberOfContourPoints = "CLOSED_PLANAR", len(polygon)
            z = Z0 + SLICE * slice_index
            contour.ContourData = [f"{v:.4f}" for x, y in polygon for v in (x, y, z)]
            contour_items.append(contour)
        item = Dataset()
        item.ReferencedROINumber, item.ROIDisplayColor, item.ContourSequence = number, [255, 0, 0], contour_items
        ds.ROIContourSequence.append(item)
    ds.save_as(path, enforce_file_format=True)
