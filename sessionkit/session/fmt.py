"""``sessionkit fmt``: rewrite a session file canonically without changing its meaning.

The canonical form: an XML declaration ``<?xml version="1.0" encoding="UTF-8"?>``; two-space
indentation of the structural elements (Session, Page, Image, QuestionSet, Question, ROIs), one
child per line (so one ``Option`` per line); attributes in the order the bundled XSD declares them
(names it does not know keep their order after the known ones); Image children in the order
``Path``, ``DefaultDestination``, ``DefaultOrientation``, ``Layer``, ``ROIs``, then the rest in
source order. Comments and processing instructions are kept (a comment moves with the element it
precedes). The text of leaf elements (``Path``, ``Option``, ``ROI``…) is never touched.

With ``upgrade`` the pre-2.0 names that SK201/SK202 recognise are rewritten: ``<Destination>`` and
``<Orientation>`` in an Image become ``DefaultDestination``/``DefaultOrientation``, a
``Description`` attribute becomes ``Descriptor``, and the Page attributes written on an element
inside the Page (``EnableSegmentEditor``…) move to that Page (``ROIVisibilityCode`` on an Image
moves to its ``ROIs``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from lxml import etree

from sessionkit.errors import SessionError
from sessionkit.session.build import build_session
from sessionkit.session.parse import parse_session_bytes
from sessionkit.session.schema import ATTRIBUTE_HOMES, PRE_2_0_RENAMES, load_schema

INDENT = "  "
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
#: Elements whose content is element-only: indented one child per line.
STRUCTURAL = frozenset({"Session", "Page", "Image", "QuestionSet", "Question", "ROIs"})
#: Canonical order of the children of ``<Image>``; other children follow in source order.
IMAGE_CHILD_ORDER = ("Path", "DefaultDestination", "DefaultOrientation", "Layer", "ROIs")
#: Model fields that record where a node is, not what it means.
_POSITIONAL = frozenset(
    {
        "file",
        "sha256",
        "location",
        "rois_location",
        "path_location",
        "randomized_page_group_indices_location",
        "results_only_locations",
    }
)
#: Model fields listing names in source order, an order without meaning.
_UNORDERED = frozenset({"attributes", "children"})


@dataclass
class Formatted:
    """Outcome of :func:`format_session` for one document.

    Attributes
    ----------
    text : str
        The canonical document (ends with a newline); encode it as UTF-8.
    changed : bool
        ``True`` when ``text`` differs from the input bytes.
    upgrades : list of str
        One line per pre-2.0 name rewritten (``upgrade=True`` only), with its source line.
    """

    text: str
    changed: bool
    upgrades: list[str] = field(default_factory=list)


def session_meaning(node: Any) -> Any:
    """A comparable value holding everything a session model means and nothing about its layout.

    Locations, file name and SHA-256 are dropped; the source order of attribute names and of Image
    children is ignored (it has no meaning); NaN compares equal to NaN.

    Parameters
    ----------
    node : Session or any model node
        A node of :mod:`sessionkit.session.model`.

    Returns
    -------
    object
        Nested tuples; two sessions mean the same when these are equal.
    """
    if is_dataclass(node) and not isinstance(node, type):
        return (
            type(node).__name__,
            tuple(
                (spec.name, tuple(sorted(value)) if spec.name in _UNORDERED else session_meaning(value))
                for spec in fields(node)
                if spec.name not in _POSITIONAL
                for value in (getattr(node, spec.name),)
            ),
        )
    if isinstance(node, tuple):
        return tuple(session_meaning(item) for item in node)
    if isinstance(node, float) and math.isnan(node):
        return "NaN"
    return node


def _order_attributes(element: etree._Element, declared: tuple[str, ...]) -> None:
    rank = {name: index for index, name in enumerate(declared)}
    items = list(element.attrib.items())
    ordered = sorted(items, key=lambda item: rank.get(str(item[0]), len(rank)))
    if ordered != items:
        element.attrib.clear()
        for name, value in ordered:
            element.set(name, value)


def _order_image_children(image: etree._Element) -> None:
    """Stable sort of the Image children; comments and PIs travel with the element after them."""
    groups: list[tuple[int, list[etree._Element]]] = []
    pending: list[etree._Element] = []
    for child in image:
        pending.append(child)
        if isinstance(child.tag, str):
            rank = IMAGE_CHILD_ORDER.index(child.tag) if child.tag in IMAGE_CHILD_ORDER else len(IMAGE_CHILD_ORDER)
            groups.append((rank, pending))
            pending = []
    ordered = sorted(groups, key=lambda group: group[0])
    if ordered == groups:
        return
    for child in list(image):
        image.remove(child)  # the tail goes with the element
    for _, nodes in ordered:
        image.extend(nodes)
    image.extend(pending)


def _whitespace(text: str | None) -> bool:
    return text is None or not text.strip()


def _indent(element: etree._Element, level: int) -> None:
    """Indent a structural element's children one per line; other elements keep their text as is."""
    if element.tag not in STRUCTURAL:
        return
    children = list(element)
    if not children:
        if _whitespace(element.text):
            element.text = None
        return
    inner = "\n" + INDENT * (level + 1)
    if _whitespace(element.text):
        element.text = inner
    for child in children:
        _indent(child, level + 1)
        if _whitespace(child.tail):
            child.tail = inner
    if _whitespace(children[-1].tail):
        children[-1].tail = "\n" + INDENT * level


