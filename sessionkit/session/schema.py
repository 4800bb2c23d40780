"""Stage 2 of validation: the XSD check (codes SK201–SK210, plus SK107 when the schema is missing).

Under ``--dialect iq`` the names session.xsd adds to Image Quizzer's XSD are reported too (SK211).

``lxml.etree.XMLSchema`` (libxml2) decides validity (clarifications C4); its error log is mapped to
rule codes with line, column, XPath, the allowed values and the closest known name. Cardinalities
that XSD 1.0 cannot express for the relaxed content models of session-format §11 (one ``Path`` per
Image, one ``RandomizedPageGroupIndices`` after the last Page) are checked here too.
"""

from __future__ import annotations

import copy
import difflib
import functools
import importlib.resources
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from sessionkit.errors import Problem
from sessionkit.session.codes import IQ_UNKNOWN, RULES
from sessionkit.session.findings import ProblemCap
from sessionkit.session.source import SourceText, sourceline

_XS = "{http://www.w3.org/2001/XMLSchema}"
#: Pre-2.0 element and attribute names and their current names (SK201/SK202 hints, ``fmt --upgrade``).
PRE_2_0_RENAMES = {
    "Destination": "DefaultDestination",
    "Orientation": "DefaultOrientation",
    "Description": "Descriptor",
}
#: Attributes often written on the wrong element, with the element they belong to.
ATTRIBUTE_HOMES = {
    "EnableSegmentEditor": "Page",
    "AllowMultipleResponse": "Page",
    "SegmentRequiredOnAnyImage": "Page",
    "SegmentRequired": "Image",
    "ROIVisibilityCode": "ROIs",
}
_SINGLE_IMAGE_CHILDREN = ("Path", "DefaultDestination", "DefaultOrientation", "Layer", "ROIs")
#: Images lacking Path or repeating a single child (SK203/SK204), selected in one pass.
_IRREGULAR_IMAGES = "//Image[not(Path)" + "".join(f" or {t}[2]" for t in _SINGLE_IMAGE_CHILDREN) + "]"


def schema_path() -> Path:
    """Location of the bundled ``session.xsd``.

    Looks for package data ``sessionkit/schemas/session.xsd`` (the wheel maps the top-level
    ``schemas/`` folder there) and falls back to ``<repo>/schemas/session.xsd`` in a source checkout.

    Returns
    -------
    pathlib.Path
        Path of the schema file (it may not exist if the installation is broken; see SK107).
    """
    packaged = importlib.resources.files("sessionkit").joinpath("schemas", "session.xsd")
    if isinstance(packaged, Path) and packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas" / "session.xsd"


@dataclass(frozen=True)
class ElementSpec:
    """Names the schema allows on one element: its attributes and child elements."""

    attributes: tuple[str, ...]
    children: tuple[str, ...]


@dataclass(frozen=True)
class LoadedSchema:
    """The compiled schema and, per element name, the allowed attribute and child names."""

    schema: etree.XMLSchema
    elements: dict[str, ElementSpec]
    path: Path


def element_specs(doc: etree._ElementTree) -> dict[str, ElementSpec]:
    """Allowed attribute and child names of every named element declared in an XSD document."""
    root = doc.getroot()
    named_types = {t.get("name"): t for t in root.iterchildren(_XS + "complexType")}
    specs: dict[str, ElementSpec] = {}
    for element in root.iter(_XS + "element"):
        name = element.get("name")
        if name is None:
            continue
        ctype = element.find(_XS + "complexType")
        if ctype is None and element.get("type") in named_types:
            ctype = named_types[element.get("type")]
        if ctype is None:
            specs[name] = ElementSpec((), ())
            continue
        attributes = tuple(str(a.get("name")) for a in ctype.iterchildren(_XS + "attribute"))
        children: list[str] = []
        for child in ctype.iter(_XS + "element"):
            if child.getparent() is not None and _owner(child) is ctype:
                child_name = child.get("name") or child.get("ref")
                if child_name and child_name not in children:
                    children.append(child_name)
        specs[name] = ElementSpec(attributes, tuple(children))
    return specs


def _owner(element: etree._Element) -> etree._Element | None:
    """Nearest enclosing complexType of a particle."""
    parent = element.getparent()
    while parent is not None and parent.tag != _XS + "complexType":
        parent = parent.getparent()
    return parent


