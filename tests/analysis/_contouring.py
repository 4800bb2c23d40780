"""A small contouring challenge: three readers draw on two case pages of a real CT (corpus C) through the
real ReadingService; the reference is the corpus label map written as ``.seg.nrrd``."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from sessionkit.geometry import ImageGrid
from sessionkit.io import encode_nifti, labelmap_to_segmentation, read_image, write_seg_nrrd
from sessionkit.runner.contours import save_drawing
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session

C = "C-nrrd-labelmap-pyradiomics"
COLORS = "1 tumor 200 80 40 255\n2 gland 10 200 250 255\n"
PAGE = """
  <Page ID="{id}" EnableSegmentEditor="Y">
    <Image ID="CT" Type="Volume"><Path>breast1_image.nrrd</Path><DefaultDestination>Red</DefaultDestination></Image>
    <QuestionSet ID="qs"><Question Type="Radio" Descriptor="Done"><Option>Yes</Option><Option>No</Option></Question>
    </QuestionSet>
  </Page>"""
PAGES = ("Train", "Case1", "Case2")


@dataclass(frozen=True)
class Challenge:
    """The results root, design file, the grid and every drawn label map by (reader, page)."""

    root: Path
    design: Path
    grid: ImageGrid
    reference: np.ndarray
    drawings: dict[tuple[str, str], np.ndarray]


def reader_drawings(reference: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Each reader's label map per case page: the tumor grown, shrunk or shifted; a gland box for some."""
    tumor = reference == 1
    gland = np.zeros(reference.shape, dtype=bool)
    gland[5:9, 10:30, 5:20] = True
    out: dict[str, dict[str, np.ndarray]] = {}
    variants = {
        "alice": (ndimage.binary_dilation(tumor), True),
        "bob": (ndimage.binary_erosion(tumor), False),
        "carol": (np.roll(tumor, 2, axis=1), True),
    }
    for reader, (mask, draws_gland) in variants.items():
        labels = np.zeros(reference.shape, dtype=np.uint8)
        if draws_gland:
            labels[gland] = 2
        labels[mask] = 1
        out[reader] = {"Case1": labels, "Case2": np.where(labels == 1, 1, 0).astype(np.uint8)}
    return out


def run_challenge(tmp_path: Path, corpus: Path, *, reference_segment: str = "") -> Challenge:
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(corpus / C / "breast1_image.nrrd", images / "breast1_image.nrrd")
    (images / "colors.txt").write_text(COLORS, encoding="utf-8")
    session_file = images / "challenge.xml"
    pages = "".join(PAGE.format(id=page) for page in PAGES)
    session_file.write_text(f'<Session ROIColorFile="colors">{pages}</Session>', encoding="utf-8")
    grid = read_image(images / "breast1_image.nrrd").grid
    reference_labels = np.asarray(read_image(corpus / C / "breast1_label.nrrd").array, dtype=np.uint8)
    reference = tmp_path / "truth" / "breast1.seg.nrrd"
    reference.parent.mkdir()
    write_seg_nrrd(labelmap_to_segmentation(reference_labels, grid, {1: ("Tumor", (255, 0, 0))}), reference)
    design = tmp_path / "design.csv"
    design.write_text(
        "page_id,case_id,reference_contour,reference_segment\n"
        f"Case1,1,truth/breast1.seg.nrrd,{reference_segment}\nCase2,2,truth/breast1.seg.nrrd,\n",
        encoding="utf-8",
    )
    service = ReadingService(load_session(session_file), session_file, tmp_path / "runs")
    drawings: dict[tuple[str, str], np.ndarray] = {}
    for reader, maps in reader_drawings(reference_labels).items():
        run_id = service.login(reader)["run_id"]
        for n, page in enumerate(PAGES):
            labels = maps.get(page, np.zeros(grid.spatial_shape, np.uint8) + (page == "Train"))
            save_drawing(service, run_id, "CT", encode_nifti(labels, grid, label=True), grid)
            drawings[(reader, page)] = labels
            version = service.current(run_id)["state_version"]
            transition = "finish" if n == len(PAGES) - 1 else "next"
            service.submit(run_id, state_version=version, transition=transition, answers={"1": ["Y", "N"]})
    return Challenge(tmp_path / "runs", design, grid, reference_labels, drawings)
