"""The session model: frozen dataclasses built from a session XML file.

Every node keeps its :class:`Location` (file, line, column, XPath) so that rules and runtime
messages can point at the source. Attribute names are the XML names in snake_case
(``ROIVisibilityCode`` -> ``roi_visibility_code``). Absent attributes are ``None`` (or ``False``
for Y/N flags); defaults of session-format.md §9 are applied by the ``effective_*`` properties so
that "absent" stays distinguishable from "explicit".

Each node also records ``attributes`` (the XML attribute names present, in source order) and
``invalid`` (names of attributes or child elements whose value was present but unusable, e.g. an
enumeration typo reported by the schema stage); the value field of an invalid item is ``None``/``False``
and rules skip it (validation-rules §1 "Cascades").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

ImageType = Literal["Volume", "VolumeSequence", "LabelMap", "Segmentation", "RTStruct", "Vector"]
LayerName = Literal["Background", "Foreground", "Label", "Segmentation"]
Destination = Literal["Red", "Green", "Yellow", "Slice4"]
Orientation = Literal["Axial", "Sagittal", "Coronal"]
VisibilityCode = Literal["All", "None", "Select", "Ignore"]
QuestionType = Literal["Radio", "CheckBox", "Text", "IntegerValue", "FloatValue", "InfoBox", "Picture", "Button"]
Layout = Literal["FourUp", "TwoOverTwo", "OneUpRedSlice", "SideBySideRedYellow"]

#: Layer used when ``<Layer>`` is absent (session-format §6.2, D2).
DEFAULT_LAYER_FOR_TYPE: dict[str, LayerName] = {
    "Volume": "Background",
    "VolumeSequence": "Background",
    "Vector": "Background",
    "LabelMap": "Label",
    "Segmentation": "Segmentation",
    "RTStruct": "Segmentation",
}

#: Image types holding segments: what ``StartingContourID`` may name (issue #7 item 5).
LABEL_IMAGE_TYPES = frozenset({"LabelMap", "Segmentation", "RTStruct"})

#: Viewports shown by each layout (session-format §6.3).
LAYOUT_VIEWPORTS: dict[str, tuple[Destination, ...]] = {
    "FourUp": ("Red", "Yellow", "Green"),
    "TwoOverTwo": ("Red", "Yellow", "Green", "Slice4"),
    "OneUpRedSlice": ("Red",),
    "SideBySideRedYellow": ("Red", "Yellow"),
}

#: Button actions the server implements (session-format §7 "Button", D9, clarifications C6), keyed by
#: the option's file name (``<Option>reset_view.py</Option>``) with what a click does. None of them runs
#: code from the session: each only touches the reader's own viewer state or records the click, so
#: every one succeeds. Any other name is SK612: the button only records the click.
BUTTON_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        "record_click.py": "records the click and nothing else (a checkpoint the reader confirms)",
        "reset_view.py": "restores every viewport of the page to its initial slice, zoom and pan "
        "(InitialSliceOffset, ZoomFactor, PanOrigin, else the image defaults)",
        "reset_window_level.py": "restores the window/level of the page's images to their initial values "
        "(WindowLevel, else the image defaults)",
    }
)

#: Question types whose options are logged in responses.csv (reading-flow §14.2).
ANSWERABLE_TYPES: frozenset[str] = frozenset({"Radio", "CheckBox", "Text", "IntegerValue", "FloatValue", "Button"})


class Location:
    """Where a node is in its source file (1-based line and column; XPath with positions).

    Immutable. The model builder gives each node its XPath and a ``resolver`` instead of a line and
    column: positions are looked up in the source text only when first read (usually only for the
    nodes a Problem points at), so building the model of a large clean session costs no position
    search. Equality, hashing and ``repr`` use the resolved values.

    Parameters
    ----------
    file : str
        Path of the source file.
    line, column : int, optional
        1-based position of the start tag's ``<``.
    xpath : str, optional
        ``/Session/Page[3]/Image[2]``-style path (an unindexed step means the first such child).
    resolver : callable, optional
        ``resolver(xpath) -> (line, column)``, called at most once, when ``line``/``column`` are read.
    """

    file: str
    xpath: str | None
    _line: int | None
    _column: int | None
    _resolver: Callable[[str], tuple[int | None, int | None]] | None

    def __init__(
        self,
        file: str,
        line: int | None = None,
        column: int | None = None,
        xpath: str | None = None,
        resolver: Callable[[str], tuple[int | None, int | None]] | None = None,
    ) -> None:
        # written to the instance dict directly (``__setattr__`` refuses): tens of thousands are built
        state = self.__dict__
        state["file"] = file
        state["xpath"] = xpath
        state["_line"] = line
        state["_column"] = column
        state["_resolver"] = resolver if xpath is not None and line is None else None

    def _resolve(self) -> None:
        resolver = self._resolver
        if resolver is not None and self.xpath is not None:
            line, column = resolver(self.xpath)
            state = self.__dict__
            state["_line"] = line
            state["_column"] = column
            state["_resolver"] = None

    @property
    def line(self) -> int | None:
        """1-based line of the start tag (``None`` when unknown)."""
        if self._resolver is not None:
            self._resolve()
        return self._line

    @property
    def column(self) -> int | None:
        """1-based column of the start tag's ``<`` (``None`` when unknown)."""
        if self._resolver is not None:
            self._resolve()
        return self._column

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Location is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Location is immutable (cannot delete {name!r})")

    def _key(self) -> tuple[str, int | None, int | None, str | None]:
        return (self.file, self.line, self.column, self.xpath)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Location):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Location(file={self.file!r}, line={self.line!r}, column={self.column!r}, xpath={self.xpath!r})"

    def __reduce__(self) -> tuple[type[Location], tuple[str, int | None, int | None, str | None]]:
        return (Location, self._key())


