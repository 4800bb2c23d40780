"""``analyze contours``: every reader's contour against the reference and against every other reader.

The contours are the run folders' acknowledged label maps (the latest ``labelmap``/``redisplay``/``merge``
row of ``annotations.csv`` per page instance and image, read through its logged SHA-256, never the newest
file on disk). The design table (:mod:`sessionkit.analysis.design`) names each page's case and, in
``reference_contour``/``reference_segment``, the reference segmentation (any format the readers take:
``.seg.nrrd``, DICOM SEG, RTSTRUCT rasterised on the page's background grid, a NRRD/NIfTI label map).
Segments are matched by name (case, surrounding spaces and ``_`` for space ignored): a reader's label
values are named by the run's colour table. Cases are scored one at a time, so memory holds one case.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from sessionkit.analysis.answers import study_info
from sessionkit.analysis.contour_metrics import (
    BoolArray,
    ContourMetrics,
    MaskSurface,
    compare_surfaces,
    crop_masks,
    grid_spacing,
    voxel_volume_ml,
)
from sessionkit.analysis.design import Design
from sessionkit.analysis.staple import staple
from sessionkit.errors import AnalysisInputError
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Segment, Segmentation, Volume
from sessionkit.imaging.palette import generic_color
from sessionkit.io import ColorTable, labelmap_to_segmentation, loose_name, read_image, read_nrrd, resample_labels
from sessionkit.responses.export import find_runs, read_run
from sessionkit.responses.paths import RunPaths
from sessionkit.responses.run_folder import acknowledged_file
from sessionkit.runner.history import latest_labelmaps
from sessionkit.scene import color_lookup
from sessionkit.session import DEFAULT_COLOR_TABLE, read_color_table

#: Columns of the contour table (CSV), after which come the :class:`ContourMetrics` fields.
ROW_COLUMNS = (
    "reader_id",
    "arm",
    "read",
    "case_id",
    "page_id",
    "page_instance",
    "image_id",
    "segment",
    "compared_to",
)
METRIC_COLUMNS = tuple(ContourMetrics.__dataclass_fields__)


@dataclass(frozen=True)
class ReaderContour:
    """One reader's acknowledged label map of one image of one page instance."""

    reader_id: str
    arm: str
    read: int
    page_id: str
    page_instance: str
    image_id: str
    file: Path
    sha256: str
    colors: ColorTable

    def load(self) -> tuple[np.ndarray[Any, np.dtype[np.integer]], ImageGrid]:
        """The label map and its grid (the file the log acknowledges)."""
        volume = read_nrrd(acknowledged_file(self.file, self.sha256))
        return np.asarray(volume.array), volume.grid


@dataclass(frozen=True)
class ContourCase:
    """Every reader's contour of one (arm, page instance, image), and its reference."""

    arm: str
    page_id: str
    page_instance: str
    image_id: str
    case_id: str
    reference: Path | None
    reference_segment: str
    contours: list[ReaderContour] = field(default_factory=list)


@dataclass(frozen=True)
class ContourStudy:
    """The cases to score, the runs left out (with the reason) and the pages the design does not list."""

    cases: list[ContourCase]
    excluded: list[tuple[Path, str]]
    training_pages: list[str]


@dataclass(frozen=True)
class ContourRow:
    """One comparison: ``reader_id``'s segment against ``compared_to`` (``reference`` or another reader)."""

    reader_id: str
    arm: str
    read: int
    case_id: str
    page_id: str
    page_instance: str
    image_id: str
    segment: str
    compared_to: str
    metrics: ContourMetrics

    def to_json(self) -> dict[str, Any]:
        """The row as a flat mapping (:data:`ROW_COLUMNS` then :data:`METRIC_COLUMNS`)."""
        return {**{name: getattr(self, name) for name in ROW_COLUMNS}, **self.metrics.to_json()}


