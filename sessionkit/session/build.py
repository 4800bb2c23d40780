"""Stage 3a: build the :class:`~sessionkit.session.model.Session` model from a parsed tree.

Lenient by design: the builder runs on documents the schema rejected too and must never fail.
Values that cannot be used become ``None``/``False`` and their names go to the node's ``invalid``
set, so that semantic rules can skip them (validation-rules §1 "Cascades"). Lexical rules follow
session-format §2: strict ``Y``/``N``, XSD integer and float forms, trimmed paths with ``\\`` turned
into ``/`` (D16), Option labels with whitespace runs collapsed (D28).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, TypeVar, cast

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
from sessionkit.session.source import SourceText

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


#: More attributes than any element of the schema has: read them through XPath (see :func:`_attributes`).
_MANY_ATTRIBUTES = 64


def _attributes(element: etree._Element) -> dict[str, str]:
    """Attributes of a parsed element as a plain dict (one C-level copy instead of many ``get`` calls).

    lxml's ``items()`` looks each value up by name, which is quadratic in the number of attributes
    (20,000 attributes on one element took seconds); an element with that many is read through the
    attribute nodes that ``@*`` selects, in one linear pass.
    """
    if len(element.attrib) <= _MANY_ATTRIBUTES:
        return dict(element.items())  # type: ignore[arg-type]
    nodes = element.xpath("@*")
    return {str(getattr(node, "attrname", "")): str(node) for node in nodes} if isinstance(nodes, list) else {}


_Node = TypeVar("_Node")
_INVALID = object()
Converter = Callable[[str], object]


def _flag(raw: str) -> object:
    """Strict ``Y``/``N``."""
    return raw == "Y" if raw in ("Y", "N") else _INVALID


def _text_or_none(raw: str) -> object:
    return raw or None


def _one_of(allowed: frozenset[str]) -> Converter:
    return lambda raw: raw if raw in allowed else _INVALID


def _integer(positive: bool) -> Converter:
    def convert(raw: str) -> object:
        value = parse_xsd_integer(raw)
        return _INVALID if value is None or (positive and value < 1) else value

    return convert


def _number(raw: str) -> object:
    value = parse_xsd_float(raw)
    return _INVALID if value is None else value


def _opacity(raw: str) -> object:
    value = parse_xsd_float(raw)
    return value if value is not None and 0.0 <= value <= 1.0 else _INVALID


def _numbers(count: int, integers: bool) -> Converter:
    def convert(raw: str) -> object:
        values = [parse_xsd_integer(t) if integers else parse_xsd_float(t) for t in raw.split()]
        return tuple(values) if len(values) == count and None not in values else _INVALID

    return convert


#: Optional attributes of each element: XML name -> (model field, converter, value when unusable).
_SESSION_ATTRIBUTES: dict[str, tuple[str, Converter, object]] = {
    "ROIColorFile": ("roi_color_file", _text_or_none, None),
    "RandomizePageGroups": ("randomize_page_groups", _flag, False),
    "ContourVisibility": ("contour_visibility", _one_of(CONTOUR_VISIBILITIES), None),
    "EmailResultsTo": ("email_results_to", _text_or_none, None),
}
_PAGE_ATTRIBUTES: dict[str, tuple[str, Converter, object]] = {
    "Layout": ("layout", _one_of(LAYOUTS), None),
    "LinkViews": ("link_views", _flag, False),
    "PageGroup": ("page_group", _integer(positive=False), None),
    "AllowMultipleResponse": ("allow_multiple_response", _flag, False),
    "EnableSegmentEditor": ("enable_segment_editor", _flag, False),
    "SegmentRequiredOnAnyImage": ("segment_required_on_any_image", _flag, False),
    "MinMarkupLinesRequiredOnAnyImage": ("min_markup_lines_required_on_any_image", _integer(positive=True), None),
    "Loop": ("loop", _flag, False),
    "BookmarkID": ("bookmark_id", _text_or_none, None),
    "GoToBookmark": ("go_to_bookmark", _text_or_none, None),
    "ContourToolRadius": ("contour_tool_radius", _number, None),
    "UserInteractionLog": ("user_interaction_log", _flag, False),
    "ButtonScriptRerunRequired": ("button_script_rerun_required", _flag, False),
}
_IMAGE_ATTRIBUTES: dict[str, tuple[str, Converter, object]] = {
    "DicomRead": ("dicom_read", _flag, False),
    "LabelMapID": ("label_map_id", _text_or_none, None),
    "DisplayLabelMapID": ("display_label_map_id", _text_or_none, None),
    "MergeLabelMaps": ("merge_label_maps", _flag, False),
    "StartingContourID": ("starting_contour_id", _text_or_none, None),
    "RotateToAcquisition": ("rotate_to_acquisition", _flag, False),
    "ColorTable": ("color_table", _text_or_none, None),
    "Opacity": ("opacity", _opacity, None),
    "SegmentRequired": ("segment_required", _flag, False),
    "MinMarkupLinesRequired": ("min_markup_lines_required", _integer(positive=True), None),
    "InitialSliceOffset": ("initial_slice_offset", _number, None),
    "ZoomFactor": ("zoom_factor", _number, None),
    "PanOrigin": ("pan_origin", _numbers(3, integers=False), None),
    "WindowLevel": ("window_level", _numbers(2, integers=True), None),
}
_QUESTION_ATTRIBUTES: dict[str, tuple[str, Converter, object]] = {
    "Min": ("min", str, None),
    "Max": ("max", str, None),
    "GroupLayout": ("group_layout", _one_of(GROUP_LAYOUTS), None),
    "ButtonCustomColorOn": ("button_custom_color_on", _numbers(3, integers=True), None),
    "ButtonToggleColorOff": ("button_toggle_color_off", _numbers(3, integers=True), None),
}


def _fast_constructor(cls: type[_Node]) -> Callable[..., _Node]:
    """Keyword constructor of a frozen model dataclass that fills the instance ``__dict__`` at once.

    The ``__init__`` generated for a frozen dataclass assigns every field through
    ``object.__setattr__``; for the ~22,000 nodes of a 2,000-page session that was the largest single
    cost of the structure-and-semantics pass. The instances are the same (fields, equality, hash,
    immutability); only the builder uses this, with every field without a default given.
    """
    specs = fields(cls)  # type: ignore[arg-type]
    if any(spec.default_factory is not MISSING for spec in specs):
        raise TypeError(f"{cls.__name__}: default factories would be shared by the fast constructor")
    defaults = {spec.name: spec.default for spec in specs if spec.default is not MISSING}
    new = object.__new__

    def make(**values: Any) -> _Node:
        node = new(cls)
        state = node.__dict__
        state.update(defaults)
        state.update(values)
        return node

    return make


_make_page = _fast_constructor(Page)
_make_image = _fast_constructor(SessionImage)
_make_question_set = _fast_constructor(QuestionSet)
_make_question = _fast_constructor(Question)
_make_option = _fast_constructor(Option)


def _convert(
    attrs: dict[str, str], table: dict[str, tuple[str, Converter, object]], invalid: set[str]
) -> dict[str, Any]:
    """Model fields of the optional attributes present; unusable values go to ``invalid``.

    Only the attributes actually written are visited, so absent ones cost nothing.
    """
    values: dict[str, Any] = {}
    for name, raw in attrs.items():
        spec = table.get(name)
        if spec is not None:
            field, convert, fallback = spec
            value = convert(raw)
            if value is _INVALID:
                invalid.add(name)
                value = fallback
            values[field] = value
    return values


class _Builder:
    def __init__(self, file: str, source: SourceText) -> None:
        self.file = file
        self.resolve = source.xpath_position
        self.results_only: list[tuple[str, Location]] = []
        self._results_only_counts: dict[str, int] = {}

    def location(self, xpath: str) -> Location:
        """Location of the element at ``xpath``; its line and column are looked up when first read."""
        return Location(self.file, None, None, xpath, self.resolve)

    def enum(self, value: str | None, allowed: frozenset[str], name: str, invalid: set[str]) -> str | None:
        if value is None:
            return None
        if value not in allowed:
            invalid.add(name)
            return None
        return value

    def text_of(self, element: etree._Element) -> str:
        if not len(element):
            return element.text or ""
        parts = [element.text or ""]
        parts.extend(child.tail or "" for child in element)
        return "".join(parts)

    def note_results_only(self, element: etree._Element, attrs: dict[str, str], xpath: str) -> None:
        for attribute in RESULTS_ONLY_ATTRIBUTES.get(str(element.tag), ()):
            if attribute in attrs:
                self.results_only.append((attribute, self.location(xpath)))

    def note_results_only_element(self, parent: str, tag: str) -> None:
        """Record the next ``<tag>`` child of ``parent`` (XPath indexed from its second occurrence)."""
        xpath = f"{parent}/{tag}"
        number = self._results_only_counts.get(xpath, 0) + 1
        self._results_only_counts[xpath] = number
        self.results_only.append((tag, self.location(xpath if number == 1 else f"{xpath}[{number}]")))

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
                indices_location = self.location("/Session/RandomizedPageGroupIndices")
                text = child.text or ""
                if _GROUPS.fullmatch(text):
                    indices = tuple(int(t) for t in text.split(","))
                else:
                    invalid.add("RandomizedPageGroupIndices")
            elif tag == "Login":
                self.note_results_only_element("/Session", "Login")
        values = _convert(attrs, _SESSION_ATTRIBUTES, invalid)
        kinds: list[str] = []
        for kind, _ in self.results_only:
            if kind not in kinds:
                kinds.append(kind)
        return Session(
            file=self.file,
            sha256=sha256,
            location=self.location("/Session"),
            pages=tuple(pages),
            randomized_page_group_indices=indices,
            results_only_items=tuple(kinds),
            results_only_locations=tuple(self.results_only),
            randomized_page_group_indices_location=indices_location,
            attributes=tuple(attrs),
            invalid=frozenset(invalid),
            **values,
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
        values = _convert(attrs, _PAGE_ATTRIBUTES, invalid)
        return _make_page(
            id=attrs.get("ID", ""),
            index=index,
            location=self.location(xpath),
            descriptor=attrs.get("Descriptor", ""),
            images=tuple(images),
            question_sets=tuple(sets),
            attributes=tuple(attrs),
            invalid=frozenset(invalid),
            **values,
        )

    def image(self, element: etree._Element, index: int, xpath: str) -> SessionImage:
        attrs = _attributes(element)
        invalid: set[str] = set()
        children: list[str] = []
        texts: dict[str, str] = {}
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
                self.note_results_only_element(xpath, tag)
            elif tag == "Path" and path_location is None:
                raw_path = self.text_of(child)
                path_location = self.location(f"{xpath}/Path")
            elif tag == "ROIs" and not has_rois:
                has_rois = True
                rois_location = self.location(f"{xpath}/ROIs")
                code = self.enum(child.get("ROIVisibilityCode"), VISIBILITY_CODES, "ROIVisibilityCode", invalid)
                rois = [(roi.text or "").strip(" \t\r\n") for roi in child if roi.tag == "ROI"]
            elif tag in ("DefaultDestination", "DefaultOrientation", "Layer") and tag not in texts:
                texts[tag] = child.text or ""
        image_type = attrs.get("Type", "")
        if image_type not in IMAGE_TYPES:
            invalid.add("Type")
        values = _convert(attrs, _IMAGE_ATTRIBUTES, invalid)
        destination = self.enum(texts.get("DefaultDestination"), DESTINATIONS, "DefaultDestination", invalid)
        orientation = self.enum(texts.get("DefaultOrientation"), ORIENTATIONS, "DefaultOrientation", invalid)
        layer = self.enum(texts.get("Layer"), LAYERS, "Layer", invalid)
        return _make_image(
            id=attrs.get("ID", ""),
            type=cast(Any, image_type),
            index=index,
            location=self.location(xpath),
            path=normalise_path(raw_path),
            raw_path=raw_path,
            destination=cast(Any, destination),
            orientation=cast(Any, orientation),
            layer=cast(Any, layer),
            roi_visibility_code=cast(Any, code),
            rois=tuple(rois),
            has_rois_element=has_rois,
            attributes=tuple(attrs),
            children=tuple(children),
            invalid=frozenset(invalid),
            rois_location=rois_location,
            path_location=path_location,
            **values,
        )

    def question_set(self, element: etree._Element, index: int, xpath: str) -> QuestionSet:
        attrs = _attributes(element)
        questions: list[Question] = []
        for child in element:
            if child.tag == "Question":
                number = len(questions) + 1
                questions.append(self.question(child, number, f"{xpath}/Question[{number}]"))
        return _make_question_set(
            index=index,
            location=self.location(xpath),
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
                        self.note_results_only_element(option_xpath, "Response")
                options.append(
                    _make_option(
                        label=collapse_whitespace(self.text_of(child)),
                        index=number,
                        location=self.location(option_xpath),
                    )
                )
        question_type = attrs.get("Type", "")
        if question_type not in QUESTION_TYPES:
            invalid.add("Type")
        values = _convert(attrs, _QUESTION_ATTRIBUTES, invalid)
        return _make_question(
            type=cast(Any, question_type),
            index=index,
            location=self.location(xpath),
            descriptor=attrs.get("Descriptor", ""),
            options=tuple(options),
            attributes=tuple(attrs),
            invalid=frozenset(invalid),
            **values,
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
    return _Builder(file, source).session(root, sha256)
