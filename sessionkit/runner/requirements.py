"""Page requirements on contours and lines, evaluated on the annotation log (reading-flow §7, §11).

Pure functions over the rows of ``annotations.csv`` (§14.3) of one page instance: the latest row per
file says what exists. A reader label map counts when it is non-empty and new, or differs (SHA-256)
from the copy made at redisplay; lines count while their latest row is ``line`` (not ``line_deleted``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sessionkit.responses.lines import present_lines
from sessionkit.runner.answers import AnswerIssue
from sessionkit.session.model import Page

#: Image types a reader can contour (reading-flow §7).
DRAWABLE_TYPES = frozenset({"Volume", "VolumeSequence"})


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _contoured(rows: Sequence[Mapping[str, str]]) -> set[str]:
    """Image ids whose latest reader label map is non-empty and new or modified."""
    redisplayed: dict[str, str] = {}
    drawn: dict[str, Mapping[str, str]] = {}
    for row in rows:
        if row["kind"] == "redisplay":
            redisplayed[row["image_id"]] = row["sha256"]
        elif row["kind"] == "labelmap":
            drawn[row["image_id"]] = row
    return {
        image_id
        for image_id, row in drawn.items()
        if _int(row["voxel_count"]) > 0 and row["sha256"] != redisplayed.get(image_id)
    }


def page_issues(page: Page, rows: Sequence[Mapping[str, str]]) -> tuple[AnswerIssue, ...]:
    """Unmet segmentation (SK912) and line (SK913) requirements of one page instance.

    Parameters
    ----------
    page : Page
        The instance's page (its requirement attributes and images).
    rows : sequence of mapping
        ``annotations.csv`` rows of this instance, in ``seq`` order.

    Returns
    -------
    tuple of AnswerIssue
        Empty when every requirement holds (always for pages that set none). ``question_index`` is 0.
    """
    issues: list[AnswerIssue] = []
    contoured = _contoured(rows)
    drawable = [image for image in page.images if image.type in DRAWABLE_TYPES]
    if page.segment_required_on_any_image and not any(image.id in contoured for image in drawable):
        issues.append(AnswerIssue(0, "SK912", "Draw or modify a contour on at least one image"))
    for image_id in dict.fromkeys(image.id for image in page.images if image.segment_required):
        if image_id not in contoured:
            issues.append(AnswerIssue(0, "SK912", f"Draw or modify a contour on image {image_id}"))
    lines = present_lines(rows)
    needed_any = page.min_markup_lines_required_on_any_image
    if needed_any:
        total = len(lines)
        if total < needed_any:
            issues.append(AnswerIssue(0, "SK913", f"Add measurement lines: {total} of {needed_any} drawn"))
    for image in page.images:
        needed = image.min_markup_lines_required
        if needed:
            count = sum(1 for row in lines.values() if row["image_id"] == image.id)
            if count < needed:
                issues.append(
                    AnswerIssue(0, "SK913", f"Add measurement lines on image {image.id}: {count} of {needed} drawn")
                )
    return tuple(dict.fromkeys(issues))