@dataclass(frozen=True)
class ConsensusRow:
    """One reader's sensitivity and specificity against the STAPLE consensus of a case's segment."""

    reader_id: str
    arm: str
    case_id: str
    page_instance: str
    image_id: str
    segment: str
    sensitivity: float
    specificity: float
    consensus_ml: float

    def to_json(self) -> dict[str, Any]:
        """The row as a flat mapping."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class CaseScores:
    """What :func:`score_case` finds for one case: metric rows, STAPLE rows and the consensus (or None)."""

    case: ContourCase
    rows: list[ContourRow]
    consensus_rows: list[ConsensusRow]
    consensus: Segmentation | None


def _page_id(instance: str, repetition: int) -> str:
    """The page ID of an instance label ``<ID>`` or ``<ID>-Rep<n>``."""
    return instance.removesuffix(f"-Rep{repetition}") if repetition else instance


def collect_contours(paths: Iterable[str | Path], design: Design, *, include_incomplete: bool = False) -> ContourStudy:
    """Index every acknowledged reader label map under ``paths`` by case (nothing is loaded yet).

    Raises
    ------
    ResponseLogError
        No run folder under a path, or an unreadable log.
    AnalysisInputError
        A design ``reference_contour`` that does not exist (design file:line, the path looked for).
    """
    cases: dict[tuple[str, str, str], ContourCase] = {}
    excluded: list[tuple[Path, str]] = []
    training: set[str] = set()
    problems: list[str] = []
    seen: set[Path] = set()
    design_dir = Path(design.source).parent
    for path in paths:
        for run_dir in find_runs(Path(path)):
            if run_dir.resolve() in seen:
                continue
            seen.add(run_dir.resolve())
            run = read_run(run_dir)
            if not include_incomplete and not run.state.get("machine", {}).get("run_complete", False):
                excluded.append((run_dir, "run not complete (the reader did not Finish)"))
                continue
            arm, read = study_info(run)
            colors_file = RunPaths(run_dir.parent.parent, run_dir.parent.name, run_dir.name).colors
            table = color_lookup(read_color_table(colors_file) if colors_file.is_file() else DEFAULT_COLOR_TABLE)
            for (instance, image_id), row in sorted(
                latest_labelmaps(run.annotations).items(), key=lambda item: (item[0][0].page_index, item[0][0].rep)
            ):
                if not row["sha256"]:
                    continue
                page_id = _page_id(row["page_instance"], instance.rep)
                design_row = design.lookup(arm, page_id)
                if design_row is None:
                    training.add(page_id)
                    continue
                key = (arm, row["page_instance"], image_id)
                if key not in cases:
                    reference = None
                    if design_row.reference_contour:
                        reference = design_dir / design_row.reference_contour
                        if not reference.exists():
                            problems.append(
                                f"{design_row.where}: reference_contour {design_row.reference_contour!r} not found "
                                f"(looked for {reference}); paths are relative to the design file"
                            )
                    cases[key] = ContourCase(
                        arm, page_id, row["page_instance"], image_id, design_row.case_id, reference,
                        design_row.reference_segment,
                    )
                cases[key].contours.append(
                    ReaderContour(
                        str(row["reader_id"]), arm, read, page_id, row["page_instance"], image_id,
                        run_dir.parent / row["file"], row["sha256"], table,
                    )
                )
    if problems:
        raise AnalysisInputError(f"{design.source}: {len(problems)} problem(s)\n  " + "\n  ".join(problems), problems)
    return ContourStudy(list(cases.values()), excluded, sorted(training))


def _segmentation_masks(segmentation: Segmentation, grid: ImageGrid) -> dict[str, BoolArray]:
    """Each segment's mask on ``grid`` (nearest-neighbour when the segmentation's grid differs), by name."""
    masks: dict[str, BoolArray] = {}
    for segment in segmentation.segments:
        mask = segmentation.mask(segment).astype(np.uint8)
        masks[segment.name] = resample_labels(mask, segmentation.grid, grid) > 0
    return masks


def reference_masks(
    case: ContourCase, reference: Path, grid: ImageGrid, colors: ColorTable
) -> dict[str, BoolArray]:
    """The segments of ``reference`` on the page's grid, by name, restricted to ``case.reference_segment``.

    Raises
    ------
    ImageReadError
        The reference cannot be read (an RTSTRUCT is rasterised on ``grid``).
    AnalysisInputError
        ``reference_segment`` names no segment of the reference (the names it has).
    """
    background = Volume(np.zeros(grid.spatial_shape, np.uint8), grid, source="page background")
    image = read_image(reference, color_table=colors, reference=background)
    if isinstance(image, Volume):
        image = labelmap_to_segmentation(image.array, image.grid, colors, source=str(reference))
    masks = _segmentation_masks(image, grid)
    if not case.reference_segment:
        return masks
    wanted = case.reference_segment
    chosen = {
        segment.name
        for segment in image.segments
        if loose_name(segment.name) == loose_name(wanted) or str(segment.label_value) == wanted
    }
    if not chosen:
        raise AnalysisInputError(
            f"{reference}: reference_segment {wanted!r} (page {case.page_id}) is not a segment; "
            f"its segments are {', '.join(s.name for s in image.segments) or 'none'}"
        )
    return {name: mask for name, mask in masks.items() if name in chosen}


def _reader_masks(labels: np.ndarray[Any, Any], grid: ImageGrid, colors: ColorTable) -> dict[str, BoolArray]:
    """A reader's label map as masks by loose segment name (values named by the run's colour table)."""
    segmentation = labelmap_to_segmentation(labels, grid, colors)
    return {loose_name(name): mask for name, mask in _segmentation_masks(segmentation, grid).items()}


def _row(
    case: ContourCase,
    contour: ReaderContour,
    segment: str,
    compared_to: str,
    other: MaskSurface,
    own: MaskSurface,
    voxel_ml: float,
    tolerance_mm: float,
) -> ContourRow:
    return ContourRow(
        contour.reader_id, case.arm, contour.read, case.case_id, case.page_id, case.page_instance, case.image_id,
        segment, compared_to, compare_surfaces(other, own, voxel_ml, tolerance_mm),
    )


def score_case(
    case: ContourCase, tolerance_mm: float = 2.0, on_contour: Callable[[ReaderContour], None] | None = None
) -> CaseScores:
    """Metrics of every reader against the reference and of every pair of readers (same read), per segment,
    and the STAPLE consensus of the first reads of two or more readers (:mod:`sessionkit.analysis.staple`)
    with each reader's sensitivity and specificity against it.

    Segments are the reference's (after ``reference_segment``); without a reference, every segment any
    reader drew. A reader who did not draw a segment has an empty mask (analysis.md §3.4 conventions).
    ``on_contour`` is called after each reader's map is loaded (progress).

    Raises
    ------
    ImageReadError, AnalysisInputError
        See :func:`reference_masks`; an unreadable label map.
    GeometryError
        A sheared grid.
    """
    loaded = []
    grid: ImageGrid | None = None
    for contour in case.contours:
        labels, own_grid = contour.load()
        if grid is None:
            grid = own_grid
        elif not own_grid.matches(grid):
            labels = resample_labels(labels, own_grid, grid)
        loaded.append((contour, _reader_masks(labels, grid, contour.colors)))
        if on_contour is not None:
            on_contour(contour)
    if grid is None:
        return CaseScores(case, [], [], None)
    spacing, voxel_ml = grid_spacing(grid), voxel_volume_ml(grid)
    reference = reference_masks(case, case.reference, grid, case.contours[0].colors) if case.reference else None
    names = list(reference) if reference is not None else sorted({name for _, masks in loaded for name in masks})
    empty = np.zeros(grid.spatial_shape, dtype=bool)
    rows: list[ContourRow] = []
    consensus_rows: list[ConsensusRow] = []
    layers: list[tuple[str, BoolArray]] = []
    first_reads = [i for i, (contour, _) in enumerate(loaded) if contour.read == 1]
    for name in names:
        readers = [masks.get(loose_name(name), empty) for _, masks in loaded]
        masks = readers + ([reference[name]] if reference is not None else [])
        surfaces = [MaskSurface(mask, spacing) for mask in crop_masks(masks)[1]]
        if reference is not None:
            for i, (contour, _) in enumerate(loaded):
                rows.append(_row(case, contour, name, "reference", surfaces[-1], surfaces[i], voxel_ml, tolerance_mm))
        for i, j in combinations(range(len(loaded)), 2):
            first, second = loaded[i][0], loaded[j][0]
            if first.read == second.read and first.reader_id != second.reader_id:
                rows.append(_row(case, first, name, second.reader_id, surfaces[j], surfaces[i], voxel_ml, tolerance_mm))
        if len({loaded[i][0].reader_id for i in first_reads}) >= 2:
            result = staple([readers[i] for i in first_reads])
            layers.append((name, result.mask))
            volume = float(result.mask.sum()) * voxel_ml
            for i, sensitivity, specificity in zip(first_reads, result.sensitivity, result.specificity, strict=True):
                consensus_rows.append(
                    ConsensusRow(
                        loaded[i][0].reader_id, case.arm, case.case_id, case.page_instance, case.image_id, name,
                        sensitivity, specificity, volume,
                    )
                )
    consensus = _consensus_segmentation(layers, grid, case.contours[0].colors) if layers else None
    return CaseScores(case, rows, consensus_rows, consensus)


def consensus_path(folder: Path, case: ContourCase) -> Path:
    """Where ``--consensus FOLDER`` writes a case's consensus: ``<arm>/<page instance>_<image>.seg.nrrd``."""
    return folder / case.arm / f"{case.page_instance}_{case.image_id}.seg.nrrd"


