"""Real sample images shipped inside installed registry packages (no download at run time).

The demo session (``sample_sessions/demo.xml``) uses these files; see ``sample_sessions/README.md``
for provenance and licences.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

#: File name in the demo's ``images/`` folder -> (package, resource path inside it).
SAMPLE_IMAGES: dict[str, tuple[str, str]] = {
    "CTChest4.nrrd": ("slicerio", "data/CTChest4.nrrd"),
    "Segmentation.seg.nrrd": ("slicerio", "data/Segmentation.seg.nrrd"),
    "anatomical.nii": ("nibabel", "tests/data/anatomical.nii"),
}


def copy_sample_images(target: Path) -> list[Path]:
    """Copy the sample images out of their packages into ``target`` (created if needed).

    Returns
    -------
    list of Path
        The copied files, in :data:`SAMPLE_IMAGES` order.

    Raises
    ------
    FileNotFoundError
        If a package is installed without its data file.
    """
    target.mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    for name, (package, resource) in SAMPLE_IMAGES.items():
        source = resources.files(package).joinpath(resource)
        destination = target / name
        with resources.as_file(source) as source_path:
            shutil.copyfile(source_path, destination)
        copied.append(destination)
    return copied