@functools.lru_cache(maxsize=4)
def load_schema(path: Path | None = None) -> LoadedSchema:
    """Compile the session schema once per process.

    Raises
    ------
    OSError, lxml.etree.XMLSchemaParseError, lxml.etree.XMLSyntaxError
        When the schema cannot be read or compiled (callers report SK107).
    """
    location = path or schema_path()
    doc = etree.parse(str(location), etree.XMLParser(resolve_entities=False, no_network=True))
    return LoadedSchema(schema=etree.XMLSchema(doc), elements=element_specs(doc), path=location)


def schema_problem(exc: Exception) -> Problem:
    """SK107 for a bundled schema that cannot be loaded."""
    return Problem(
        code="SK107",
        severity="error",
        message=f"sessionkit's bundled schema {schema_path()} cannot be loaded: {exc}",
        hint="reinstall sessionkit",
        file=str(schema_path()),
        scope="file",
    )


class _Tree:
    """Positional XPaths of one document and lookups by them, without quadratic sibling scans.

    lxml's ``getpath`` and XPath steps such as ``Page[49999]`` count siblings on every call, so
    reporting one problem on each of 50,000 pages took minutes. Here the children of a parent are
    grouped by name once, the first time a path through that parent is asked for.
    """

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self._groups: dict[etree._Element, dict[str, list[etree._Element]]] = {}
        self._index: dict[etree._Element, int] = {}

    def _children(self, parent: etree._Element) -> dict[str, list[etree._Element]]:
        groups = self._groups.get(parent)
        if groups is None:
            groups = {}
            for child in parent.iterchildren(etree.Element):
                same = groups.setdefault(str(child.tag), [])
                same.append(child)
                self._index[child] = len(same)
            self._groups[parent] = groups
        return groups

    def index(self, element: etree._Element) -> tuple[int, int]:
        """(1-based index among the siblings of the same name, number of such siblings)."""
        parent = element.getparent()
        if parent is None:
            return 1, 1
        same = self._children(parent)[str(element.tag)]
        return self._index[element], len(same)

    def path(self, element: etree._Element) -> str:
        """lxml's ``getpath`` of an element (``Page`` alone, ``Page[3]`` among several)."""
        steps: list[str] = []
        for node in (element, *element.iterancestors()):
            tag = node.tag
            if not isinstance(tag, str) or tag.startswith("{"):
                return str(self.root.getroottree().getpath(element))  # namespaced: lxml's prefixes
            number, count = self.index(node)
            steps.append(f"{tag}[{number}]" if count > 1 else tag)
        return "/" + "/".join(reversed(steps))

    def element_at(self, path: str | None) -> etree._Element | None:
        """The element at a positional path from libxml2 or :meth:`path`, else ``None``."""
        if not path:
            return None
        steps = path.split("/")[1:]
        if not steps or steps[0] != self.root.tag:
            return None
        node = self.root
        for step in steps[1:]:
            name, _, number = step.partition("[")
            if ":" in name or name == "*":
                return self._xpath(path)
            same = self._children(node).get(name)
            position = int(number.rstrip("]")) if number else 1
            if not same or position > len(same):
                return None
            node = same[position - 1]
        return node

    def _xpath(self, path: str) -> etree._Element | None:
        try:
            found = self.root.getroottree().xpath(path)
        except etree.XPathError:
            return None
        return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None

    def describe(self, element: etree._Element) -> str:
        """Human name of an element with its ancestors, e.g. ``page 3 'PatientB' image 2 'T2'``."""
        parts: list[str] = []
        for node in (element, *element.iterancestors()):
            tag = node.tag
            index = self.index(node)[0]
            if tag == "Page":
                parts.append(f"page {index} '{node.get('ID', '')}'")
            elif tag == "Image":
                parts.append(f"image {index} '{node.get('ID', '')}'")
            elif tag == "QuestionSet":
                parts.append(f"question-set {index}")
            elif tag == "Question":
                parts.append(f"question {index} '{node.get('Descriptor', '')}'")
            elif tag == "Option":
                parts.append(f"option {index}")
        return " ".join(reversed(parts))


def _closest(name: str, candidates: tuple[str, ...]) -> str | None:
    if name in PRE_2_0_RENAMES and PRE_2_0_RENAMES[name] in candidates:
        return PRE_2_0_RENAMES[name]
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


_ATTR = re.compile(r"attribute '([^']+)'")
_VALUE = re.compile(r"[Tt]he value '([^']*)'|^'([^']*)' is not a valid")
_SET = re.compile(r"\{([^}]*)\}")
_TYPE = re.compile(r"type '([^']+)'")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")


