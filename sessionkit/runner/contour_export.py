"""``sessionkit export RUN_DIR --contours --format seg.nrrd|dicom-seg|nifti`` (clarifications C10, issue #7).

For each run folder, the latest acknowledged label map of every (page instance, image) in
``annotations.csv`` (kinds ``labelmap``, ``redisplay``, ``merge``) is written to
``<out>/<reader_id>/<session_stem>/<PgGroup folder>/<PageID>[-Rep<n>]_<ImageID>.<ext>``, with segment
names and colours from the run's colour table copy (``.sessionkit/colors.txt``; the built-in table
when the session has no ROIColorFile). Values the table lacks are named ``Label_<value>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sessionkit.errors import ImageReadError
from sessionkit.io import (
    labelmap_to_segmentation,
    read_nrrd,
    sniff_format,
    write_dicom_seg,
    write_nifti,
    write_seg_nrrd,
)
from sessionkit.responses.export import RunRecord
from sessionkit.responses.paths import RunPaths
from sessionkit.responses.run_folder import acknowledged_file
from sessionkit.runner.history import latest_labelmaps
from sessionkit.scene import color_lookup, resolve_image_path
from sessionkit.session import DEFAULT_COLOR_TABLE, read_color_table

#: ``--format`` value -> file suffix.
CONTOUR_FORMATS = {"seg.nrrd": ".seg.nrrd", "nifti": ".nii.gz", "dicom-seg": ".dcm"}


@dataclass(frozen=True)
class ContourExport:
    """One exported (or skipped) label map.

    Attributes
    ----------
    source : Path
        The run's ``-quizlabel.nrrd``.
    output : Path or None
        The written file; None when skipped.
    note : str
        Why it was skipped (empty when written).
    """

    source: Path
    output: Path | None
    note: str = ""


def export_contours(
    run: RunRecord,
    output_format: str,
    out_dir: Path,
    *,
    images_root: Path | None = None,
    seg_type: str = "binary",
) -> list[ContourExport]:
    """Export every reader label map of one run (see the module docstring).

    Parameters
    ----------
    run : RunRecord
        From :func:`sessionkit.responses.export.read_run` (acknowledged rows only).
    output_format : {"seg.nrrd", "nifti", "dicom-seg"}
    out_dir : Path
        Root of the export; files go under ``<reader_id>/<session_stem>/``.
    images_root : Path, optional
        Folder the session's image paths are relative to; required for ``dicom-seg``, whose files
        reference the background DICOM series.
    seg_type : {"binary", "labelmap", "fractional"}
        ``dicom-seg`` only: the SEG's SegmentationType (:func:`~sessionkit.io.write_dicom_seg`).

    Returns
    -------
    list of ContourExport
        In (page index, repetition, image id) order. Empty label maps are skipped for ``dicom-seg``
        (a DICOM SEG needs a segment).

    Raises
    ------
    ImageReadError
        A logged label map is missing or unreadable; ``dicom-seg`` without ``images_root`` or
        with a background that is not a DICOM series.
    GeometryError
        ``dicom-seg``: the label map does not lie on the referenced series' grid.
    """
    if output_format not in CONTOUR_FORMATS:
        raise ImageReadError(f"unknown contour format {output_format!r}; use one of {', '.join(CONTOUR_FORMATS)}")
    paths = RunPaths(run.run_dir.parent.parent, run.run_dir.parent.name, run.run_dir.name)
    table = color_lookup(read_color_table(paths.colors) if paths.colors.is_file() else DEFAULT_COLOR_TABLE)
    latest = latest_labelmaps(run.annotations)
    results = []
    for _, row in sorted(latest.items(), key=lambda item: (item[0][0].page_index, item[0][0].rep, item[0][1])):
        if not row["sha256"]:
            continue
        source = run.run_dir.parent / row["file"]
        volume = read_nrrd(acknowledged_file(source, row["sha256"]))  # a kill may have left it pending
        segmentation = labelmap_to_segmentation(volume.array, volume.grid, table, source=str(source))
        name = source.name.removesuffix("-quizlabel.nrrd") + CONTOUR_FORMATS[output_format]
        target = out_dir / run.run_dir.parent.name / Path(row["file"]).parent / name
        if output_format == "dicom-seg" and not segmentation.segments:
            results.append(ContourExport(source, None, "empty label map: a DICOM SEG needs a segment"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if output_format == "seg.nrrd":
            write_seg_nrrd(segmentation, target)
        elif output_format == "nifti":
            write_nifti(segmentation, target, label=True)
        else:
            reference = _dicom_background(images_root, row["image_path"], row["page_instance"])
            write_dicom_seg(segmentation, target, reference=reference, seg_type=seg_type)
        results.append(ContourExport(source, target))
    return results


def _dicom_background(images_root: Path | None, image_path: str, instance: str) -> Path:
    """The background series of a label map, refused unless it is DICOM."""
    if images_root is None:
        raise ImageReadError("--format dicom-seg needs --images-root: the SEG references the background series")
    background = resolve_image_path(images_root, image_path)
    kind = sniff_format(background)
    if kind != "dicom":
        raise ImageReadError(
            f"{image_path} (page {instance}) is a {kind} image, not a DICOM series: a DICOM SEG must reference one; "
            "export this run as seg.nrrd or nifti"
        )
    return background
