"""Identity tags of one DICOM file (SeriesInstanceUID), read without pixel data.

Used by the validator's files pass (rules SK806/SK807): ``DicomRead="Y"`` means "load the series
this file belongs to", which needs a SeriesInstanceUID (validation-rules §3, R2).
"""

from __future__ import annotations

from pathlib import Path

from sessionkit.io.dicom_series import read_dataset


def read_series_instance_uid(path: str | Path) -> str | None:
    """SeriesInstanceUID (0020,000E) of one DICOM file, ``None`` when the tag is absent or empty.

    Parameters
    ----------
    path : str or Path
        A DICOM file (only the tag is parsed; pixel data is not read).

    Raises
    ------
    ImageReadError
        When the file cannot be parsed as DICOM.
    """
    header = read_dataset(Path(path), stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
    uid = str(getattr(header, "SeriesInstanceUID", "") or "").strip()
    return uid or None