#: libxml2 error kinds that always map to one code (checked against the cap before any parsing).
_KIND_CODES = {
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": "SK202",
    "SCHEMAV_CVC_COMPLEX_TYPE_4": "SK205",
    "SCHEMAV_CVC_ENUMERATION_VALID": "SK206",
    "SCHEMAV_CVC_LENGTH_VALID": "SK208",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "SK209",
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "SK209",
}


class _Mapper:
    """Turns libxml2 schema errors into Problems for one document."""

    def __init__(
        self,
        root: etree._Element,
        source: SourceText,
        file: str,
        specs: dict[str, ElementSpec],
        cap: ProblemCap | None = None,
    ) -> None:
        self.root = root
        self.tree = _Tree(root)
        self.source = source
        self.file = file
        self.specs = specs
        self.cap = cap or ProblemCap()
        self.seen: set[tuple[str, str, str | None]] = set()
        self.covered: set[tuple[str, str | None]] = set()  # (path, attribute) with an SK208/SK209
        self.problems: list[Problem] = []

    def past_cap(self, code: str) -> bool:
        """``True`` (and the problem counted) when ``code`` already has its share of listed problems."""
        if not self.cap.full(code):
            return False
        self.cap.admit(code)
        return True

    def add(
        self,
        code: str,
        element: etree._Element | None,
        path: str | None,
        attribute: str | None,
        message: str,
        hint: str,
        found: object = None,
        expected: object = None,
    ) -> None:
        key = (code, path or "", attribute)
        if key in self.seen or self.past_cap(code):
            return
        self.seen.add(key)
        self.cap.admit(code)
        if code in ("SK208", "SK209"):
            self.covered.add((path or "", attribute))
        line: int | None = None
        column: int | None = None
        name = element.tag if element is not None and isinstance(element.tag, str) else None
        if element is not None and name is not None:
            line, column = self.source.xpath_position(path) if path else (None, None)
            if line is None:
                line, column = self.source.element_position(name, sourceline(element))
            if attribute:
                line, column = self.source.attribute_in_tag(line, column, attribute)
        where = self.tree.describe(element) if element is not None else ""
        subject = f"{where}: " if where else ""
        page = element if element is not None else None
        while page is not None and page.tag != "Page":
            page = page.getparent()
        self.problems.append(
            Problem(
                code=code,
                severity="error",
                message=subject + message,
                hint=hint,
                file=self.file,
                line=line,
                column=column,
                xpath=path,
                scope="any",
                page_index=self.tree.index(page)[0] if page is not None else None,
                page_id=page.get("ID") if page is not None else None,
                element=name,
                attribute=attribute,
                found=found,
                expected=expected,
                origin="XSD",
            )
        )

    def map(self, entry: etree._LogEntry, path: str | None) -> None:
        """Map one libxml2 error about the element at ``path`` (its path in the whole document)."""
        kind = entry.type_name
        if kind in _KIND_CODES and self.past_cap(_KIND_CODES[kind]):
            return  # counted only: no lookup, no message parsing
        message = entry.message
        element = self.tree.element_at(path)
        name = element.tag if element is not None and isinstance(element.tag, str) else "?"
        attr_match = _ATTR.search(message)
        attribute = attr_match.group(1) if attr_match else None
        value_match = _VALUE.search(message.split(": ", 1)[-1])
        value = next((g for g in value_match.groups() if g is not None), None) if value_match else None
        where = f"attribute '{attribute}'" if attribute else f"element <{name}>"
        if kind == "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1":
            self.unknown_attribute(element, path, name, attribute or "?")
        elif kind == "SCHEMAV_CVC_COMPLEX_TYPE_4":
            missing = re.search(r"The attribute '([^']+)' is required", message)
            attr = missing.group(1) if missing else "?"
            self.add(
                "SK205",
                element,
                path,
                attr,
                f"required attribute '{attr}' is missing on <{name}>",
                f'add the attribute, e.g. <{name} {attr}="...">',
                expected=attr,
            )
        elif kind == "SCHEMAV_ELEMENT_CONTENT":
            self.content(element, path, name, message)
        elif kind == "SCHEMAV_CVC_COMPLEX_TYPE_2_3" or "Character content" in message:
            text = (
                " ".join(t.strip() for t in ([element.text or ""] + [c.tail or "" for c in element]) if t.strip())
                if element is not None
                else ""
            )
            self.add(
                "SK210",
                element,
                path,
                None,
                f"stray text '{text[:40]}' directly inside <{name}>",
                "delete the stray text or move it into an Option",
                found=text[:40],
            )
        elif kind == "SCHEMAV_CVC_ENUMERATION_VALID":
            set_match = _SET.search(message)
            listed = set_match.group(1).split(",") if set_match else []
            allowed = [a for a in (v.strip().strip("'") for v in listed) if a]
            case_match = next((a for a in allowed if value is not None and a.lower() == value.strip().lower()), None)
            extra = f"; did you mean '{case_match}'?" if case_match else ""
            self.add(
                "SK206",
                element,
                path,
                attribute,
                f"{where} has value '{value}', expected one of {', '.join(allowed)}{extra}",
                "use one of the listed values exactly (case-sensitive, no spaces)",
                found=value,
                expected=allowed,
            )
        elif kind == "SCHEMAV_CVC_LENGTH_VALID":
            counts = re.findall(r"length of '(\d+)'", message)
            self.add(
                "SK208",
                element,
                path,
                attribute,
                f"{where} has {counts[0] if counts else '?'} items "
                f"('{value}'), expected {counts[-1] if counts else '?'}",
                "give exactly that many space-separated numbers",
                found=value,
                expected=counts[-1] if counts else None,
            )
        elif kind in ("SCHEMAV_CVC_MAXINCLUSIVE_VALID", "SCHEMAV_CVC_MININCLUSIVE_VALID"):
            self.add(
                "SK209",
                element,
                path,
                attribute,
                f"{where} value '{value}' is outside the allowed range [0, 1]",
                "use a value in the allowed range",
                found=value,
                expected="[0, 1]",
            )
        elif kind.startswith("SCHEMAV_CVC_DATATYPE_VALID") or kind == "SCHEMAV_CVC_PATTERN_VALID":
            self.datatype(element, path, attribute, where, value, message)
        else:
            self.add("SK201", element, path, attribute, message, "fix the element so it matches the session schema")

    def unknown_attribute(self, element: etree._Element | None, path: str | None, name: str, attribute: str) -> None:
        if self.past_cap("SK202"):
            return  # skip the closest-name search: 10⁶ unknown attributes must not cost 10⁶ of them
        allowed = self.specs.get(name, ElementSpec((), ())).attributes
        close = _closest(attribute, allowed)
        home = ATTRIBUTE_HOMES.get(attribute)
        hint = f"rename it to '{close}'" if close else "remove it or rename it"
        if home and home != name:
            hint = f"move it to <{home}>"
        self.add(
            "SK202",
            element,
            path,
            attribute,
            f"attribute '{attribute}' is not defined for <{name}>"
            + (f" (closest known name: '{close}')" if close else "")
            + f"; allowed: {', '.join(allowed)}",
            hint,
            found=attribute,
            expected=list(allowed),
        )

    def content(self, element: etree._Element | None, path: str | None, name: str, message: str) -> None:
        expected_match = _EXPECTED.search(message)
        expected = [e.strip() for e in expected_match.group(1).split(",")] if expected_match else []
        if "Missing child" in message:
            missing = "QuestionSet" if name == "Page" else (expected[0] if expected else "?")
            self.add(
                "SK203",
                element,
                path,
                None,
                f"<{name}> lacks a mandatory <{missing}> child",
                "add it, e.g. <QuestionSet/> after the last Image"
                if missing == "QuestionSet"
                else f"add <{missing}>",
                expected=expected,
            )
            return
        parent = element.getparent() if element is not None else None
        parent_name = parent.tag if parent is not None and isinstance(parent.tag, str) else "?"
        allowed = self.specs.get(parent_name, ElementSpec((), ())).children
        if name in allowed:
            self.add(
                "SK204",
                element,
                path,
                None,
                f"<{name}> is out of order or repeated inside <{parent_name}>"
                + (f"; expected here: {', '.join(expected)}" if expected else ""),
                "move or delete the extra element (Images come before the first QuestionSet)",
                found=name,
                expected=expected,
            )
            return
        if self.past_cap("SK201"):
            return
        close = _closest(name, allowed)
        self.add(
            "SK201",
            element,
            path,
            None,
            f"element <{name}> is not allowed inside <{parent_name}>"
            + (f" (closest known name: <{close}>)" if close else "")
            + f"; allowed children: "
            f"{', '.join(allowed) or 'none'}",
            f"rename it to <{close}>" if close else "remove or move it",
            found=name,
            expected=list(allowed),
        )

    def datatype(
        self,
        element: etree._Element | None,
        path: str | None,
        attribute: str | None,
        where: str,
        value: str | None,
        message: str,
    ) -> None:
        if (path or "", attribute) in self.covered:
            return  # the list-length or range error already covers this value
        type_match = _TYPE.search(message)
        type_name = type_match.group(1) if type_match else "?"
        if element is not None and element.tag == "RandomizedPageGroupIndices":
            type_name = "commaSeparatedGroupsType"
        stripped = (value or "").strip()
        if type_name == "xs:positiveInteger" and re.fullmatch(r"[+-]?\d+", stripped):
            self.add(
                "SK209",
                element,
                path,
                attribute,
                f"{where} value '{value}' is below 1",
                "omit the attribute instead of writing 0",
                found=value,
                expected=">= 1",
            )
            return
        if type_name in ("listTypeInts", "listType3Ints", "xs:int") and all(
            re.fullmatch(r"[+-]?\d+", t) for t in stripped.split()
        ):
            self.add(
                "SK209",
                element,
                path,
                attribute,
                f"{where} value '{value}' is beyond the 32-bit integer range",
                "use smaller numbers",
                found=value,
                expected="32-bit integers",
            )
            return
        readable = {
            "xs:integer": "an integer",
            "xs:positiveInteger": "a positive integer",
            "xs:float": "a number",
            "listTypeFloats": "3 numbers",
            "listTypeInts": "2 integers",
            "listType3Ints": "3 integers",
            "commaSeparatedGroupsType": "comma-separated group numbers such as '3,1,2'",
        }
        expected = readable.get(type_name, type_name)
        self.add(
            "SK207",
            element,
            path,
            attribute,
            f"{where} value '{value}' is not {expected}",
            "write group numbers separated by commas, e.g. 3,1,2"
            if type_name == "commaSeparatedGroupsType"
            else f'write a plain number, e.g. {attribute or "PageGroup"}="2"',
            found=value,
            expected=expected,
        )


