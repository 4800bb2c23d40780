"""Stage 3a: build the :class:`~sessionkit.session.model.Session` model from a parsed tree.

Lenient by design: the builder runs on documents the schema rejected too and must never fail.
Values that cannot be used become ``None``/``False`` and their names go to the node's ``invalid``
set, so that semantic rules can skip them (validation-rules §1 "Cascades"). Lexical rules follow
session-format §2: strict ``Y``/``N``, XSD integer and float forms, trimmed paths with ``\\`` turned
into ``/`` (D16), Option labels with whitespace runs collapsed (D28).
"""

from __future__ import annotations

import re
from typing import Any, cast

from lxml import etree

from sessionkit.session.model import (
    Location,
    Option,
    Page,
    Question,
    QuestionSet,
    Session,
    SessionImage,
)
from sessionkit.session.source import SourceText, sourceline

IMAGE_TYPES = frozenset({"Volume", "VolumeSequence", "LabelMap", "Segmentation", "RTStruct", "Vector"})
LAYERS = frozenset({"Background", "Foreground", "Label", "Segmentation"})
DESTINATIONS = frozenset({"Red", "Green", "Yellow", "Slice4"})
ORIENTATIONS = frozenset({"Axial", "Sagittal", "Coronal"})
VISIBILITY_CODES = frozenset({"All", "None", "Select", "Ignore"})
QUESTION_TYPES = frozenset({"Radio", "CheckBox", "Text", "IntegerValue", "FloatValue", "InfoBox", "Picture", "Button"})
LAYOUTS = frozenset({"FourUp", "TwoOverTwo", "OneUpRedSlice", "SideBySideRedYellow"})
GROUP_LAYOUTS = frozenset({"Vertical", "Horizontal"})
CONTOUR_VISIBILITIES = frozenset({"Fill", "Outline"})
#: Items that only reader results copies carry (session-format §10).
RESULTS_ONLY_ATTRIBUTES = {"Session": ("UserName",), "Page": ("PageComplete", "Rep")}
RESULTS_ONLY_ELEMENTS = frozenset({"State", "LabelMapPath", "MarkupLinePath", "Response", "Login"})

_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_FLOAT = re.compile(r"\s*([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)\s*", re.ASCII)
_GROUPS = re.compile(r"\s*[0-9]+(\s*,\s*[0-9]+)*\s*", re.ASCII)


def parse_xsd_integer(text: str | None) -> int | None:
    """Integer in XSD lexical form (ASCII digits, optional sign, surrounding spaces), else ``None``."""
    if text is None or not _INTEGER.fullmatch(text):
        return None
    return int(text.strip())


def parse_xsd_float(text: str | None) -> float | None:
    """``xs:float`` lexical form (``INF``, ``-INF``, ``NaN`` included), else ``None``."""
    if text is None or not _FLOAT.fullmatch(text):
        return None
    value = text.strip()
    return float(value.replace("INF", "inf"))


def normalise_path(text: str) -> str:
    """Trim XML whitespace and use ``/`` for both separators (session-format §2, D16)."""
    return text.strip(" \t\r\n").replace("\\", "/")


def collapse_whitespace(text: str) -> str:
    """Collapse whitespace runs to one space and trim (D28)."""
    return " ".join(text.split())


def _attributes(element: etree._Element) -> dict[str, str]:
    """Attributes of a parsed element as a plain dict (one C-level copy instead of many ``get`` calls)."""
    return dict(element.items())  # type: ignore[arg-type]