def _line(element: etree._Element) -> str:
    return f"line {element.sourceline}" if element.sourceline else "?"


def _upgrade(root: etree._Element, specs: dict[str, Any]) -> list[str]:
    """Rewrite the pre-2.0 names SK201/SK202 know; one note per change."""
    notes: list[str] = []
    for element in list(root.iter()):
        tag = element.tag
        if not isinstance(tag, str):
            continue
        parent = element.getparent()
        new_tag = PRE_2_0_RENAMES.get(tag)
        if (
            new_tag is not None
            and parent is not None
            and new_tag in specs[str(parent.tag)].children
            and parent.find(new_tag) is None
        ):
            notes.append(f"{_line(element)}: <{tag}> renamed to <{new_tag}>")
            element.tag = new_tag
            tag = new_tag
        spec = specs.get(tag)
        if spec is None:
            continue
        for name in [str(a) for a in element.attrib if a not in spec.attributes]:
            new_name = PRE_2_0_RENAMES.get(name)
            if new_name is not None and new_name in spec.attributes and new_name not in element.attrib:
                notes.append(f"{_line(element)}: {name}= on <{tag}> renamed to {new_name}=")
                element.set(new_name, element.attrib.pop(name))
                continue
            home = _home(element, ATTRIBUTE_HOMES.get(name))
            if home is not None and home is not element and home.get(name) in (None, element.get(name)):
                notes.append(f"{_line(element)}: {name}= moved from <{tag}> to <{home.tag}> ({_line(home)})")
                home.set(name, element.attrib.pop(name))
    return notes


def _home(element: etree._Element, home_tag: str | None) -> etree._Element | None:
    """The one element an attribute misplaced on ``element`` belongs to: its Page, or an Image's ROIs."""
    if home_tag == "Page":
        return next((a for a in element.iterancestors("Page")), None)
    if home_tag == "ROIs" and element.tag == "Image":
        found = element.findall("ROIs")
        return found[0] if len(found) == 1 else None
    return None


def _serialize(root: etree._Element) -> str:
    before: list[str] = []
    node = root.getprevious()
    while node is not None:
        before.insert(0, etree.tostring(node, encoding="unicode", with_tail=False))
        node = node.getprevious()
    after: list[str] = []
    node = root.getnext()
    while node is not None:
        after.append(etree.tostring(node, encoding="unicode", with_tail=False))
        node = node.getnext()
    body = etree.tostring(root, encoding="unicode", with_tail=False)
    return "\n".join([DECLARATION, *before, body, *after]) + "\n"


def format_session(data: bytes, file: str = "<session>", *, upgrade: bool = False) -> Formatted:
    """Canonical text of one session document (see the module docstring for the rules).

    Parameters
    ----------
    data : bytes
        The session file's bytes (any encoding the validator accepts; the output is UTF-8).
    file : str
        Name used in errors.
    upgrade : bool
        Also rewrite pre-2.0 names (``Destination`` → ``DefaultDestination``, …); this changes the
        model (the old names were not understood), so only then may the meaning differ.

    Returns
    -------
    Formatted

    Raises
    ------
    SessionError
        When the document does not pass stage 1 (unreadable, not well-formed, DOCTYPE, root not
        ``<Session>``: ``problems`` holds the SK1xx findings), or when formatting would change the
        model (a bug: the file is left alone).
    """
    doc = parse_session_bytes(data, file)
    if doc.root is None or doc.source is None:
        first = doc.problems[0].format_text() if doc.problems else "no root element"
        raise SessionError(f"cannot format {file}: {first}", doc.problems)
    before = build_session(doc.root, doc.source, file, doc.sha256)
    root = doc.root
    specs = load_schema().elements
    notes = _upgrade(root, specs) if upgrade else []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        spec = specs.get(element.tag)
        if spec is not None and element.attrib:
            _order_attributes(element, spec.attributes)
        if element.tag == "Image":
            _order_image_children(element)
    _indent(root, 0)
    text = _serialize(root)
    if not upgrade:
        again = parse_session_bytes(text.encode("utf-8"), file)
        if (
            again.root is None
            or again.source is None
            or session_meaning(build_session(again.root, again.source, file, again.sha256)) != session_meaning(before)
        ):
            raise SessionError(f"cannot format {file}: the canonical form would change its meaning (please report)")
    return Formatted(text=text, changed=text.encode("utf-8") != data, upgrades=notes)
