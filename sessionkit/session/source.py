"""Source text of a parsed session: line/column lookup for elements and attributes.

lxml reports only the line on which a start tag *ends*; the rules need the 1-based line and column
of the start tag (or of one attribute in it) as validation-rules.md §1 "Locations" asks. This module
keeps the decoded text and a table of line starts, and finds positions lazily (by XPath, see
:meth:`SourceText.xpath_position`), so building the model of a large session pays only for the
positions actually read.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_NEWLINE = re.compile(r"\n")
_DEFAULT_NAMESPACE = re.compile(r"\sxmlns\s*=\s*([\"'])(.*?)\1", re.DOTALL)
#: Every piece of markup in document order: comments, CDATA, PIs and declarations are matched and
#: skipped; group 1 marks an end tag, group 2 is a start tag's name and group 3 its ``/`` when the
#: element is empty (attribute values and text cannot contain a raw ``<``; quoted values may hold ``>``).
_MARKUP = re.compile(
    r"<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>|![^>]*>|(/)|([^\s/>!?]+)(?:[^>\"'/]++|\"[^\"]*+\"|'[^']*+'|/(?!>))*+(/?)>)",
    re.DOTALL,
)

#: A start tag at a given offset; group 1 spans its attributes.
_START_TAG = re.compile(r"<[^\s/>!?]+((?:[^>\"'/]++|\"[^\"]*+\"|'[^']*+'|/(?!>))*+)/?>")
#: One ``name = "value"`` pair inside a start tag; group 1 is the name.
_ATTRIBUTE = re.compile(r"([^\s=/>\"']+)\s*=\s*(?:\"[^\"]*\"|'[^']*')")


@dataclass
class SourceText:
    """Decoded text of one XML file with a line-start index.

    Parameters
    ----------
    text : str
        The whole document as decoded text.
    """

    text: str
    _starts: list[int] = field(init=False, repr=False)
    _xpaths: dict[str, int] | None = field(default=None, init=False, repr=False)
    _attributes: dict[int, dict[str, int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]

    def xpath_position(self, xpath: str) -> tuple[int | None, int | None]:
        """1-based (line, column) of the start tag of the element at ``xpath``, else ``(None, None)``.

        ``xpath`` is a child-axis path such as ``/Session/Page[3]/Image[2]/Path`` where an unindexed
        step means the first child of that name. The first call indexes every start tag of the
        document (one scan); later calls are dictionary lookups.
        """
        if self._xpaths is None:
            self._xpaths = self._index_xpaths()
        steps = xpath.split("/")
        key = "/".join(step if not step or step.endswith("]") else step + "[1]" for step in steps)
        offset = self._xpaths.get(key)
        if offset is None:
            return None, None
        return self.offset_to_line_col(offset)

    def _index_xpaths(self) -> dict[str, int]:
        """Offset of every element start tag keyed by its fully indexed XPath.

        Elements in a namespace (a prefix, or under a non-empty default ``xmlns``) are keyed as
        ``{ns}name`` so that they never take the place of the plain-named siblings the model uses.
        """
        offsets: dict[str, int] = {}
        # (XPath of the open element, counts of its children by name, its default namespace)
        stack: list[tuple[str, dict[str, int], str]] = [("", {}, "")]
        for match in _MARKUP.finditer(self.text):
            name = match.group(2)
            if name is None:
                if match.group(1) and len(stack) > 1:
                    stack.pop()
                continue
            parent, counts, namespace = stack[-1]
            if "xmlns" in match.group(0):
                declared = _DEFAULT_NAMESPACE.search(match.group(0))
                namespace = declared.group(2) if declared else namespace
            if namespace or ":" in name:
                name = "{ns}" + name
            number = counts.get(name, 0) + 1
            counts[name] = number
            key = f"{parent}/{name}[{number}]"
            offsets[key] = match.start()
            if not match.group(3):
                stack.append((key, {}, namespace))
        return offsets

    def offset_to_line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line_index = bisect.bisect_right(self._starts, offset) - 1
        return line_index + 1, offset - self._starts[line_index] + 1

    def tag_offset(self, tag: str, end_line: int | None) -> int | None:
        """Offset of ``<tag`` of the start tag that ends on ``end_line`` (lxml's ``sourceline``)."""
        if end_line is None or end_line < 1 or end_line > len(self._starts):
            return None
        stop = self._starts[end_line] if end_line < len(self._starts) else len(self.text)
        start = self.text.rfind("<" + tag, 0, stop)
        return start if start >= 0 else None

    def element_position(self, tag: str, end_line: int | None) -> tuple[int | None, int | None]:
        """(line, column) of the ``<`` of a start tag, falling back to ``(end_line, None)``."""
        offset = self.tag_offset(tag, end_line)
        if offset is None:
            return end_line, None
        return self.offset_to_line_col(offset)

    def attribute_position(self, tag: str, end_line: int | None, attribute: str) -> tuple[int | None, int | None]:
        """(line, column) of ``attribute=`` inside the start tag, else the element position."""
        offset = self.tag_offset(tag, end_line)
        if offset is None:
            return end_line, None
        return self.offset_to_line_col(self._attribute_offset(offset, attribute))

    def attribute_in_tag(self, line: int | None, column: int | None, attribute: str) -> tuple[int | None, int | None]:
        """(line, column) of ``attribute=`` in the start tag beginning at (line, column)."""
        if line is None or column is None or line > len(self._starts):
            return line, column
        offset = self._starts[line - 1] + column - 1
        found = self._attribute_offset(offset, attribute)
        return (line, column) if found == offset else self.offset_to_line_col(found)

    def _attribute_offset(self, tag_start: int, attribute: str) -> int:
        """Offset of ``attribute`` in the start tag at ``tag_start``, else ``tag_start``.

        The attributes of a start tag are indexed in one scan the first time one of them is asked
        for, so reporting every one of 100,000 attributes of one tag stays linear.
        """
        index = self._attributes.get(tag_start)
        if index is None:
            index = {}
            tag = _START_TAG.match(self.text, tag_start)
            if tag is not None:
                for match in _ATTRIBUTE.finditer(self.text, tag.start(1), tag.end(1)):
                    index.setdefault(match.group(1), match.start(1))
            self._attributes[tag_start] = index
        return index.get(attribute, tag_start)


def sourceline(element: object) -> int | None:
    """lxml's ``sourceline`` of an element as ``int | None`` (the stubs type it loosely)."""
    value = getattr(element, "sourceline", None)
    return value if isinstance(value, int) else None
