"""ROIColorFile reading (session-format §8) and the built-in generic colour table.

A colour file is plain text, one ``id name r g b a`` entry per line; ``#`` starts a comment line;
blank lines are invalid. Problems SK812–SK817 point at ``colour-file:line``. Label value 0 is the
background/erase value and never appears in a table.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sessionkit.errors import Problem, SessionError
from sessionkit.imaging.palette import GENERIC_COLORS
from sessionkit.session.codes import RULES

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


@dataclass(frozen=True)
class ColorEntry:
    """One label of a colour table.

    Attributes
    ----------
    label_value : int
        Voxel value drawn for this label (>= 1).
    name : str
        Label name (one token); also the ROI name on LabelMap images (D6).
    rgba : tuple of 4 int
        Colour components 0-255 (clamped when read).
    line : int or None
        1-based line in the colour file (``None`` for built-in tables).
    """

    label_value: int
    name: str
    rgba: tuple[int, int, int, int]
    line: int | None = None


@dataclass(frozen=True)
class ColorTable:
    """Label values, names and colours offered for drawing, in file order.

    ``entries`` keeps the last entry of a repeated id (SK816) in the position of its first line;
    ``problems`` holds the warnings found while reading (errors make :func:`read_color_table` raise).
    """

    entries: tuple[ColorEntry, ...]
    source: str | None = None
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def default_label_value(self) -> int | None:
        """The label selected first: the first id in file order (session-format §8)."""
        return self.entries[0].label_value if self.entries else None

    def by_value(self) -> dict[int, ColorEntry]:
        """Entries keyed by label value."""
        return {entry.label_value: entry for entry in self.entries}

    def by_name(self) -> dict[str, ColorEntry]:
        """Entries keyed by name (the first entry wins for repeated names)."""
        table: dict[str, ColorEntry] = {}
        for entry in self.entries:
            table.setdefault(entry.name, entry)
        return table

    @property
    def max_label_value(self) -> int:
        """Largest label value (0 for an empty table)."""
        return max((entry.label_value for entry in self.entries), default=0)


#: Built-in table used when a session has no ROIColorFile (session-format §8; same role as Slicer's
#: ``GenericColors``): label values 1-16, value 0 being background.
DEFAULT_COLOR_TABLE = ColorTable(
    entries=tuple(ColorEntry(i + 1, name, (r, g, b, 255)) for i, (name, (r, g, b)) in enumerate(GENERIC_COLORS)),
    source=None,
)


def _problem(
    code: str, message: str, file: str, line: int | None, found: object = None, related: tuple[str, ...] = ()
) -> Problem:
    rule = RULES[code]
    return Problem(
        code=code,
        severity=rule.severity,
        message=message,
        hint=rule.hint,
        file=file,
        line=line,
        column=1 if line else None,
        scope=rule.scope,
        found=found,
        origin=rule.origin,
        related=related,
    )


def parse_color_table(text: str, file: str) -> tuple[ColorTable, list[Problem]]:
    """Parse colour-file text.

    Parameters
    ----------
    text : str
        File content.
    file : str
        Name used in problems and as ``ColorTable.source``.

    Returns
    -------
    (ColorTable, list of Problem)
        Valid entries and every SK813–SK817 problem.
    """
    problems: list[Problem] = []
    entries: dict[int, ColorEntry] = {}
    lines_of: dict[int, list[int]] = {}
    names: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("#"):
            continue
        tokens = raw.split()
        if len(tokens) != 6:
            problems.append(
                _problem(
                    "SK813",
                    f"{file}:{number}: colour entry has {len(tokens)} tokens, expected 6 (id name r g b a)",
                    file,
                    number,
                    found=len(tokens),
                )
            )
            continue
        numbers = [tokens[0], *tokens[2:]]
        bad = [t for t in numbers if not _INTEGER.fullmatch(t)]
        if bad:
            problems.append(
                _problem("SK814", f"{file}:{number}: '{bad[0]}' is not an integer", file, number, found=bad[0])
            )
            continue
        label_value, r, g, b, a = (int(t) for t in numbers)
        name = tokens[1]
        if label_value == 0:
            problems.append(_problem("SK815", f"{file}:{number}: id 0 is reserved for erase", file, number, found=0))
            continue
        if label_value < 0:
            problems.append(
                _problem(
                    "SK814",
                    f"{file}:{number}: id {label_value} is not a positive integer",
                    file,
                    number,
                    found=label_value,
                )
            )
            continue
        components = (r, g, b, a)
        if any(not 0 <= c <= 255 for c in components):
            problems.append(
                _problem(
                    "SK817",
                    f"{file}:{number}: colour {r} {g} {b} {a} has a component outside 0-255 (clamped)",
                    file,
                    number,
                    found=list(components),
                )
            )
        if name in names and names[name] != label_value:
            problems.append(
                _problem(
                    "SK817",
                    f"{file}:{number}: name '{name}' is already used by id {names[name]}",
                    file,
                    number,
                    found=name,
                )
            )
        names.setdefault(name, label_value)
        clamped = tuple(min(255, max(0, c)) for c in components)
        lines_of.setdefault(label_value, []).append(number)
        entries[label_value] = ColorEntry(label_value, name, (clamped[0], clamped[1], clamped[2], clamped[3]), number)
    for label_value, lines in lines_of.items():
        if len(lines) > 1:
            problems.append(
                _problem(
                    "SK816",
                    f"{file}: id {label_value} is repeated on lines {', '.join(map(str, lines))}; the last entry wins",
                    file,
                    lines[-1],
                    found=label_value,
                    related=tuple(f"{file}:{n}" for n in lines),
                )
            )
    ordered = sorted(entries.values(), key=lambda e: lines_of[e.label_value][0])
    warnings = tuple(p for p in problems if not p.is_error)
    return ColorTable(tuple(ordered), source=file, problems=warnings), problems


def check_color_table(path: str | os.PathLike[str]) -> tuple[ColorTable | None, list[Problem]]:
    """Read a colour file, returning the table (``None`` when missing) and its problems (SK812–SK817)."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return None, [_problem("SK812", f"colour file '{file}' cannot be read: {exc.strerror or exc}", file, None)]
    text = data.decode("utf-8", errors="replace")
    return parse_color_table(text, file)


