"""``sessionkit build``: a session file from a case list and a page template.

The template is one ``<Page>`` (with its Images and QuestionSets) or a whole ``<Session>``. Pages
that name a column as ``{column}`` (in an attribute value or in text) form the per-case block,
from the first such page to the last: the block is written once per case, with every ``{column}``
replaced by that case's value (XML-escaped on output; ``{{`` and ``}}`` write literal braces).
Pages before the block are written once at the start, pages after it once at the end; a Session
template's attributes are kept. Special columns: ``case_id`` (required), ``page_id``,
``descriptor``, ``page_group`` (see :func:`render_session`), and ``modality``, ``truth``,
``reference_contour``, ``reference_segment`` copied to the design table (docs/analysis.md).
"""

from __future__ import annotations

import copy
import csv
import io
import os
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from sessionkit.errors import Problem, SessionError
from sessionkit.session import check_session
from sessionkit.session.files import ImageProbe
from sessionkit.session.fmt import format_session
from sessionkit.session.parse import secure_parser

#: ``{column}`` references; ``{{`` and ``}}`` are literal braces.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Case-list columns copied to the design table after ``page_id`` and ``case_id`` (docs/analysis.md).
DESIGN_COLUMNS = ("modality", "truth", "reference_contour", "reference_segment")


@dataclass(frozen=True)
class Case:
    """One row of the case list: its values and where it came from (for error messages)."""

    values: Mapping[str, str | None]
    where: str

    @property
    def case_id(self) -> str:
        """The ``case_id`` value."""
        return self.values.get("case_id") or ""


@dataclass
class Rendered:
    """Outcome of :func:`render_session`: the canonical session text and its design table rows."""

    text: str
    design: list[dict[str, str]]
    pages: int


@dataclass
class BuildResult:
    """Outcome of :func:`build_session`.

    Attributes
    ----------
    output : Path
        The session file written.
    pages : int
        Number of pages written.
    design : list of dict
        Design table rows (``page_id``, ``case_id``, and the :data:`DESIGN_COLUMNS` the case list has).
    problems : list of Problem
        What ``validate`` reports on the written file (files included).
    """

    output: Path
    pages: int
    design: list[dict[str, str]]
    problems: list[Problem] = field(default_factory=list)


def read_case_list(path: str | os.PathLike[str]) -> list[Case]:
    """Read a case list: a UTF-8 CSV file with a header row, one row per case.

    Raises
    ------
    SessionError
        When the file cannot be read, has no header, repeats a column, or a row has more values
        than the header.
    """
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read the case list {file}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise SessionError(f"case list {file} is empty; expected a header row such as case_id,ct,seg")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise SessionError(f"case list {file}: column(s) {', '.join(repeated)} appear twice in the header")
    reader.fieldnames = header
    cases = []
    for row in reader:
        where = f"{file} line {reader.line_num}"
        if None in row:
            raise SessionError(f"{where} has more values than the header has columns; quote values holding commas")
        cases.append(Case(row, where))
    return cases


def _cases(cases: str | os.PathLike[str] | Iterable[Mapping[str, str] | Case]) -> list[Case]:
    if isinstance(cases, str | os.PathLike):
        return read_case_list(cases)
    return [item if isinstance(item, Case) else Case(item, f"case {n}") for n, item in enumerate(cases, start=1)]


def _load_template(template: str | os.PathLike[str]) -> tuple[etree._Element, str]:
    file = os.fspath(template)
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise SessionError(f"cannot read the template {file}: {exc.strerror or exc}") from exc
    if b"<!DOCTYPE" in data or b"<!doctype" in data:
        raise SessionError(f"template {file} has a DOCTYPE; delete it (sessions need none)")
    try:
        root = etree.fromstring(data, secure_parser())
    except etree.XMLSyntaxError as exc:
        raise SessionError(f"template {file} is not well-formed XML: {exc}") from exc
    if root.tag not in ("Session", "Page"):
        raise SessionError(f"template {file}: root element is <{root.tag}>, expected <Page> or <Session>")
    return root, file


def _names(element: etree._Element) -> bool:
    """True when the element or anything in it names a column."""
    for node in element.iter():
        texts = [node.text, *node.attrib.values()] if isinstance(node.tag, str) else []
        if node is not element:
            texts.append(node.tail)
        if any(text and any(m.group(1) for m in PLACEHOLDER.finditer(text)) for text in texts):
            return True
    return False


