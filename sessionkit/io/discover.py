"""Find the images of each case in a folder of case folders (``sessionkit build --discover``).

Each sub-folder of the folder is one case (its name is the ``case_id``). Every image found under it
(recursively) becomes a column of that case's row: each DICOM image series (named by its Modality:
``ct``, ``mr``, ``pt``…), each DICOM SEG (``seg``) and RT Structure Set (``rtstruct``), and each
NRRD, NIfTI, Slicer ``.seg.nrrd`` or MetaImage file (named by its file name without the image
extensions). Names repeated within a case get ``_2``, ``_3``… in file order. Each column ``<name>``
comes with ``<name>_type`` (the session ``Image@Type`` the file reads as: ``Volume``,
``Segmentation`` or ``RTStruct``) and ``<name>_dicom`` (``Y`` for a DICOM file, the value for
``DicomRead``).
"""

from __future__ import annotations

import re
from pathlib import Path

from sessionkit.errors import ImageReadError
from sessionkit.io.dicom_seg import SEG_SOP_CLASSES
from sessionkit.io.dicom_series import group_dicom_series, is_dicom, read_dataset
from sessionkit.io.registry import sniff_format
from sessionkit.io.rtstruct import RTSTRUCT_SOP_CLASS

#: File-name endings dropped to name a column, longest first.
IMAGE_SUFFIXES = (".seg.nrrd", ".nii.gz", ".nrrd", ".nhdr", ".nii", ".mha", ".mhd")
#: ``Image@Type`` of each discoverable non-DICOM format.
_FILE_TYPES = {"nrrd": "Volume", "nifti": "Volume", "metaimage": "Volume", "seg_nrrd": "Segmentation"}


def _column_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return name if name and not name[0].isdigit() else f"image_{name}"


def _file_stem(path: Path) -> str:
    lowered = path.name.lower()
    suffix = next((s for s in IMAGE_SUFFIXES if lowered.endswith(s)), path.suffix)
    return path.name[: len(path.name) - len(suffix)] if suffix else path.name


def discover_case(folder: Path) -> list[tuple[str, Path, str, bool]]:
    """The images under one case folder.

    Parameters
    ----------
    folder : Path
        A case folder (searched recursively; files that are no image are skipped).

    Returns
    -------
    list of (name, path, image_type, dicom)
        ``name`` before de-duplication; ``path`` the file to write in ``<Path>`` (the first file, in
        name order, of a DICOM series); ``image_type`` the session ``Image@Type``; ``dicom`` true
        for DICOM objects (``DicomRead="Y"``). DICOM objects first (by series number), then files in
        name order.

    Raises
    ------
    ImageReadError
        If a DICOM file cannot be parsed.
    """
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    dicom = [path for path in files if is_dicom(path)]
    found: list[tuple[str, Path, str, bool]] = []
    series = group_dicom_series(dicom)
    for entry in sorted(series, key=lambda e: (e.series_number is None, e.series_number or 0, str(e.files[0]))):
        first = min(entry.files)
        if entry.sop_class_uid in SEG_SOP_CLASSES:
            found.append(("seg", first, "Segmentation", True))
        elif entry.sop_class_uid == RTSTRUCT_SOP_CLASS:
            found.append(("rtstruct", first, "RTStruct", True))
        else:
            modality = str(getattr(read_dataset(first, stop_before_pixels=True), "Modality", "") or "series")
            found.append((_column_name(modality), first, "Volume", True))
    dicom_files = set(dicom)
    for path in files:
        if path in dicom_files:
            continue
        try:
            image_type = _FILE_TYPES.get(sniff_format(path))
        except ImageReadError:
            continue  # not an image (notes, JSON sidecars, a detached NRRD's data file)
        if image_type is not None:
            found.append((_column_name(_file_stem(path)), path, image_type, False))
    return found


def discover_cases(root: str | Path) -> list[dict[str, str]]:
    """One case-list row per sub-folder of ``root``: ``case_id`` and the images found in it.

    Parameters
    ----------
    root : str or Path
        Folder of case folders; files directly in it are ignored.

    Returns
    -------
    list of dict
        In case-folder name order: ``case_id`` (the folder name) and, per image, ``<name>`` (absolute
        path), ``<name>_type`` and ``<name>_dicom`` (``Y``/``N``); see the module docstring.

    Raises
    ------
    ImageReadError
        If ``root`` is not a folder, has no case folder, or a DICOM file cannot be parsed.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise ImageReadError(f"{folder}: not a folder; --discover needs a folder with one sub-folder per case")
    cases = sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))
    if not cases:
        raise ImageReadError(f"{folder}: no case folder in it; --discover makes one case per sub-folder")
    rows: list[dict[str, str]] = []
    for case in cases:
        row = {"case_id": case.name}
        for name, path, image_type, dicom in discover_case(case):
            column, number = name, 1
            while column in row:
                number += 1
                column = f"{name}_{number}"
            row[column] = str(path.resolve())
            row[f"{column}_type"] = image_type
            row[f"{column}_dicom"] = "Y" if dicom else "N"
        rows.append(row)
    return rows