class _Builder:
    def __init__(self, file: str, source: SourceText, root: etree._Element) -> None:
        self.file = file
        self.source = source
        self.results_only: list[tuple[str, Location]] = []
        elements = list(root.iter(etree.Element))
        positions = source.start_tag_positions()
        if len(positions) == len(elements):
            self.positions: dict[etree._Element, tuple[int, int]] | None = dict(zip(elements, positions, strict=True))
        else:  # unexpected markup: fall back to searching each start tag
            self.positions = None
        self._elements = elements  # keeps the lxml proxies (the dictionary keys) alive

    def location(self, element: etree._Element, xpath: str) -> Location:
        position = self.positions.get(element) if self.positions is not None else None
        if position is None:
            tag = element.tag if isinstance(element.tag, str) else ""
            line, column = self.source.element_position(tag, sourceline(element))
            return Location(self.file, line, column, xpath)
        return Location(self.file, position[0], position[1], xpath)

    def flag(self, attrs: dict[str, str], name: str, invalid: set[str]) -> bool:
        value = attrs.get(name)
        if value is None:
            return False
        if value not in ("Y", "N"):
            invalid.add(name)
        return value == "Y"

    def enum(self, value: str | None, allowed: frozenset[str], name: str, invalid: set[str]) -> str | None:
        if value is None:
            return None
        if value not in allowed:
            invalid.add(name)
            return None
        return value

    def integer(self, attrs: dict[str, str], name: str, invalid: set[str], positive: bool = False) -> int | None:
        raw = attrs.get(name)
        if raw is None:
            return None
        value = parse_xsd_integer(raw)
        if value is None or (positive and value < 1):
            invalid.add(name)
            return None
        return value

    def number(self, attrs: dict[str, str], name: str, invalid: set[str]) -> float | None:
        raw = attrs.get(name)
        if raw is None:
            return None
        value = parse_xsd_float(raw)
        if value is None:
            invalid.add(name)
        return value

    def numbers(self, attrs: dict[str, str], name: str, count: int, invalid: set[str], integers: bool) -> Any:
        raw = attrs.get(name)
        if raw is None:
            return None
        tokens = raw.split()
        values = [parse_xsd_integer(t) if integers else parse_xsd_float(t) for t in tokens]
        if len(values) != count or any(v is None for v in values):
            invalid.add(name)
            return None
        return tuple(values)

    def text_of(self, element: etree._Element) -> str:
        if not len(element):
            return element.text or ""
        parts = [element.text or ""]
        parts.extend(child.tail or "" for child in element)
        return "".join(parts)

    def note_results_only(self, element: etree._Element, attrs: dict[str, str], xpath: str) -> None:
        for attribute in RESULTS_ONLY_ATTRIBUTES.get(str(element.tag), ()):
            if attribute in attrs:
                self.results_only.append((attribute, self.location(element, xpath)))

    def session(self, root: etree._Element, sha256: str) -> Session:
        attrs = _attributes(root)
        invalid: set[str] = set()
        self.note_results_only(root, attrs, "/Session")
        pages: list[Page] = []
        indices: tuple[int, ...] | None = None
        indices_location: Location | None = None
        for child in root:
            tag = child.tag
            if tag == "Page":
                index = len(pages) + 1
                pages.append(self.page(child, index, f"/Session/Page[{index}]"))
            elif tag == "RandomizedPageGroupIndices" and indices_location is None:
                indices_location = self.location(child, "/Session/RandomizedPageGroupIndices")
                text = child.text or ""
                if _GROUPS.fullmatch(text):
                    indices = tuple(int(t) for t in text.split(","))
                else:
                    invalid.add("RandomizedPageGroupIndices")
            elif tag == "Login":
                self.results_only.append(("Login", self.location(child, "/Session/Login")))
        roi_color_file = attrs.get("ROIColorFile") or None
        email = attrs.get("EmailResultsTo") or None
        contour = self.enum(attrs.get("ContourVisibility"), CONTOUR_VISIBILITIES, "ContourVisibility", invalid)
        kinds: list[str] = []
        for kind, _ in self.results_only:
            if kind not in kinds:
                kinds.append(kind)
        return Session(
            file=self.file,
            sha256=sha256,
            location=self.location(root, "/Session"),
            pages=tuple(pages),
            roi_color_file=roi_color_file,
            randomize_page_groups=self.flag(attrs, "RandomizePageGroups", invalid),
            contour_visibility=cast(Any, contour),
            email_results_to=email,
            randomized_page_group_indices=indices,
            results_only_items=tuple(kinds),
            results_only_locations=tuple(self.results_only),
            randomized_page_group_indices_location=indices_location,
            attributes=tuple(attrs),
            invalid=frozenset(invalid),
        )

    def page(self, element: etree._Element, index: int, xpath: str) -> Page:
        attrs = _attributes(element)
        invalid: set[str] = set()
        self.note_results_only(element, attrs, xpath)
        images: list[SessionImage] = []
        sets: list[QuestionSet] = []
        for child in element:
            if child.tag == "Image":
                number = len(images) + 1
                images.append(self.image(child, number, f"{xpath}/Image[{number}]"))
            elif child.tag == "QuestionSet":
                number = len(sets) + 1
                sets.append(self.question_set(child, number, f"{xpath}/QuestionSet[{number}]"))
        layout = self.enum(attrs.get("Layout"), LAYOUTS, "Layout", invalid)
        return Page(
            id=attrs.get("ID", ""),
            index=index,
            location=self.location(element, xpath),
            descriptor=attrs.get("Descriptor", ""),
            layout=cast(Any, layout),
            link_views=self.flag(attrs, "LinkViews", invalid),
            page_group=self.integer(attrs, "PageGroup", invalid),
            allow_multiple_response=self.flag(attrs, "AllowMultipleResponse", invalid),
            enable_segment_editor=self.flag(attrs, "EnableSegmentEditor", invalid),
            segment_required_on_any_image=self.flag(attrs, "SegmentRequiredOnAnyImage", invalid),
            min_markup_lines_required_on_any_image=self.integer(
                attrs, "MinMarkupLinesRequiredOnAnyImage", invalid, positive=True
            ),
            loop=self.flag(attrs, "Loop", invalid),
            bookmark_id=attrs.get("BookmarkID") or None,
            go_to_bookmark=attrs.get("GoToBookmark") or None,
            contour_tool_radius=self.number(attrs, "ContourToolRadius", invalid),
            user_interaction_log=self.flag(attrs, "UserInteractionLog", invalid),
            button_script_rerun_required=self.flag(attrs, "ButtonScriptRerunRequired", invalid),
            images=tuple(images),
            question_sets=tuple(sets),
            attributes=tuple(attrs),
            invalid=frozenset(invalid),
        )

    def image(self, element: etree._Element, index: int, xpath: str) -> SessionImage:
        attrs = _attributes(element)
        invalid: set[str] = set()
        children: list[str] = []
        values: dict[str, str] = {}
        raw_path = ""
        path_location: Location | None = None
        rois_location: Location | None = None
        code: str | None = None
        rois: list[str] = []
        has_rois = False
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            children.append(tag)
            if tag in RESULTS_ONLY_ELEMENTS:
                self.results_only.append((tag, self.location(child, f"{xpath}/{tag}")))
            elif tag == "Path" and path_location is None:
                raw_path = self.text_of(child)
                path_location = self.location(child, f"{xpath}/Path")
            elif tag == "ROIs" and not has_rois:
                has_rois = True
                rois_location = self.location(child, f"{xpath}/ROIs")
                code = self.enum(child.get("ROIVisibilityCode"), VISIBILITY_CODES, "ROIVisibilityCode", invalid)
                rois = [(roi.text or "").strip(" \t\r\n") for roi in child if roi.tag == "ROI"]
            elif tag in ("DefaultDestination", "DefaultOrientation", "Layer") and tag not in values:
                values[tag] = child.text or ""
        image_type = attrs.get("Type", "")
        if image_type not in IMAGE_TYPES:
            invalid.add("Type")
        return SessionImage(
            id=attrs.get("ID", ""),
            type=cast(Any, image_type),
            index=index,
            location=self.location(element, xpath),
            path=normalise_path(raw_path),
            raw_path=raw_path,
            dicom_read=self.flag(attrs, "DicomRead", invalid),
            label_map_id=attrs.get("LabelMapID") or None,
            display_label_map_id=attrs.get("DisplayLabelMapID") or None,
            merge_label_maps=self.flag(attrs, "MergeLabelMaps", invalid),
            rotate_to_acquisition=self.flag(attrs, "RotateToAcquisition", invalid),
            color_table=attrs.get("ColorTable") or None,
            opacity=self.opacity(attrs, invalid),
            segment_required=self.flag(attrs, "SegmentRequired", invalid),
            min_markup_lines_required=self.integer(attrs, "MinMarkupLinesRequired", invalid, positive=True),
            initial_slice_offset=self.number(attrs, "InitialSliceOffset", invalid),
            zoom_factor=self.number(attrs, "ZoomFactor", invalid),
            pan_origin=self.numbers(attrs, "PanOrigin", 3, invalid, integers=False),
            window_level=self.numbers(attrs, "WindowLevel", 2, invalid, integers=True),
            destination=cast(
                Any, self.enum(values.get("DefaultDestination"), DESTINATIONS, "DefaultDestination", invalid)
            ),
            orientation=cast(
                Any, self.enum(values.get("DefaultOrientation"), ORIENTATIONS, "DefaultOrientation", invalid)
            ),
            layer=cast(Any, self.enum(values.get("Layer"), LAYERS, "Layer", invalid)),
            roi_visibility_code=cast(Any, code),
            rois=tuple(rois),
            has_rois_element=has_rois,
            attributes=tuple(attrs),
            children=tuple(children),
            invalid=frozenset(invalid),
            rois_location=rois_location,
            path_location=path_location,
        )

    def opacity(self, attrs: dict[str, str], invalid: set[str]) -> float | None:
        value = self.number(attrs, "Opacity", invalid)
        if value is not None and not 0.0 <= value <= 1.0:
            invalid.add("Opacity")
            return None
        return value

    def question_set(self, element: etree._Element, index: int, xpath: str) -> QuestionSet:
        attrs = _attributes(element)
        questions: list[Question] = []
        for child in element:
            if child.tag == "Question":
                number = len(questions) + 1
                questions.append(self.question(child, number, f"{xpath}/Question[{number}]"))
        return QuestionSet(
            index=index,
            location=self.location(element, xpath),
            id=attrs.get("ID", ""),
            descriptor=attrs.get("Descriptor", ""),
            questions=tuple(questions),
        )

    def question(self, element: etree._Element, index: int, xpath: str) -> Question:
        attrs = _attributes(element)
        invalid: set[str] = set()
        options: list[Option] = []
        for child in element:
            if child.tag == "Option":
                number = len(options) + 1
                option_xpath = f"{xpath}/Option[{number}]"
                for response in child:
                    if response.tag == "Response":
                        self.results_only.append(("Response", self.location(response, f"{option_xpath}/Response")))
                options.append(
                    Option(collapse_whitespace(self.text_of(child)), number, self.location(child, option_xpath))
                )
        question_type = attrs.get("Type", "")
        if question_type not in QUESTION_TYPES:
            invalid.add("Type")
        return Question(
            type=cast(Any, question_type),
            index=index,
            location=self.location(element, xpath),
            descriptor=attrs.get("Descriptor", ""),
            min=attrs.get("Min"),
            max=attrs.get("Max"),
            group_layout=self.enum(attrs.get("GroupLayout"), GROUP_LAYOUTS, "GroupLayout", invalid),
            button_custom_color_on=self.numbers(attrs, "ButtonCustomColorOn", 3, invalid, integers=True),
            button_toggle_color_off=self.numbers(attrs, "ButtonToggleColorOff", 3, invalid, integers=True),
            options=tuple(options),
            attributes=tuple(attrs),
            invalid=frozenset(invalid),
        )


def build_session(root: etree._Element, source: SourceText, file: str, sha256: str) -> Session:
    """Build the model of a parsed ``<Session>`` tree.

    Parameters
    ----------
    root : lxml element
        The ``Session`` root (stage 1 output).
    source : SourceText
        Decoded document text, for 1-based line/column of every node.
    file : str
        Path recorded in every :class:`Location`.
    sha256 : str
        Hex SHA-256 of the file bytes.

    Returns
    -------
    Session
        Never raises for content problems; unusable values are ``None`` and listed in ``invalid``.
    """
    return _Builder(file, source, root).session(root, sha256)