class _Filler:
    """Replaces ``{column}`` in a copy of the template for one case."""

    def __init__(self, case: Case, template_file: str) -> None:
        self.case = case
        self.template_file = template_file

    def value(self, match: re.Match[str], node: etree._Element) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        value = self.case.values.get(name)
        if value is None:
            columns = ", ".join(k for k, v in self.case.values.items() if v is not None)
            raise SessionError(
                f"{self.template_file} line {node.sourceline}: the template names column {{{name}}} but "
                f"{self.case.where} (case '{self.case.case_id}') has no such column; columns: {columns}"
            )
        return value

    def text(self, text: str | None, node: etree._Element) -> str | None:
        return None if text is None else PLACEHOLDER.sub(lambda m: self.value(m, node), text)

    def fill(self, page: etree._Element) -> etree._Element:
        filled = copy.deepcopy(page)
        for node in filled.iter():
            if isinstance(node.tag, str):
                node.text = self.text(node.text, node)
                for name, value in node.attrib.items():
                    node.set(name, self.text(str(value), node) or "")
            if node is not filled:
                node.tail = self.text(node.tail, node)
        return filled


def _relative_path(text: str, images_root: Path, case: Case) -> str:
    """A Path value as written in the session: relative to the images root, ``/``-separated."""
    value = text.strip()
    if not value or not Path(value).is_absolute():
        return text
    try:
        return PurePosixPath(Path(value).resolve().relative_to(images_root.resolve())).as_posix()
    except ValueError:
        raise SessionError(
            f"{case.where} (case '{case.case_id}'): image {value} is outside the images root {images_root}; "
            "give --images-root a folder that holds every image"
        ) from None


def render_session(
    cases: str | os.PathLike[str] | Iterable[Mapping[str, str] | Case],
    template: str | os.PathLike[str],
    *,
    images_root: str | os.PathLike[str] = ".",
    randomize: bool = False,
    shuffle_seed: int | None = None,
) -> Rendered:
    """The session text for ``cases`` and ``template``, formatted like ``sessionkit fmt`` writes it.

    Parameters
    ----------
    cases : path of a CSV case list, or iterable of mappings
        One row per case (or per case and reading condition); ``case_id`` is required, and the
        page IDs written must all differ.
    template : str or os.PathLike
        A ``<Page>`` or ``<Session>`` template file (see the module docstring).
    images_root : str or os.PathLike
        Absolute image paths in ``Path`` elements are written relative to it (they must lie inside
        it); relative values are written as they are (relative to it).
    randomize : bool
        ``RandomizePageGroups="Y"``: each case's pages form one PageGroup (``page_group`` column,
        else the case's position 1, 2, …), pages before the block get group 0 (shown first, never
        shuffled) and pages after it the groups after the last case.
    shuffle_seed : int, optional
        Write the cases in an order shuffled with this seed (the same order every time).

    Page@ID: the ``page_id`` column when the case list has one, else the template's ID when it names
    a column, else the case_id; a block of several pages appends ``-<n>`` (``page_id``) or
    ``-<template ID>``. ``descriptor`` and ``page_group`` columns set Page@Descriptor and
    Page@PageGroup when not empty.

    Returns
    -------
    Rendered

    Raises
    ------
    SessionError
        When the template or case list is unusable, a column the template names is missing from a
        row (the message names the column and the row), a case_id is missing, two rows give the
        same page ID, or an absolute image path lies outside ``images_root``.
    """
    rows = _cases(cases)
    root, template_file = _load_template(template)
    if not rows:
        raise SessionError("the case list has no case")
    for case in rows:
        if not case.case_id:
            raise SessionError(f"{case.where}: no case_id; every case needs one (a column named case_id)")
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(rows)
    pages = [root] if root.tag == "Page" else [child for child in root if child.tag == "Page"]
    marked = [n for n, page in enumerate(pages) if _names(page)]
    if not marked:
        raise SessionError(f"template {template_file} names no column; write e.g. <Path>{{ct}}</Path>")
    before, block, after = pages[: marked[0]], pages[marked[0] : marked[-1] + 1], pages[marked[-1] + 1 :]
    session = etree.Element("Session")
    if root.tag == "Session":
        for name, value in root.attrib.items():
            session.set(name, value)
    if randomize:
        session.set("RandomizePageGroups", "Y")
    for page in before:
        session.append(copy.deepcopy(page))
        if randomize and page.get("PageGroup") is None:
            session[-1].set("PageGroup", "0")
    design: list[dict[str, str]] = []
    written: dict[str, Case] = {}
    root_folder = Path(images_root)
    for number, case in enumerate(rows, start=1):
        filler = _Filler(case, template_file)
        for index, page in enumerate(block, start=1):
            filled = filler.fill(page)
            page_id = _page_id(case, page, filled, index, len(block))
            if page_id in written:
                raise SessionError(
                    f"{case.where} (case '{case.case_id}'): page ID '{page_id}' was already written for "
                    f"{written[page_id].where}; the design table needs one ID per page: add a page_id column or "
                    'name the distinguishing column in the template\'s ID, e.g. ID="{case_id}-{modality}"'
                )
            written[page_id] = case
            filled.set("ID", page_id)
            for column, attribute in (("descriptor", "Descriptor"), ("page_group", "PageGroup")):
                if case.values.get(column):
                    filled.set(attribute, str(case.values[column]))
            if randomize and not case.values.get("page_group"):
                filled.set("PageGroup", str(number))
            for path in filled.iterfind("Image/Path"):
                path.text = _relative_path(path.text or "", root_folder, case)
            session.append(filled)
            row = {"page_id": filled.get("ID", ""), "case_id": case.case_id}
            row.update({c: case.values.get(c) or "" for c in DESIGN_COLUMNS if c in case.values})
            design.append(row)
    for offset, page in enumerate(after, start=1):
        session.append(copy.deepcopy(page))
        if randomize and page.get("PageGroup") is None:
            session[-1].set("PageGroup", str(len(rows) + offset))
    formatted = format_session(etree.tostring(session, encoding="UTF-8"), template_file)
    return Rendered(text=formatted.text, design=design, pages=len(session.findall("Page")))