@dataclass(frozen=True)
class Option:
    """``<Option>``: its label (whitespace runs collapsed, trimmed; D28) and 1-based index."""

    label: str
    index: int
    location: Location


@dataclass(frozen=True)
class Question:
    """``<Question>``. ``min``/``max`` keep their source text (the type decides how to parse them)."""

    type: QuestionType
    index: int
    location: Location
    descriptor: str = ""
    min: str | None = None
    max: str | None = None
    group_layout: str | None = None
    button_custom_color_on: tuple[int, int, int] | None = None
    button_toggle_color_off: tuple[int, int, int] | None = None
    options: tuple[Option, ...] = ()
    attributes: tuple[str, ...] = ()
    invalid: frozenset[str] = frozenset()

    @property
    def is_answerable(self) -> bool:
        """True for types whose options are logged (everything but InfoBox and Picture)."""
        return self.type in ANSWERABLE_TYPES


@dataclass(frozen=True)
class QuestionSet:
    """``<QuestionSet>``; may hold no questions (image-only page)."""

    index: int
    location: Location
    id: str = ""
    descriptor: str = ""
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class SessionImage:
    """``<Image>`` of a page (the file reference and its display attributes).

    ``path`` is normalised: trimmed, ``\\`` turned into ``/`` (D16); ``raw_path`` is the text as written.
    """

    id: str
    type: ImageType
    index: int
    location: Location
    path: str = ""
    raw_path: str = ""
    dicom_read: bool = False
    label_map_id: str | None = None
    display_label_map_id: str | None = None
    merge_label_maps: bool = False
    starting_contour_id: str | None = None
    rotate_to_acquisition: bool = False
    color_table: str | None = None
    opacity: float | None = None
    segment_required: bool = False
    min_markup_lines_required: int | None = None
    initial_slice_offset: float | None = None
    zoom_factor: float | None = None
    pan_origin: tuple[float, float, float] | None = None
    window_level: tuple[int, int] | None = None
    destination: Destination | None = None
    orientation: Orientation | None = None
    layer: LayerName | None = None
    roi_visibility_code: VisibilityCode | None = None
    rois: tuple[str, ...] = ()
    has_rois_element: bool = False
    attributes: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    invalid: frozenset[str] = frozenset()
    rois_location: Location | None = None
    path_location: Location | None = None

    @property
    def effective_destination(self) -> Destination:
        """``DefaultDestination``, else ``Red`` (D2)."""
        return self.destination or "Red"

    @property
    def effective_orientation(self) -> Orientation:
        """``DefaultOrientation``, else ``Axial`` (D2)."""
        return self.orientation or "Axial"

    @property
    def effective_layer(self) -> LayerName:
        """``Layer``, else derived from ``Type`` (D2)."""
        return self.layer or DEFAULT_LAYER_FOR_TYPE.get(self.type, "Background")

    @property
    def effective_opacity(self) -> float:
        """``Opacity``, else 0.5 (session-format §9)."""
        return 0.5 if self.opacity is None else self.opacity


@dataclass(frozen=True)
class Page:
    """``<Page>``; ``index`` is its 1-based position in the file."""

    id: str
    index: int
    location: Location
    descriptor: str = ""
    layout: Layout | None = None
    link_views: bool = False
    page_group: int | None = None
    allow_multiple_response: bool = False
    enable_segment_editor: bool = False
    segment_required_on_any_image: bool = False
    min_markup_lines_required_on_any_image: int | None = None
    loop: bool = False
    bookmark_id: str | None = None
    go_to_bookmark: str | None = None
    contour_tool_radius: float | None = None
    user_interaction_log: bool = False
    button_script_rerun_required: bool = False
    images: tuple[SessionImage, ...] = ()
    question_sets: tuple[QuestionSet, ...] = ()
    attributes: tuple[str, ...] = ()
    invalid: frozenset[str] = frozenset()

    @property
    def effective_layout(self) -> Layout:
        """``Layout``, else ``FourUp``."""
        return self.layout or "FourUp"


@dataclass(frozen=True)
class Session:
    """``<Session>``: the whole file.

    Attributes
    ----------
    file : str
        Path of the session file as given.
    sha256 : str
        Lowercase hex SHA-256 of the file bytes.
    """

    file: str
    sha256: str
    location: Location
    pages: tuple[Page, ...] = ()
    roi_color_file: str | None = None
    randomize_page_groups: bool = False
    contour_visibility: Literal["Fill", "Outline"] | None = None
    email_results_to: str | None = None
    randomized_page_group_indices: tuple[int, ...] | None = None
    results_only_items: tuple[str, ...] = field(default_factory=tuple)
    results_only_locations: tuple[tuple[str, Location], ...] = ()
    randomized_page_group_indices_location: Location | None = None
    attributes: tuple[str, ...] = ()
    invalid: frozenset[str] = frozenset()

    @property
    def effective_contour_visibility(self) -> Literal["Fill", "Outline"]:
        """``ContourVisibility``, else ``Outline`` (D1)."""
        return self.contour_visibility or "Outline"

    def effective_page_groups(self) -> list[int]:
        """Effective PageGroup of each page in file order (reading-flow §3.1, D21).

        No page has a group: page *i* gets *i*. Otherwise pages without one get the next unused
        integers above ``max(existing, 0)``, in file order.
        """
        explicit = [page.page_group for page in self.pages]
        if all(group is None for group in explicit):
            return [page.index for page in self.pages]
        next_free = max([0] + [g for g in explicit if g is not None]) + 1
        groups: list[int] = []
        for group in explicit:
            if group is None:
                groups.append(next_free)
                next_free += 1
            else:
                groups.append(group)
        return groups