def color_file_path(session_file: str | os.PathLike[str], roi_color_file: str | None) -> Path | None:
    """The file a ``Session@ROIColorFile`` value names: ``<session folder>/<stem>.txt``.

    A trailing ``.txt`` in the value is tolerated (warning SK301; session-format §4). Whether the stem
    is a plain name (SK302) is the rules' business; this only builds the path.

    Returns
    -------
    Path or None
        ``None`` when the session names no colour file.

    Examples
    --------
    >>> color_file_path("study/session.xml", "Organs.txt").as_posix()
    'study/Organs.txt'
    """
    if not roi_color_file:
        return None
    stem = roi_color_file[:-4] if roi_color_file.lower().endswith(".txt") else roi_color_file
    return Path(session_file).parent / f"{stem}.txt"


def read_color_table(path: str | os.PathLike[str]) -> ColorTable:
    """Read an ROIColorFile (session-format §8).

    Parameters
    ----------
    path : str or os.PathLike
        The ``<stem>.txt`` file.

    Returns
    -------
    ColorTable
        Entries in file order; warnings (SK816, SK817) in ``problems``.

    Raises
    ------
    SessionError
        When the file is missing (SK812) or has an invalid line (SK813–SK815); ``problems`` lists them.
    """
    table, problems = check_color_table(path)
    errors = [p for p in problems if p.is_error]
    if table is None or errors:
        raise SessionError(f"colour file {os.fspath(path)} is invalid: {errors[0].message}", problems)
    return table
