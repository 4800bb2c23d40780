"""Stage 1 of validation: read and parse a session file safely (codes SK101–SK106).

Security comes before parsing (clarifications C4): the size limit is checked on the file system,
the encoding and any DOCTYPE on the raw bytes, and only then does lxml see the document, with
entity resolution, DTD loading and network access off. Nothing here raises for a bad file: every
outcome is a :class:`ParsedDocument` whose ``problems`` say what went wrong.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from sessionkit.errors import Problem
from sessionkit.session.source import SourceText, sourceline

_MIB = 1024 * 1024


@dataclass(frozen=True)
class SafetyLimits:
    """Input limits of SK105 (validation-rules §2); the server may raise them."""

    max_bytes: int = 32 * _MIB
    max_depth: int = 64
    max_elements: int = 1_000_000
    max_text: int = _MIB


DEFAULT_LIMITS = SafetyLimits()


@dataclass
class ParsedDocument:
    """Result of :func:`parse_session_file`.

    Attributes
    ----------
    file : str
        Path as given by the caller (used in every Problem).
    data : bytes
        Raw file bytes (empty when unreadable).
    sha256 : str
        Hex SHA-256 of ``data``.
    root : lxml element or None
        Root element when the document parsed and passed the security checks.
    source : SourceText or None
        Decoded text for line/column lookups.
    problems : list of Problem
        SK1xx findings; any of them means ``root`` is ``None``.
    """

    file: str
    data: bytes = b""
    sha256: str = ""
    root: etree._Element | None = None
    source: SourceText | None = None
    problems: list[Problem] = field(default_factory=list)


def _problem(
    code: str,
    file: str,
    message: str,
    hint: str,
    line: int | None = None,
    column: int | None = None,
    found: object = None,
    expected: object = None,
) -> Problem:
    return Problem(
        code=code,
        severity="error",
        message=message,
        hint=hint,
        file=file,
        line=line,
        column=column,
        scope="file",
        found=found,
        expected=expected,
    )


_DECL_ENCODING = re.compile(r"^(<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DECL = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")


def _detect_encoding(data: bytes) -> tuple[str, int]:
    """Encoding name and BOM length from the BOM, the byte pattern, or the XML declaration."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32", 0
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0
    if data.startswith(b"<\x00?\x00"):
        return "utf-16-le", 0
    if data.startswith(b"\x00<\x00?"):
        return "utf-16-be", 0
    match = _DECL.match(data[:256])
    return (match.group(1).decode("ascii") if match else "utf-8"), 0