def _consensus_segmentation(layers: list[tuple[str, BoolArray]], grid: ImageGrid, colors: ColorTable) -> Segmentation:
    """The consensus masks as a Segmentation (one layer per segment, value 1), coloured by the colour table."""
    by_name = {loose_name(name): rgb for name, rgb in colors.values()}
    segments = tuple(
        Segment(f"Segment{k}", name, 1, by_name.get(loose_name(name), generic_color(k)), layer=k)
        for k, (name, _) in enumerate(layers)
    )
    stacked = np.stack([mask.astype(np.uint8) for _, mask in layers])
    return Segmentation(stacked, grid, segments, source="STAPLE consensus")


def score_contours(
    study: ContourStudy, tolerance_mm: float = 2.0, on_contour: Callable[[ReaderContour], None] | None = None
) -> Iterator[CaseScores]:
    """:func:`score_case` over every case, one case in memory at a time."""
    for case in study.cases:
        yield score_case(case, tolerance_mm, on_contour)


def contour_counts(study: ContourStudy) -> dict[str, int]:
    """Number of label maps per reader (the length of each reader's progress bar)."""
    counts: dict[str, int] = defaultdict(int)
    for case in study.cases:
        for contour in case.contours:
            counts[contour.reader_id] += 1
    return dict(counts)


def contours_csv(rows: Iterable[ContourRow]) -> str:
    """The contour table as CSV (header :data:`ROW_COLUMNS` + :data:`METRIC_COLUMNS`; NaN is empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*ROW_COLUMNS, *METRIC_COLUMNS))
    for item in rows:
        values = item.to_json()
        writer.writerow(
            ["" if isinstance(v, float) and not np.isfinite(v) else v for v in (values[c] for c in values)]
        )
    return buffer.getvalue()


def format_contours_text(rows: Iterable[ContourRow]) -> str:
    """A plain-text table: reader, page instance, segment, compared to, Dice, HD95, MSD, surface Dice."""
    lines = [f"{'reader':<12} {'page':<14} {'segment':<16} {'vs':<12} {'Dice':>6} {'HD95':>8} {'MSD':>8} {'sDice':>6}"]
    for item in rows:
        m = item.metrics
        lines.append(
            f"{item.reader_id:<12} {item.page_instance:<14} {item.segment:<16} {item.compared_to:<12} "
            f"{m.dice:6.3f} {m.hd95_mm:8.2f} {m.msd_mm:8.2f} {m.surface_dice:6.3f}"
        )
    return "\n".join(lines)
