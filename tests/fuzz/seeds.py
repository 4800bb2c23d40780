"""Seed files of every image format the readers handle: corpus files, plus phantoms written by the
real writers for the formats the corpus lacks (raw NRRD, MetaImage, PNG)."""

from __future__ import annotations

from pathlib import Path

import nrrd
import numpy as np
from PIL import Image

#: Small corpus files, one or more per format (paths under ``../shared/corpus``).
CORPUS_SEEDS = (
    "C-nrrd-labelmap-pyradiomics/breast1_label.nrrd",
    "B3-seg-labelmap-dcmqi-24x38x3/24x38x3/nrrd/label.nrrd",
    "D-segnrrd-slicerio/EclipseProstate_Bladder_Union_PTV.seg.nrrd",
    "A2-rtstruct-sts002-ct-mr-pet/PET/nifti/mask/mask.nii.gz",
    "E2-nifti-nibabel/anatomical.nii",
    "F-pydicom/CT_small.dcm",
    "F-pydicom/MR_small.dcm",
    "F-pydicom/rtstruct.dcm",
    "B1-seg-binary-dcmqi-ct3slice/liver.dcm",
    "G-sliceomatic-tag/test01.dcm.tag",
)


def written_seeds(folder: Path) -> list[Path]:
    """A raw NRRD (pynrrd), a MetaImage with its data inline and a PNG (Pillow) in ``folder``."""
    volume = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    raw = folder / "raw.nrrd"
    nrrd.write(str(raw), volume, {"encoding": "raw", "space": "left-posterior-superior"}, index_order="C")
    mha = folder / "inline.mha"
    mha.write_bytes(
        b"ObjectType = Image\nNDims = 3\nDimSize = 6 5 4\nElementType = MET_SHORT\n"
        b"ElementSpacing = 1 1 2\nOffset = 0 0 0\nElementDataFile = LOCAL\n" + volume.tobytes()
    )
    png = folder / "picture.png"
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(png)
    return [raw, mha, png]
