"""Stage 4 of validation: files on disk (SK801–SK820) without decoding any image here.

The colour file and Picture files are resolved against the session folder; image ``Path`` values
against the images root (clarifications C2: by default the session file's folder). Existence,
letter case (SK802) and links leaving the root (SK803) are checked with the file system only.
Image contents (SK804, SK805, SK808–SK810) need a decoder, which lives in a higher layer: pass an
:class:`ImageProbe` and this module compares what it reports. Without one those rules are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sessionkit.errors import Problem, SessionKitError
from sessionkit.session.colors import check_color_table, color_file_path
from sessionkit.session.findings import Findings, image_name, question_name, where
from sessionkit.session.model import Page, Session, SessionImage
from sessionkit.session.rules_image import path_escape_reason

BROWSER_PICTURES = ("png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "ico")
CONVERTIBLE_PICTURES = ("pbm", "pgm", "ppm", "xbm", "xpm", "tif", "tiff", "tga", "wbmp", "icns")


class GridLike(Protocol):
    """What the files pass needs from an image grid (``sessionkit.geometry.ImageGrid`` satisfies it)."""

    def differences(self, other: Any) -> list[str]:
        """Human-readable differences from ``other`` (empty when the grids match within tolerance)."""
        ...


@dataclass(frozen=True)
class ImageFacts:
    """Header facts about one image file, reported by an :class:`ImageProbe`.

    Attributes
    ----------
    grid : GridLike or None
        Voxel grid (LPS mm); ``None`` for pictures.
    bounds : ((3,) tuple, (3,) tuple) or None
        LPS mm bounding box (min corner, max corner) of the voxel centres, for SK809.
    frame_of_reference_uid : str or None
        DICOM Frame of Reference UID when the file has one (compared by SK808, C4).
    segment_names : tuple of str or None
        Segment names (and IDs) of a segmentation, for SK810.
    integer_voxels : bool or None
        False when a LabelMap's voxel type is not integer (SK805).
    min_value : float or None
        Smallest voxel value of a LabelMap (SK805 when negative).
    series_instance_uid : str or None
        DICOM SeriesInstanceUID of the series the file belongs to.
    referenced_series_uids : tuple of str or None
        Series an RTStruct refers to (SK807 when none of them is on the page).
    dicom_problem : str or None
        Why a ``DicomRead="Y"`` file is not usable as a DICOM series (missing tag, not DICOM): SK806.
    data_files : tuple of Path
        Other files the header names (a detached NRRD's ``data file``, a MetaImage's
        ``ElementDataFile``), links not followed: SK803
        when one resolves outside the images root, SK804 when one is not a regular file.
    """

    grid: GridLike | None = None
    bounds: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    frame_of_reference_uid: str | None = None
    segment_names: tuple[str, ...] | None = None
    integer_voxels: bool | None = None
    min_value: float | None = None
    series_instance_uid: str | None = None
    referenced_series_uids: tuple[str, ...] | None = None
    dicom_problem: str | None = None
    data_files: tuple[Path, ...] = ()


class ImageProbe(Protocol):
    """Hook that opens one image (headers first) for the files pass.

    Called with the resolved file and the session's Image element. Raise
    :class:`sessionkit.errors.ImageReadError` (or any ``SessionKitError``) when the file cannot be
    read as its ``Type``; the message becomes SK804.
    """

    def __call__(self, path: Path, image: SessionImage) -> ImageFacts:
        """Return the header facts of ``path``."""
        ...


def _case_insensitive(root: Path, parts: list[str]) -> Path | None:
    """Find ``root/parts`` ignoring letter case, component by component (D16)."""
    current = root
    for part in parts:
        if part in ("", "."):
            continue
        try:
            names = os.listdir(current)
        except OSError:
            return None
        matches = [n for n in names if n.lower() == part.lower()]
        if not matches:
            return None
        current = current / matches[0]
    return current


class _FilesPass:
    def __init__(self, session: Session, images_root: Path, probe: ImageProbe | None, out: Findings) -> None:
        self.session = session
        self.folder = Path(session.file).parent
        self.images_root = images_root
        self.real_root = images_root.resolve()
        self.probe = probe
        self.out = out
        self.resolved: dict[str, Path | None] = {}
        self.facts: dict[str, ImageFacts | None] = {}

    def colour_file(self) -> None:
        stem = self.session.roi_color_file
        path = color_file_path(self.session.file, stem)
        if path is None or stem is None or "ROIColorFile" in self.session.invalid:
            return
        if "/" in stem or "\\" in stem or ".." in stem or ":" in stem:
            return  # SK302 already reported
        table, problems = check_color_table(path)
        for problem in problems:
            if problem.code == "SK812":
                self.out.add(
                    "SK812",
                    f"ROIColorFile '{self.session.roi_color_file}': {path} not found in the session folder",
                    self.session.location,
                    attribute="ROIColorFile",
                    found=str(path),
                )
            else:
                self.out.problems.append(problem)
        if table is not None and table.max_label_value > 255:
            drawing = [p for p in self.session.pages if p.enable_segment_editor]
            if drawing:
                high = [e for e in table.entries if e.label_value > 255]
                self.out.add(
                    "SK820",
                    f"colour file {path} has id {high[0].label_value} (line {high[0].line}) above "
                    f"255 while {len(drawing)} page(s) allow drawing (first: page {drawing[0].index} "
                    f"'{drawing[0].id}')",
                    self.session.location,
                    attribute="ROIColorFile",
                    found=[e.label_value for e in high],
                    expected="1-255",
                    related=[f"{path}:{e.line}" for e in high][:5],
                )

    def pictures(self) -> None:
        for page in self.session.pages:
            for question_set in page.question_sets:
                for question in question_set.questions:
                    if question.type != "Picture":
                        continue
                    name = question_name(page, question_set, question)
                    for option in question.options:
                        label = option.label.replace("\\", "/")
                        if not label or path_escape_reason(label):
                            continue
                        extension = label.rsplit(".", 1)[-1].lower() if "." in label else ""
                        if extension not in BROWSER_PICTURES + CONVERTIBLE_PICTURES:
                            self.out.add(
                                "SK819",
                                f"{name}: picture '{option.label}' has format '{extension}', "
                                "which browsers cannot show and sessionkit cannot convert",
                                option.location,
                                page=page,
                                found=extension,
                            )
                        target = self.folder / label
                        if not target.is_file():
                            self.out.add(
                                "SK818",
                                f"{name}: picture '{option.label}' not found ({target})",
                                option.location,
                                page=page,
                                found=str(target),
                            )

    def resolve(self, page: Page, image: SessionImage) -> Path | None:
        key = image.path
        if key not in self.resolved:
            self.resolved[key] = self._resolve(page, image)
        elif self.resolved[key] is None:
            self._resolve(page, image)  # report again for this element
        return self.resolved[key]

    def _resolve(self, page: Page, image: SessionImage) -> Path | None:
        name = image_name(page, image)
        location = image.path_location or image.location
        parts = image.path.split("/")
        candidate = self.images_root.joinpath(*[p for p in parts if p not in ("", ".")])
        if not os.path.lexists(candidate):
            actual = _case_insensitive(self.images_root, parts)
            if actual is None or not actual.exists():
                self.out.add(
                    "SK801",
                    f"{name}: image file '{image.raw_path.strip()}' not found under the images root ({candidate})",
                    location,
                    page=page,
                    found=image.path,
                    expected=str(candidate),
                )
                return None
            self.out.add(
                "SK802",
                f"{name}: image file '{image.path}' found only with different letter case: "
                f"'{actual.relative_to(self.images_root).as_posix()}'",
                location,
                page=page,
                found=image.path,
                expected=actual.relative_to(self.images_root).as_posix(),
            )
            candidate = actual
        real = candidate.resolve()
        if not real.is_relative_to(self.real_root):
            self.out.add(
                "SK803",
                f"{name}: path '{image.path}' resolves through a link to '{real}', outside the "
                f"images root {self.real_root}",
                location,
                page=page,
                found=str(real),
            )
            return None
        if not real.exists():
            self.out.add(
                "SK801",
                f"{name}: image file '{image.path}' is a broken link ({real})",
                location,
                page=page,
                found=image.path,
            )
            return None
        return real

    def inspect(self, page: Page, image: SessionImage, path: Path) -> ImageFacts | None:
        if self.probe is None:
            return None
        key = image.path
        if key in self.facts:
            return self.facts[key]
        try:
            facts: ImageFacts | None = self.probe(path, image)
        except SessionKitError as exc:
            self.out.add(
                "SK804",
                f"{image_name(page, image)}: '{image.path}' cannot be read as {image.type}: {exc}",
                image.location,
                page=page,
                found=str(exc),
            )
            facts = None
        self.facts[key] = facts
        return facts

    def images(self) -> None:
        for page in self.session.pages:
            page_facts: dict[int, ImageFacts] = {}
            for image in page.images:
                if not image.path or path_escape_reason(image.path):
                    continue
                path = self.resolve(page, image)
                if path is None:
                    continue
                facts = self.inspect(page, image, path)
                if facts is not None and self.data_files(page, image, facts):
                    page_facts[image.index] = facts
                    self.content(page, image, facts)
                    self.slice_offset(page, image, facts)
            if page_facts:
                self.geometry(page, page_facts)
                self.references(page, page_facts)

    def data_files(self, page: Page, image: SessionImage, facts: ImageFacts) -> bool:
        """SK803/SK804 for a data file outside the root or not a regular file; True when all are fine."""
        name = image_name(page, image)
        fine = True
        for file in facts.data_files:
            real = file.resolve()
            if not real.is_relative_to(self.real_root):
                self.out.add(
                    "SK803",
                    f"{name}: '{image.path}' names the data file '{file}', which resolves to '{real}', outside "
                    f"the images root {self.real_root}",
                    image.path_location or image.location,
                    page=page,
                    found=str(real),
                )
                fine = False
            elif not real.is_file():
                self.out.add(
                    "SK804",
                    f"{name}: '{image.path}' names the data file '{file}', which is missing or not a regular file",
                    image.location,
                    page=page,
                    found=str(real),
                )
                fine = False
        return fine

    def content(self, page: Page, image: SessionImage, facts: ImageFacts) -> None:
        name = image_name(page, image)
        if facts.dicom_problem:
            self.out.add(
                "SK806",
                f"{name}: '{image.path}' is not usable as a DICOM series: {facts.dicom_problem}",
                image.location,
                page=page,
                found=facts.dicom_problem,
            )
        if image.type == "LabelMap" and (facts.integer_voxels is False or (facts.min_value or 0) < 0):
            self.out.add(
                "SK805", f"{name}: label map has a non-integer voxel type or negative values", image.location, page=page
            )
        if image.roi_visibility_code in ("Select", "Ignore") and facts.segment_names is not None:
            for roi in image.rois:
                if roi and roi not in facts.segment_names:
                    self.out.add(
                        "SK810",
                        f"{name}: ROI '{roi}' matches no segment in the file (available: "
                        f"{', '.join(facts.segment_names) or 'none'})",
                        image.rois_location or image.location,
                        page=page,
                        subject=roi,
                        found=roi,
                        expected=list(facts.segment_names),
                    )

    def slice_offset(self, page: Page, image: SessionImage, facts: ImageFacts) -> None:
        """SK811: InitialSliceOffset (Slicer's RAS slice offset, mm) outside the image extent."""
        offset = image.initial_slice_offset
        if offset is None or facts.bounds is None or image.effective_layer != "Background":
            return
        low, high = facts.bounds
        axis, sign, name = {"Axial": (2, 1.0, "S"), "Sagittal": (0, -1.0, "R"), "Coronal": (1, -1.0, "A")}[
            image.effective_orientation
        ]
        first, last = sorted((sign * low[axis], sign * high[axis]))
        if not first <= offset <= last:
            self.out.add(
                "SK811",
                f"{image_name(page, image)}: InitialSliceOffset {offset:g} mm is outside the "
                f"image extent along {name} ({first:g} to {last:g} mm)",
                image.location,
                attribute="InitialSliceOffset",
                page=page,
                found=offset,
                expected=[first, last],
            )

    def references(self, page: Page, facts: dict[int, ImageFacts]) -> None:
        """SK807: an RTStruct whose referenced series is not among the page's DICOM images."""
        on_page = {f.series_instance_uid for f in facts.values() if f.series_instance_uid}
        for image in page.images:
            referenced = facts[image.index].referenced_series_uids if image.index in facts else None
            if image.type == "RTStruct" and referenced and not on_page.intersection(referenced):
                self.out.add(
                    "SK807",
                    f"{image_name(page, image)}: referenced series {', '.join(referenced)} is not "
                    "among the page's DICOM images",
                    image.location,
                    page=page,
                    found=list(referenced),
                )

    def geometry(self, page: Page, facts: dict[int, ImageFacts]) -> None:
        backgrounds: dict[str, SessionImage] = {}
        for image in page.images:
            if image.effective_layer == "Background":
                backgrounds.setdefault(image.effective_destination, image)
        for image in page.images:
            if image.effective_layer not in ("Label", "Segmentation") or image.index not in facts:
                continue
            background = backgrounds.get(image.effective_destination)
            if background is None or background.index not in facts:
                continue
            mine, theirs = facts[image.index], facts[background.index]
            name = f"{image_name(page, image)} on background image {background.index} '{background.id}'"
            related = [where(background.location)]
            diffs: list[str] = []
            if mine.grid is not None and theirs.grid is not None:
                diffs = list(theirs.grid.differences(mine.grid))
            if (
                mine.frame_of_reference_uid
                and theirs.frame_of_reference_uid
                and mine.frame_of_reference_uid != theirs.frame_of_reference_uid
            ):
                diffs.append(f"frame of reference {mine.frame_of_reference_uid} vs {theirs.frame_of_reference_uid}")
            if diffs:
                self.out.add(
                    "SK808",
                    f"{name}: grid differs ({'; '.join(diffs)}); it is resampled for display",
                    image.location,
                    page=page,
                    found=diffs,
                    related=related,
                )
            if mine.bounds and theirs.bounds and not _overlap(mine.bounds, theirs.bounds):
                self.out.add(
                    "SK809",
                    f"{name}: no overlap (bounding boxes {mine.bounds} vs {theirs.bounds} mm)",
                    image.location,
                    page=page,
                    found=mine.bounds,
                    expected=theirs.bounds,
                    related=related,
                )


def _overlap(a: tuple[tuple[float, ...], tuple[float, ...]], b: tuple[tuple[float, ...], tuple[float, ...]]) -> bool:
    return all(a[0][k] <= b[1][k] and b[0][k] <= a[1][k] for k in range(3))


def check_files(
    session: Session,
    images_root: str | os.PathLike[str] | None = None,
    probe: ImageProbe | None = None,
    disabled: tuple[str, ...] = (),
    findings_factory: Callable[[str], Findings] | None = None,
) -> list[Problem]:
    """Run the files pass (SK801–SK820) for a session model.

    Parameters
    ----------
    session : Session
        The model (``session.file`` locates the session folder).
    images_root : str or os.PathLike, optional
        Root for image ``Path`` values; default the session file's folder (clarifications C2).
    probe : ImageProbe, optional
        Header reader supplied by a higher layer; without it SK804/SK805/SK808–SK810 are skipped.
    disabled : tuple of str
        Warning codes to suppress.
    findings_factory : callable, optional
        Builds the collector (tests and callers with source text for attribute positions).

    Returns
    -------
    list of Problem
    """
    out = findings_factory(session.file) if findings_factory else Findings(session.file, None, disabled)
    root = Path(images_root) if images_root is not None else Path(session.file).parent
    files = _FilesPass(session, root, probe, out)
    files.colour_file()
    files.pictures()
    files.images()
    return out.problems