def _decode(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    encoding, bom = _detect_encoding(data)
    hint = "save the file as UTF-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None, _problem(
            "SK103",
            file,
            f"encoding '{encoding}' declared in the XML declaration is not supported",
            hint,
            1,
            1,
            found=encoding,
            expected="UTF-8",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # unicode_escape warns about invalid escapes: refuse those too
            text = data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + bom
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return None, _problem(
            "SK103",
            file,
            f"bytes at offset {offset} (0x{data[offset : offset + 1].hex()}) are not valid {encoding} "
            f"(declared or detected encoding '{encoding}')",
            hint,
            line,
            column,
            found=encoding,
            expected="UTF-8",
        )
    except (LookupError, UnicodeError, Warning) as exc:
        # A codec that is not a text encoding (rot13, zlib, base64, hex, ...) or one that fails as a
        # whole (punycode, undefined): the declaration cannot describe an XML document.
        return None, _problem(
            "SK103",
            file,
            f"encoding '{encoding}' declared in the XML declaration cannot decode the file ({exc})",
            hint,
            1,
            1,
            found=encoding,
            expected="UTF-8",
        )
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        # UTF-7 and the escape codecs can produce lone surrogates, which are not XML characters.
        offset = surrogate.start()
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return None, _problem(
            "SK103",
            file,
            f"decoding as '{encoding}' gives the lone surrogate U+{ord(surrogate.group()):04X} at line {line}, "
            f"column {column}, which is not an XML character",
            hint,
            line,
            column,
            found=encoding,
            expected="UTF-8",
        )
    return text, None


def _find_doctype(text: str) -> int | None:
    """Offset of a DOCTYPE in the prolog (before the root start tag), skipping comments and PIs."""
    pos = 0
    length = len(text)
    while pos < length:
        lt = text.find("<", pos)
        if lt < 0:
            return None
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            if end < 0:
                break
            pos = end + 3
        elif text.startswith("<?", lt):
            end = text.find("?>", lt + 2)
            if end < 0:
                break
            pos = end + 2
        elif text.startswith("<!DOCTYPE", lt) or text.startswith("<!doctype", lt):
            return lt
        else:
            return None
    # An unterminated comment or PI: fall back to a plain search so a DOCTYPE is never missed.
    found = text.find("<!DOCTYPE")
    return found if found >= 0 else None


def secure_parser() -> etree.XMLParser:
    """An lxml parser with entity resolution, DTD loading and network access off.

    Callers refuse a DOCTYPE on the raw text before parsing (as :func:`parse_session_bytes` does).
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def _too_deep(root: etree._Element, limit: int) -> etree._Element | None:
    """First element deeper than ``limit`` (root = depth 1), found by libxml2's XPath engine."""
    found = root.xpath("(/" + "*/" * limit + "*)[1]")
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None


def _has_long_run(text: str, limit: int) -> bool:
    """True when ``text`` has more than ``limit`` consecutive characters without a ``<``.

    Jumps window by window: the last ``<`` within ``limit + 1`` characters of a run's start ends
    every run starting before it, so a document of n characters takes about n / limit searches.
    """
    start = 0
    length = len(text)
    while length - start > limit:
        last = text.rfind("<", start, start + limit + 1)
        if last < 0:
            return True
        start = last + 1
    return False


def _check_limits(root: etree._Element, text: str, file: str, limits: SafetyLimits) -> Problem | None:
    hint = "split the session or raise the limit in server config"
    deep = _too_deep(root, limits.max_depth)
    if deep is not None:
        return _problem(
            "SK105",
            file,
            f"element nesting is deeper than the limit of {limits.max_depth} levels",
            hint,
            line=sourceline(deep),
            found=f"> {limits.max_depth}",
            expected=f"<= {limits.max_depth}",
        )
    count = int(root.xpath("count(//*)"))  # type: ignore[arg-type]
    if count > limits.max_elements:
        return _problem(
            "SK105",
            file,
            f"document has {count} elements, more than the limit of {limits.max_elements}",
            hint,
            found=count,
            expected=limits.max_elements,
        )
    if not _has_long_run(text, limits.max_text):
        return None  # no run of characters between two '<' is long enough to hold an oversized value
    long_nodes = root.xpath(
        f"(//text()[string-length(.) > {limits.max_text}] | //@*[string-length(.) > {limits.max_text}])[1]"
    )
    if isinstance(long_nodes, list) and long_nodes:
        node = long_nodes[0]
        getparent = getattr(node, "getparent", None)
        line = sourceline(getparent()) if getparent is not None else None
        return _problem(
            "SK105",
            file,
            f"a text or attribute value is longer than the limit of {limits.max_text} characters",
            hint,
            line=line,
            expected=limits.max_text,
        )
    return None


def _syntax_problem(exc: etree.XMLSyntaxError, file: str, limits: SafetyLimits) -> Problem:
    message = str(exc.msg or exc)
    line, column = exc.position if exc.position else (exc.lineno, None)
    if "Excessive depth" in message or "huge" in message.lower():
        return _problem(
            "SK105",
            file,
            f"input exceeds a parser safety limit: {message}",
            "split the session or raise the limit in server config",
            line,
            column,
            expected=f"depth <= {limits.max_depth}",
        )
    if "encoding" in message.lower() or "not proper UTF-8" in message:
        return _problem(
            "SK103",
            file,
            f"undecodable input at line {line}, column {column}: {message}",
            "save the file as UTF-8",
            line,
            column,
        )
    return _problem(
        "SK102",
        file,
        f"XML is not well-formed at line {line}:{column}: {message}",
        "fix the markup at that position (unclosed tag, bare '&' or '<')",
        line,
        column,
        found=message,
    )


def parse_session_bytes(data: bytes, file: str, limits: SafetyLimits = DEFAULT_LIMITS) -> ParsedDocument:
    """Parse session bytes with the security checks of SK103–SK106.

    Parameters
    ----------
    data : bytes
        The whole file.
    file : str
        Name used in problems.
    limits : SafetyLimits
        SK105 limits (validation-rules §2).

    Returns
    -------
    ParsedDocument
        ``root`` is set only when no SK1xx problem was found.
    """
    doc = ParsedDocument(file=file, data=data, sha256=hashlib.sha256(data).hexdigest())
    if len(data) > limits.max_bytes:
        doc.problems.append(
            _problem(
                "SK105",
                file,
                f"file is {len(data)} bytes, larger than the limit of {limits.max_bytes} bytes",
                "split the session or raise the limit in server config",
                found=len(data),
                expected=limits.max_bytes,
            )
        )
        return doc
    text, problem = _decode(data, file)
    if problem is not None or text is None:
        doc.problems.append(problem or _problem("SK103", file, "file cannot be decoded", "save the file as UTF-8"))
        return doc
    source = SourceText(text)
    doctype = _find_doctype(text)
    if doctype is not None:
        line, column = source.offset_to_line_col(doctype)
        doc.problems.append(
            _problem(
                "SK104",
                file,
                f"a DOCTYPE declaration is present at line {line}; DTDs and entity declarations are not allowed",
                "delete the DOCTYPE; sessions need none (prevents external-entity and entity-expansion attacks)",
                line,
                column,
                found="<!DOCTYPE",
            )
        )
        return doc
    if codecs.lookup(_detect_encoding(data)[0]).name not in ("utf-8", "ascii"):
        # libxml2 knows fewer encoding aliases than Python (e.g. 'latin-1'); hand it UTF-8 instead.
        data = _DECL_ENCODING.sub(r"\1", text, count=1).encode("utf-8")
    try:
        root = etree.fromstring(data, secure_parser())
    except etree.XMLSyntaxError as exc:
        doc.problems.append(_syntax_problem(exc, file, limits))
        return doc
    except (ValueError, LookupError) as exc:
        doc.problems.append(_problem("SK103", file, f"input cannot be decoded: {exc}", "save the file as UTF-8", 1, 1))
        return doc
    limit_problem = _check_limits(root, text, file, limits)
    if limit_problem is not None:
        doc.problems.append(limit_problem)
        return doc
    tag = root.tag
    if not isinstance(tag, str) or tag != "Session":
        name = tag if isinstance(tag, str) else repr(tag)
        namespace = etree.QName(root).namespace if isinstance(tag, str) else None
        found = f"'{etree.QName(root).localname}' in namespace '{namespace}'" if namespace else f"'{name}'"
        root_line, root_column = source.element_position(
            etree.QName(root).localname if isinstance(tag, str) else "", sourceline(root)
        )
        doc.problems.append(
            _problem(
                "SK106",
                file,
                f"root element is {found}, expected 'Session' without a namespace",
                "make <Session> the root, without xmlns",
                root_line,
                root_column,
                found=name,
                expected="Session",
            )
        )
        return doc
    doc.root = root
    doc.source = source
    return doc


def parse_session_file(path: str | os.PathLike[str], limits: SafetyLimits = DEFAULT_LIMITS) -> ParsedDocument:
    """Read and parse a session file; SK101 when it cannot be read, SK105 when it is too large.

    Parameters
    ----------
    path : str or os.PathLike
        The session file.
    limits : SafetyLimits
        SK105 limits.

    Returns
    -------
    ParsedDocument
    """
    file = os.fspath(path)
    hint = "check the path and permissions"
    try:
        info = Path(file).stat()
    except OSError as exc:
        return ParsedDocument(
            file=file, problems=[_problem("SK101", file, f"cannot open '{file}': {exc.strerror or exc}", hint)]
        )
    if not stat.S_ISREG(info.st_mode):
        return ParsedDocument(file=file, problems=[_problem("SK101", file, f"'{file}' is not a regular file", hint)])
    if info.st_size > limits.max_bytes:
        return ParsedDocument(
            file=file,
            problems=[
                _problem(
                    "SK105",
                    file,
                    f"file is {info.st_size} bytes, larger than the limit of {limits.max_bytes} bytes",
                    "split the session or raise the limit in server config",
                    found=info.st_size,
                    expected=limits.max_bytes,
                )
            ],
        )
    try:
        with open(file, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        return ParsedDocument(
            file=file, problems=[_problem("SK101", file, f"cannot read '{file}': {exc.strerror or exc}", hint)]
        )
    return parse_session_bytes(data, file, limits)


def root_element_name(path: str | os.PathLike[str]) -> str | None:
    """Local name of the root element of an XML file, read up to its start tag only.

    Used to pick session files among other ``.xml`` files (pre-commit hooks). The parser resolves
    no entity and loads no DTD. A file that breaks after its root start tag still has a name (the
    validator reports the break); ``None`` when the file cannot be read or has no start tag.
    """
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(64 * 1024):
                broken = False
                try:
                    parser.feed(chunk)
                except etree.XMLSyntaxError:
                    broken = True  # events before the error are still delivered
                for _, element in parser.read_events():
                    if isinstance(element, etree._Element):  # "start" events carry elements
                        return etree.QName(element).localname
                if broken:
                    return None
    except OSError:
        return None
    return None
