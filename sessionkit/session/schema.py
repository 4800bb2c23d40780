"""Stage 2 of validation: the XSD check (codes SK201–SK210, plus SK107 when the schema is missing).

Under ``--dialect iq`` the names session.xsd adds to Image Quizzer's XSD are reported too (SK211).

``lxml.etree.XMLSchema`` (libxml2) decides validity (clarifications C4); its error log is mapped to
rule codes with line, column, XPath, the allowed values and the closest known name. Cardinalities
that XSD 1.0 cannot express for the relaxed content models of session-format §11 (one ``Path`` per
Image, one ``RandomizedPageGroupIndices`` after the last Page) are checked here too.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from sessionkit.errors import Problem
from sessionkit.session.codes import IQ_UNKNOWN, RULES
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


def describe(element: etree._Element) -> str:
    """Human name of an element with its ancestors, e.g. ``page 3 'PatientB' image 2 'T2'``."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else ""
        parent = node.getparent()
        index = 1 + sum(1 for s in node.itersiblings(preceding=True) if s.tag == tag) if parent is not None else 1
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
        node = parent
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


class _Mapper:
    """Turns libxml2 schema errors into Problems for one document."""

    def __init__(self, root: etree._Element, source: SourceText, file: str, specs: dict[str, ElementSpec]) -> None:
        self.root = root
        self.source = source
        self.file = file
        self.specs = specs
        self.seen: set[tuple[str, str, str | None]] = set()
        self.problems: list[Problem] = []

    def element_at(self, path: str | None) -> etree._Element | None:
        if not path:
            return None
        try:
            found = self.root.getroottree().xpath(path)
        except etree.XPathError:
            return None
        return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None

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
        if key in self.seen:
            return
        self.seen.add(key)
        line: int | None = None
        column: int | None = None
        name = element.tag if element is not None and isinstance(element.tag, str) else None
        if element is not None and name is not None:
            if attribute:
                line, column = self.source.attribute_position(name, sourceline(element), attribute)
            else:
                line, column = self.source.element_position(name, sourceline(element))
        where = describe(element) if element is not None else ""
        subject = f"{where}: " if where else ""
        page = element if element is not None else None
        while page is not None and page.tag != "Page":
            page = page.getparent()
        page_index = None
        if page is not None:
            page_index = 1 + sum(1 for s in page.itersiblings(preceding=True) if s.tag == "Page")
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
                page_index=page_index,
                page_id=page.get("ID") if page is not None else None,
                element=name,
                attribute=attribute,
                found=found,
                expected=expected,
                origin="XSD",
            )
        )

    def map(self, entry: etree._LogEntry) -> None:
        message = entry.message
        kind = entry.type_name
        path = entry.path
        element = self.element_at(path)
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
        if any(k[0] in ("SK208", "SK209") and k[1] == (path or "") and k[2] == attribute for k in self.seen):
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
        path = image.getroottree().getpath(image)
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
                    extra.getroottree().getpath(extra),
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
                element.getroottree().getpath(element),
                None,
                "<RandomizedPageGroupIndices> must appear once, after the last <Page>",
                "move it after the last Page or delete the repeated element",
                expected="after the last Page",
            )


def validate_schema(root: etree._Element, source: SourceText, file: str) -> list[Problem]:
    """Check a parsed session against ``session.xsd``.

    Parameters
    ----------
    root : lxml element
        Root ``Session`` element from :func:`sessionkit.session.parse.parse_session_bytes`.
    source : SourceText
        Decoded text for positions.
    file : str
        Name used in problems.

    Returns
    -------
    list of Problem
        SK2xx problems (SK107 if the bundled schema cannot be loaded).
    """
    try:
        loaded = load_schema()
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        return [schema_problem(exc)]
    mapper = _Mapper(root, source, file, loaded.elements)
    if not loaded.schema.validate(root):
        for entry in iter(loaded.schema.error_log):  # type: ignore[call-overload]
            mapper.map(entry)
    _cardinality(mapper, root)
    return mapper.problems


def iq_extension_problems(root: etree._Element, source: SourceText, file: str) -> list[Problem]:
    """SK211 for every sessionkit extension of :data:`~sessionkit.session.codes.IQ_UNKNOWN` in a session.

    Parameters
    ----------
    root : lxml element
        Root ``Session`` element.
    source : SourceText
        Decoded text for positions.
    file : str
        Name used in problems.

    Returns
    -------
    list of Problem
        One error per extension element or attribute, at its position (Image Quizzer 3.4.3's XSD
        rejects these names, so IQ refuses the file).
    """
    mapper = _Mapper(root, source, file, {})
    for name, attribute in IQ_UNKNOWN:
        for element in root.iter(name):
            if attribute is not None and attribute not in element.attrib:
                continue
            what = f"attribute '{attribute}' of <{name}>" if attribute else f"element <{name}>"
            mapper.add(
                "SK211",
                element,
                element.getroottree().getpath(element),
                attribute,
                f"{what} is a sessionkit extension; Image Quizzer 3.4.3's XSD does not define it",
                RULES["SK211"].hint,
                found=attribute or name,
            )
    return mapper.problems
