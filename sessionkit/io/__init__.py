"""File formats in and out of the image model (the only package that knows file layouts).

Readers return :class:`~sessionkit.imaging.Volume` or :class:`~sessionkit.imaging.Segmentation`
in LPS mm with arrays ``(slice, row, column)``; :func:`read_image` picks the reader by content.
"""

from sessionkit.io._common import ColorTable
from sessionkit.io.contours import (
    LabelSummary,
    decode_drawing,
    encode_labelmap_nrrd,
    labelmap_to_segmentation,
    loose_name,
    merge_labelmaps,
    read_labelmap,
    resample_labels,
    starting_labelmap,
    summarize_labels,
)
from sessionkit.io.describe import describe, describe_references
from sessionkit.io.dicom_seg import read_dicom_seg, write_dicom_seg
from sessionkit.io.dicom_series import read_dicom_mask_series, read_dicom_series
from sessionkit.io.nifti import encode_nifti, read_nifti, read_nifti_bytes, write_nifti
from sessionkit.io.nrrd import read_nrrd, write_nrrd
from sessionkit.io.registry import ImageHeader, read_header, read_image, sniff_format, write_image
from sessionkit.io.rtstruct import read_rtstruct
from sessionkit.io.seg_nrrd import read_seg_nrrd, write_seg_nrrd

__all__ = [
    "ColorTable",
    "ImageHeader",
    "LabelSummary",
    "decode_drawing",
    "describe",
    "describe_references",
    "encode_labelmap_nrrd",
    "encode_nifti",
    "labelmap_to_segmentation",
    "loose_name",
    "merge_labelmaps",
    "read_dicom_mask_series",
    "read_dicom_seg",
    "read_dicom_series",
    "read_header",
    "read_image",
    "read_labelmap",
    "read_nifti",
    "read_nifti_bytes",
    "read_nrrd",
    "read_rtstruct",
    "read_seg_nrrd",
    "resample_labels",
    "sniff_format",
    "starting_labelmap",
    "summarize_labels",
    "write_dicom_seg",
    "write_image",
    "write_nifti",
    "write_nrrd",
    "write_seg_nrrd",
]