def _elements(node: etree._Element, query: str) -> list[etree._Element]:
    """Elements selected by an XPath query (other result kinds dropped)."""
    found = node.xpath(query)
    return [item for item in found if isinstance(item, etree._Element)] if isinstance(found, list) else []


def _cardinality(mapper: _Mapper, root: etree._Element) -> None:
    """SK203/SK204 checks that the relaxed content models of session-format §11 leave to rules."""
    # One libxml2 query finds the irregular images; Python looks only at those.
    for image in _elements(root, _IRREGULAR_IMAGES):
        tags = [child.tag for child in image]
        path = mapper.tree.path(image)
        if "Path" not in tags:
            mapper.add(
                "SK203",
                image,
                path,
                None,
                "<Image> lacks its mandatory <Path> child",
                "add <Path> with the file relative to the images root",
                expected="Path",
            )
        for tag in _SINGLE_IMAGE_CHILDREN:
            extras = [child for child in image if child.tag == tag][1:]
            for extra in extras:
                mapper.add(
                    "SK204",
                    extra,
                    mapper.tree.path(extra),
                    None,
                    f"<Image> has more than one <{tag}> (at most 1 allowed)",
                    "delete the extra element",
                    found=len(extras) + 1,
                    expected=1,
                )
    indices = [c for c in root if c.tag == "RandomizedPageGroupIndices"]
    last_page = max((i for i, c in enumerate(root) if c.tag == "Page"), default=-1)
    for number, element in enumerate(indices):
        position = list(root).index(element)
        if number > 0 or position < last_page:
            mapper.add(
                "SK204",
                element,
                mapper.tree.path(element),
                None,
                "<RandomizedPageGroupIndices> must appear once, after the last <Page>",
                "move it after the last Page or delete the repeated element",
                expected="after the last Page",
            )