def _page_id(case: Case, page: etree._Element, filled: etree._Element, index: int, block: int) -> str:
    page_id = case.values.get("page_id")
    if page_id:
        return page_id if block == 1 else f"{page_id}-{index}"
    written = page.get("ID", "")
    if PLACEHOLDER.search(written):
        return filled.get("ID", "")
    return case.case_id if block == 1 else f"{case.case_id}-{written or index}"


def write_design(rows: list[dict[str, str]], path: str | os.PathLike[str]) -> None:
    """Write design table rows as ``design.csv`` (UTF-8, header row; docs/analysis.md)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def build_session(
    cases: str | os.PathLike[str] | Iterable[Mapping[str, str] | Case],
    template: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    images_root: str | os.PathLike[str] | None = None,
    randomize: bool = False,
    shuffle_seed: int | None = None,
    design_out: str | os.PathLike[str] | None = None,
    probe: ImageProbe | None = None,
) -> BuildResult:
    """Write a session file built from a case list and a template, then validate it.

    Parameters
    ----------
    cases : path of a CSV case list, or iterable of mappings
        One case per row (columns as in :func:`render_session`).
    template : str or os.PathLike
        A ``<Page>`` or ``<Session>`` template file.
    output : str or os.PathLike
        The session file to write (UTF-8, formatted like ``sessionkit fmt``).
    images_root : str or os.PathLike, optional
        Folder image paths are written relative to and checked in; default the output's folder
        (then ``serve`` needs no ``--images-root``).
    randomize, shuffle_seed
        As for :func:`render_session`.
    design_out : str or os.PathLike, optional
        Also write the design table (``page_id``, ``case_id``, ``modality``, ``truth``…) there.
    probe : ImageProbe, optional
        Image header reader for the files pass content checks (as for ``validate_session``).

    Returns
    -------
    BuildResult
        ``problems`` is what ``validate`` reports on the written file (files included).

    Raises
    ------
    SessionError
        As :func:`render_session`; nothing is written then.
    OSError
        When the output or design file cannot be written.
    """
    target = Path(output)
    root = Path(images_root) if images_root is not None else target.resolve().parent
    rendered = render_session(cases, template, images_root=root, randomize=randomize, shuffle_seed=shuffle_seed)
    target.write_text(rendered.text, encoding="utf-8", newline="\n")
    if design_out is not None:
        write_design(rendered.design, design_out)
    result = check_session(target, images_root=root, probe=probe)
    return BuildResult(output=target, pages=rendered.pages, design=rendered.design, problems=result.problems)
