"""Stage 3b: semantic rules SK301–SK724 over the :class:`Session` model (validation-rules.md §2).

Session- and page-scope rules live here; image, question and ordering (randomization) rules live in
``rules_image``, ``rules_question`` and ``rules_order``. :func:`check_rules` runs all of them in
table order. Rules skip values that an earlier stage reported invalid (``invalid`` sets of the model).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable

from sessionkit.errors import Problem
from sessionkit.session.findings import Findings, ProblemCap, page_name, where
from sessionkit.session.model import LABEL_IMAGE_TYPES, LAYOUT_VIEWPORTS, Location, Page, Session, SessionImage
from sessionkit.session.rules_image import check_image
from sessionkit.session.rules_order import check_order
from sessionkit.session.rules_question import check_questions
from sessionkit.session.source import SourceText

#: Characters IQ forbids in Page ID and Descriptor (validation-rules SK402).
FORBIDDEN_ID_CHARACTERS = frozenset("\"'#&{}\\<>*?/$!:@+`~%^()=,|")
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
)
_REP_SUFFIX = re.compile(r"-Rep\d+$")
_FORBIDDEN = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_ID_CHARACTERS))) + "]")
_CONTROL = re.compile(r"[\x00-\x1f]")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")
_INT32 = 2**31 - 1
#: Longest export path IQ-compatible tools can rely on (SK422).
MAX_EXPORT_PATH = 200


def safe_name(text: str) -> str:
    """File-name form of session text: characters outside ``[A-Za-z0-9._ -]`` become ``_`` (C3)."""
    return _UNSAFE.sub("_", text)


def _session_rules(session: Session, out: Findings) -> None:
    loc = session.location
    color = session.roi_color_file
    if color is not None:
        if color.lower().endswith(".txt"):
            out.add(
                "SK301",
                f"ROIColorFile '{color}' ends with '.txt'; the extension is stripped",
                loc,
                attribute="ROIColorFile",
                found=color,
                expected=color[:-4],
            )
        if (
            "/" in color
            or "\\" in color
            or ".." in color
            or re.match(r"^[A-Za-z]:", color)
            or color.startswith(("/", "\\"))
        ):
            out.add(
                "SK302",
                f"ROIColorFile '{color}' contains a path component; only a file stem in the session folder is allowed",
                loc,
                attribute="ROIColorFile",
                found=color,
                expected="file stem",
            )
    if session.email_results_to:
        out.add(
            "SK303",
            f"EmailResultsTo '{session.email_results_to}' is set; sessionkit sends no results e-mail",
            loc,
            attribute="EmailResultsTo",
            found=session.email_results_to,
        )
    kinds: dict[str, list[str]] = defaultdict(list)
    first: dict[str, Location] = {}
    for kind, location in session.results_only_locations:
        kinds[kind].append(where(location))
        first.setdefault(kind, location)
    for kind, places in kinds.items():
        location = first[kind]
        out.add(
            "SK304",
            f"results-only item '{kind}' found {len(places)} time(s) (first at line "
            f"{location.line or 0}); it is ignored",
            location,
            attribute=kind if kind in ("UserName", "PageComplete", "Rep") else None,
            subject=kind,
            found=len(places),
            related=places[1:5],
        )


def _pages_by_path(page: Page) -> dict[str, list[SessionImage]]:
    groups: dict[str, list[SessionImage]] = defaultdict(list)
    for image in page.images:
        if image.path:
            groups[image.path].append(image)
    return groups


def _id_rules(page: Page, out: Findings) -> None:
    loc = page.location
    name = page_name(page)
    if "ID" in page.attributes and not page.id.strip():
        out.add("SK401", f"{name}: Page ID is empty", loc, attribute="ID", page=page, found=page.id)
    for attribute, value, code in (("ID", page.id, "SK402"), ("Descriptor", page.descriptor, "SK403")):
        bad = sorted(set(_FORBIDDEN.findall(value)))
        if bad:
            out.add(
                code,
                f"{name}: {attribute} '{value}' contains forbidden character(s) {' '.join(bad)}",
                loc,
                attribute=attribute,
                page=page,
                found=value,
                expected="letters, digits, space, - _ .",
            )
        if value and (
            value != value.strip(" .") or _CONTROL.search(value) or value.split(".")[0].strip().upper() in _RESERVED
        ):
            out.add(
                "SK404",
                f"{name}: {attribute} '{value}' is not portable as a Windows folder name",
                loc,
                attribute=attribute,
                page=page,
                found=value,
            )
    if _REP_SUFFIX.search(page.id):
        out.add(
            "SK406",
            f"{name}: ID '{page.id}' ends with '-Rep<n>', which is reserved for repeated copies",
            loc,
            attribute="ID",
            page=page,
            found=page.id,
        )


def _requirement_rules(page: Page, out: Findings) -> None:
    loc = page.location
    name = page_name(page)
    requiring = [i for i in page.images if i.segment_required]
    if (
        (page.segment_required_on_any_image or requiring)
        and not page.enable_segment_editor
        and "EnableSegmentEditor" not in page.invalid
    ):
        what = (["SegmentRequiredOnAnyImage"] if page.segment_required_on_any_image else []) + [
            f"SegmentRequired on image '{i.id}'" for i in requiring
        ]
        out.add(
            "SK407",
            f'{name}: {", ".join(what)} requires EnableSegmentEditor="Y"',
            loc,
            attribute="EnableSegmentEditor",
            page=page,
            found=what,
            expected='EnableSegmentEditor="Y"',
        )
    if page.segment_required_on_any_image and requiring:
        out.add(
            "SK408",
            f'{name}: SegmentRequiredOnAnyImage="Y" together with SegmentRequired on image(s) '
            f"{', '.join(repr(i.id) for i in requiring)}",
            loc,
            attribute="SegmentRequiredOnAnyImage",
            page=page,
        )
    lines = [i for i in page.images if i.min_markup_lines_required is not None]
    if page.min_markup_lines_required_on_any_image is not None and lines:
        out.add(
            "SK410",
            f"{name}: MinMarkupLinesRequiredOnAnyImage together with MinMarkupLinesRequired on "
            f"image(s) {', '.join(repr(i.id) for i in lines)}",
            loc,
            attribute="MinMarkupLinesRequiredOnAnyImage",
            page=page,
        )
    paths = [i.path for i in page.images if i.path]
    shared_paths = _pages_by_path(page).items() if len(set(paths)) != len(paths) else ()
    for path, images in shared_paths:
        if len({i.segment_required for i in images if "SegmentRequired" not in i.invalid}) > 1:
            values = ", ".join(f"'{i.id}'={'Y' if i.segment_required else 'N'}" for i in images)
            out.add(
                "SK409",
                f"{name}: images with path '{path}' differ in SegmentRequired ({values})",
                images[0].location,
                page=page,
                subject=path,
                found=values,
            )
        if len({i.min_markup_lines_required or 0 for i in images if "MinMarkupLinesRequired" not in i.invalid}) > 1:
            values = ", ".join(f"'{i.id}'={i.min_markup_lines_required or 0}" for i in images)
            out.add(
                "SK411",
                f"{name}: images with path '{path}' differ in MinMarkupLinesRequired ({values})",
                images[0].location,
                page=page,
                subject=path,
                found=values,
            )
        ids = sorted({i.id for i in images})
        if len(ids) > 1:
            out.add(
                "SK416",
                f"{name}: path '{path}' is used with different Image IDs {', '.join(map(repr, ids))}",
                images[1].location,
                page=page,
                subject=path,
                found=ids,
                hint="give all elements of that path the same ID",
            )
    ids = [i.id for i in page.images if i.path]
    if len(set(ids)) != len(ids):
        by_id: dict[str, set[str]] = defaultdict(set)
        first_by_id: dict[str, SessionImage] = {}
        for image in page.images:
            if image.path:
                by_id[image.id].add(image.path)
                first_by_id.setdefault(image.id, image)
        for image_id, id_paths in by_id.items():
            if len(id_paths) > 1:
                out.add(
                    "SK417",
                    f"{name}: Image ID '{image_id}' is used for different paths "
                    f"{', '.join(map(repr, sorted(id_paths)))}",
                    first_by_id[image_id].location,
                    page=page,
                    subject=image_id,
                    found=sorted(id_paths),
                )
    drawable = any(i.type in ("Volume", "VolumeSequence") for i in page.images)
    if page.segment_required_on_any_image and not drawable:
        out.add(
            "SK412",
            f'{name}: SegmentRequiredOnAnyImage="Y" but the page has no Volume or VolumeSequence image to draw on',
            loc,
            attribute="SegmentRequiredOnAnyImage",
            page=page,
        )
    if page.min_markup_lines_required_on_any_image is not None and not any(
        i.effective_layer in ("Background", "Foreground") for i in page.images
    ):
        out.add(
            "SK412",
            f"{name}: MinMarkupLinesRequiredOnAnyImage but the page has no Background or Foreground "
            "image to measure on",
            loc,
            attribute="MinMarkupLinesRequiredOnAnyImage",
            page=page,
        )


def _viewport_rules(page: Page, out: Findings) -> None:
    name = page_name(page)
    images = [i for i in page.images if "DefaultDestination" not in i.invalid]
    if images and len(images) == len(page.images) and not any(i.effective_destination == "Red" for i in images):
        used = sorted({i.effective_destination for i in images})
        out.add(
            "SK413",
            f"{name}: no image is in the Red viewport (destinations used: {', '.join(used)})",
            page.location,
            page=page,
            found=used,
            expected="Red",
        )
    if "Layout" in page.invalid:
        return
    layout = page.effective_layout
    shown = LAYOUT_VIEWPORTS[layout]
    for image in images:
        destination = image.effective_destination
        if destination == "Slice4" and layout != "TwoOverTwo":
            out.add(
                "SK414",
                f"{name} image {image.index} '{image.id}': destination Slice4 needs "
                f"Layout=\"TwoOverTwo\" (Layout is '{layout}')",
                image.location,
                page=page,
                found=layout,
                expected="TwoOverTwo",
            )
        elif destination not in shown:
            out.add(
                "SK415",
                f"{name} image {image.index} '{image.id}': destination {destination} is not shown by "
                f"Layout '{layout}' (viewports: {', '.join(shown)})",
                image.location,
                page=page,
                found=destination,
                expected=list(shown),
            )
    backgrounds = {
        i.effective_destination for i in images if i.effective_layer == "Background" and "Layer" not in i.invalid
    }
    for image in images:
        if "Layer" in image.invalid or "Type" in image.invalid:
            continue
        if image.effective_layer != "Background" and image.effective_destination not in backgrounds:
            out.add(
                "SK421",
                f"{name} image {image.index} '{image.id}': {image.effective_layer} image in viewport "
                f"{image.effective_destination}, which has no Background image",
                image.location,
                page=page,
                found=image.effective_destination,
            )


def _page_misc_rules(page: Page, out: Findings) -> None:
    name = page_name(page)
    loc = page.location
    if page.button_script_rerun_required and not page.allow_multiple_response:
        out.add(
            "SK418",
            f'{name}: ButtonScriptRerunRequired="Y" needs AllowMultipleResponse="Y"',
            loc,
            attribute="ButtonScriptRerunRequired",
            page=page,
        )
    if page.button_script_rerun_required and not any(
        q.type == "Button" for qs in page.question_sets for q in qs.questions
    ):
        out.add(
            "SK419",
            f'{name}: ButtonScriptRerunRequired="Y" on a page without a Button question',
            loc,
            attribute="ButtonScriptRerunRequired",
            page=page,
        )
    radius = page.contour_tool_radius
    if radius is not None and (not page.enable_segment_editor or radius <= 0 or not math.isfinite(radius)):
        reason = "drawing is not enabled" if not page.enable_segment_editor else "it is not a positive finite number"
        out.add(
            "SK420",
            f"{name}: ContourToolRadius '{radius:g}' has no effect because {reason}; the default radius is used",
            loc,
            attribute="ContourToolRadius",
            page=page,
            found=radius,
        )
    if page.page_group is not None and abs(page.page_group) > _INT32:
        out.add(
            "SK209",
            f"{name}: PageGroup {page.page_group} is beyond the 32-bit integer range",
            loc,
            attribute="PageGroup",
            page=page,
            found=page.page_group,
            expected="32-bit integer",
            hint="use a small group number",
        )


def _starting_contour_rules(page: Page, out: Findings) -> None:
    """SK425–SK427: ``StartingContourID`` on the drawable images of a page (docs/contours.md)."""
    name = page_name(page)
    types = {image.id: image.type for image in page.images}
    for image in page.images:
        target = image.starting_contour_id
        if target is None or image.type not in ("Volume", "VolumeSequence"):
            continue  # SK524
        label = f"{name} image {image.index} '{image.id}'"
        if not page.enable_segment_editor:
            out.add(
                "SK427",
                f"{label}: StartingContourID '{target}' is ignored because the page lacks EnableSegmentEditor=\"Y\"",
                image.location,
                attribute="StartingContourID",
                page=page,
                found=target,
            )
        elif target not in types:
            out.add(
                "SK425",
                f"{label}: StartingContourID '{target}' names no image of this page",
                image.location,
                attribute="StartingContourID",
                page=page,
                found=target,
                expected=sorted(i for i, t in types.items() if t in LABEL_IMAGE_TYPES),
            )
        elif types[target] not in LABEL_IMAGE_TYPES:
            out.add(
                "SK426",
                f"{label}: StartingContourID '{target}' names a {types[target]} image, not a Segmentation, "
                "RTStruct or LabelMap",
                image.location,
                attribute="StartingContourID",
                page=page,
                found=types[target],
                expected=sorted(LABEL_IMAGE_TYPES),
            )


def _export_path_rules(session: Session, groups: list[int], out: Findings) -> None:
    for page, group in zip(session.pages, groups, strict=True):
        if not page.images:
            continue
        # safe_name keeps lengths (one '_' per character), so the check needs no string building
        image = max(page.images, key=lambda i: len(i.id))
        id_length = len(page.id) + (6 if page.loop else 0)
        length = len(f"PgGroup{group}_") + id_length + 1 + len(page.descriptor) + 1 + id_length + 1 + len(image.id)
        if length + len("-quizlabel.nrrd") > MAX_EXPORT_PATH:
            page_id = safe_name(page.id) + "-Rep99" if page.loop else safe_name(page.id)
            folder = f"PgGroup{group}_{page_id}_{safe_name(page.descriptor)}"
            longest = f"{folder}/{page_id}_{safe_name(image.id)}-quizlabel.nrrd"
            out.add(
                "SK422",
                f"{page_name(page)}: export path of its annotations is {len(longest)} characters long "
                f"(limit {MAX_EXPORT_PATH}): '{longest}'",
                page.location,
                page=page,
                found=len(longest),
                expected=MAX_EXPORT_PATH,
            )


def _collision_rules(session: Session, groups: list[int], out: Findings) -> None:
    """SK405 (identical triples) and SK424 (distinct names colliding after the C3 mapping)."""
    first_triple: dict[tuple[str, str, int], Page] = {}
    folders: dict[str, tuple[tuple[str, str, int], Page]] = {}
    for page, group in zip(session.pages, groups, strict=True):
        triple = (page.id, page.descriptor, group)
        if triple in first_triple:
            other = first_triple[triple]
            out.add(
                "SK405",
                f"{page_name(page)} has the same ID, Descriptor and PageGroup as page {other.index} "
                f"('{page.id}', '{page.descriptor}', {group})",
                page.location,
                page=page,
                related=[where(other.location)],
                found=list(map(str, triple)),
            )
        else:
            first_triple[triple] = page
        folder = f"PgGroup{group}_{safe_name(page.id)}_{safe_name(page.descriptor)}"
        if folder in folders and folders[folder][0] != triple:
            other = folders[folder][1]
            out.add(
                "SK424",
                f"{page_name(page)}: results folder '{folder}' collides with page {other.index} "
                f"('{other.id}', '{other.descriptor}') once unsafe characters become '_'",
                page.location,
                page=page,
                related=[where(other.location)],
                found=folder,
            )
        else:
            folders.setdefault(folder, (triple, page))
        images: dict[str, SessionImage] = {}
        for image in page.images:
            key = safe_name(image.id)
            if key in images and images[key].id != image.id:
                out.add(
                    "SK424",
                    f"{page_name(page)} image {image.index} '{image.id}': file name '{key}' collides "
                    f"with image '{images[key].id}' once unsafe characters become '_'",
                    image.location,
                    page=page,
                    related=[where(images[key].location)],
                    found=key,
                )
            images.setdefault(key, image)


def check_rules(
    session: Session, source: SourceText | None = None, disabled: Iterable[str] = (), cap: ProblemCap | None = None
) -> list[Problem]:
    """Run every semantic rule (SK3xx–SK7xx) on a session model.

    Parameters
    ----------
    session : Session
        Model from :func:`sessionkit.session.build.build_session`.
    source : SourceText, optional
        Document text, used to point at attributes (line/column) instead of their element.
    disabled : iterable of str
        Warning codes to suppress (``--disable``); errors cannot be disabled.
    cap : ProblemCap, optional
        Per-code listing cap shared with the other stages of the file.

    Returns
    -------
    list of Problem
        In rule-table order per element; callers sort by file, line, column, code.
    """
    out = Findings(session.file, source, disabled, cap)
    _session_rules(session, out)
    groups = session.effective_page_groups()
    for page in session.pages:
        _id_rules(page, out)
        _requirement_rules(page, out)
        _viewport_rules(page, out)
        _page_misc_rules(page, out)
        _starting_contour_rules(page, out)
        for image in page.images:
            check_image(page, image, out)
        check_questions(page, out)
    _collision_rules(session, groups, out)
    _export_path_rules(session, groups, out)
    check_order(session, groups, out)
    return out.problems