def page_stand_in(parent: etree._Element) -> etree._Element:
    """Append the smallest valid ``Page`` (``ID`` and an empty ``QuestionSet``) to ``parent``.

    A stand-in that raised errors of its own would bring back the cost that validating pages one
    by one avoids (every error on a child of the root counts all the root's children).
    """
    page = etree.SubElement(parent, "Page", ID="stand-in")
    etree.SubElement(page, "QuestionSet")
    return page


def _session_shell(root: etree._Element, allowed: tuple[str, ...]) -> etree._Element:
    """A copy of the ``Session`` element whose ``Page`` children are stand-ins (:func:`page_stand_in`).

    Validating it checks the root's attributes, text and the order of its children; each Page is
    validated on its own (:func:`validate_schema`). Children the root allows other than Page are
    copied whole (they are small), unknown ones as empty elements of the same name.
    """
    shell = etree.Element(root.tag, nsmap=root.nsmap)  # type: ignore[arg-type]  # lxml takes a None prefix
    shell.attrib.update(root.attrib)
    shell.text = root.text
    last: etree._Element | None = None
    for child in root:
        if not isinstance(child.tag, str):  # a comment or processing instruction: keep its tail text
            if child.tail:
                if last is None:
                    shell.text = (shell.text or "") + child.tail
                else:
                    last.tail = (last.tail or "") + child.tail
            continue
        if child.tag != "Page" and child.tag in allowed:
            last = copy.deepcopy(child)
            shell.append(last)
        elif child.tag == "Page":
            last = page_stand_in(shell)
        else:
            last = etree.SubElement(shell, child.tag, nsmap=child.nsmap)  # type: ignore[arg-type]
        last.tail = child.tail
    return shell


def validate_schema(
    root: etree._Element, source: SourceText, file: str, cap: ProblemCap | None = None
) -> list[Problem]:
    """Check a parsed session against ``session.xsd``.

    Each ``Page`` is validated as a document of its own (the schema declares Page globally and
    has no identity constraints across pages), then the root with stand-ins for its pages:
    libxml2 names every error by a positional path that counts the element's siblings, so one
    validation of 50,000 erroneous pages would count 50,000 siblings 50,000 times.
    Errors of the root's other children still count its children: many erroneous
    ``RandomizedPageGroupIndices`` elements remain quadratic (each is also an SK204).

    Parameters
    ----------
    root : lxml element
        Root ``Session`` element from :func:`sessionkit.session.parse.parse_session_bytes`.
    source : SourceText
        Decoded text for positions.
    file : str
        Name used in problems.
    cap : ProblemCap, optional
        Per-code listing cap shared with the other stages of the file.

    Returns
    -------
    list of Problem
        SK2xx problems (SK107 if the bundled schema cannot be loaded).
    """
    try:
        loaded = load_schema()
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        return [schema_problem(exc)]
    mapper = _Mapper(root, source, file, loaded.elements, cap)
    schema = loaded.schema
    pages = [child for child in root if child.tag == "Page"]
    for number, page in enumerate(pages, start=1):
        prefix = f"/{root.tag}/Page[{number}]" if len(pages) > 1 else f"/{root.tag}/Page"
        if not schema.validate(page):
            for entry in iter(schema.error_log):  # type: ignore[call-overload]
                path = entry.path
                mapper.map(entry, prefix + path[len("/Page") :] if path and path.startswith("/Page") else None)
    shell = _session_shell(root, loaded.elements.get("Session", ElementSpec((), ())).children)
    if not schema.validate(shell):
        for entry in iter(schema.error_log):  # type: ignore[call-overload]
            steps = (entry.path or "").split("/")
            if len(steps) > 2 and steps[2].partition("[")[0] == "Page" and "is not expected" not in entry.message:
                continue  # the stand-in's own content and attributes: reported by the Page's validation
            mapper.map(entry, entry.path)
    _cardinality(mapper, root)
    return mapper.problems


def iq_extension_problems(
    root: etree._Element, source: SourceText, file: str, cap: ProblemCap | None = None
) -> list[Problem]:
    """SK211 for every sessionkit extension of :data:`~sessionkit.session.codes.IQ_UNKNOWN` in a session.

    Parameters
    ----------
    root : lxml element
        Root ``Session`` element.
    source : SourceText
        Decoded text for positions.
    file : str
        Name used in problems.
    cap : ProblemCap, optional
        Per-code listing cap shared with the other stages of the file.

    Returns
    -------
    list of Problem
        One error per extension element or attribute, at its position (Image Quizzer 3.4.3's XSD
        rejects these names, so IQ refuses the file).
    """
    mapper = _Mapper(root, source, file, {}, cap)
    for name, attribute in IQ_UNKNOWN:
        for element in root.iter(name):
            if attribute is not None and attribute not in element.attrib:
                continue
            what = f"attribute '{attribute}' of <{name}>" if attribute else f"element <{name}>"
            mapper.add(
                "SK211",
                element,
                mapper.tree.path(element),
                attribute,
                f"{what} is a sessionkit extension; Image Quizzer 3.4.3's XSD does not define it",
                RULES["SK211"].hint,
                found=attribute or name,
            )
    return mapper.problems
