"""Session files: secure parsing, schema check, model, semantic rules and the files pass.

Public API (validation-rules.md, session-format.md):

* :func:`validate_session` -- every problem of one session file, sorted (file, line, column, code),
  in the ``sessionkit`` dialect or, with ``dialect="iq"``, as Image Quizzer 3.4.3 would refuse it;
* :func:`load_session` -- the :class:`~sessionkit.session.model.Session` model, raising
  :class:`~sessionkit.errors.SessionError` when the file has errors;
* :func:`check_session` -- both at once (model, problems, SHA-256), used by the CLI;
* :func:`read_color_table`, :data:`DEFAULT_COLOR_TABLE` -- ROIColorFile tables (session-format §8);
* :func:`schema_path` -- the bundled ``session.xsd``;
* :data:`BUTTON_ACTIONS` -- the Button actions the server implements (D9, C6).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sessionkit.errors import Problem, SessionError
from sessionkit.session.build import build_session
from sessionkit.session.codes import DIALECTS, IQ_ERRORS, Dialect
from sessionkit.session.colors import DEFAULT_COLOR_TABLE, ColorEntry, ColorTable, read_color_table
from sessionkit.session.files import ImageFacts, ImageProbe, check_files
from sessionkit.session.findings import Findings, ProblemCap
from sessionkit.session.model import BUTTON_ACTIONS, Session
from sessionkit.session.parse import DEFAULT_LIMITS, SafetyLimits, parse_session_file
from sessionkit.session.rules import check_rules
from sessionkit.session.schema import iq_extension_problems, schema_path, validate_schema

__all__ = [
    "BUTTON_ACTIONS",
    "DEFAULT_COLOR_TABLE",
    "DIALECTS",
    "ColorEntry",
    "ColorTable",
    "Dialect",
    "ImageFacts",
    "ImageProbe",
    "SafetyLimits",
    "ValidationResult",
    "check_session",
    "load_session",
    "read_color_table",
    "schema_path",
    "validate_session",
]


@dataclass
class ValidationResult:
    """Outcome of :func:`check_session` for one file.

    Attributes
    ----------
    file : str
        The path as given.
    sha256 : str
        Hex SHA-256 of the file bytes ("" when unreadable).
    session : Session or None
        The model whenever the file parsed (even with schema or rule errors).
    problems : list of Problem
        Sorted by file, line, column, code; at most
        :data:`~sessionkit.session.findings.PROBLEMS_PER_CODE` per code.
    omitted : dict of str to int
        Problems found but not listed, per code (the listing of a code stops at the cap).
    """

    file: str
    sha256: str = ""
    session: Session | None = None
    problems: list[Problem] = field(default_factory=list)
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity ``error``."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """Problems of severity ``warning``."""
        return [p for p in self.problems if not p.is_error]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a model is built (it creates only acyclic objects).

    Building tens of thousands of nodes otherwise triggers repeated collections that traverse the
    growing model (about a quarter of the pass on a 2,000-page session). The collector is
    re-enabled only if it was enabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_session(
    path: str | os.PathLike[str],
    *,
    images_root: str | os.PathLike[str] | None = None,
    check_files_on_disk: bool = True,
    probe: ImageProbe | None = None,
    disabled: Iterable[str] = (),
    limits: SafetyLimits = DEFAULT_LIMITS,
    dialect: Dialect = "sessionkit",
) -> ValidationResult:
    """Run every validation stage on one session file (validation-rules §1).

    Parameters
    ----------
    path : str or os.PathLike
        The session XML file.
    images_root : str or os.PathLike, optional
        Root of image ``Path`` values; default the session file's folder (clarifications C2).
    check_files_on_disk : bool
        Run stage 4 (colour file, Pictures, image files). ``False`` = ``--no-files``.
    probe : ImageProbe, optional
        Image header reader for SK804/SK805/SK808–SK810 (supplied by a higher layer).
    disabled : iterable of str
        Warning codes to suppress.
    limits : SafetyLimits
        SK105 input limits.
    dialect : {"sessionkit", "iq"}
        ``"iq"``: the codes of :data:`~sessionkit.session.codes.IQ_ERRORS` are errors (and cannot be
        disabled) and sessionkit extensions are reported as SK211, so the file fails where Image
        Quizzer 3.4.3 refuses to run. Every other code keeps its severity.

    Returns
    -------
    ValidationResult
        Never raises for problems in the file.

    Raises
    ------
    ValueError
        When ``dialect`` is not one of :data:`~sessionkit.session.codes.DIALECTS`.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    iq = dialect == "iq"
    disabled = tuple(code for code in disabled if not (iq and code in IQ_ERRORS))
    with _collector_paused():
        doc = parse_session_file(path, limits)
        result = ValidationResult(file=doc.file, sha256=doc.sha256)
        if doc.root is None or doc.source is None:
            result.problems = sorted(doc.problems, key=Problem.sort_key)
            return result
        cap = ProblemCap()
        problems = validate_schema(doc.root, doc.source, doc.file, cap)
        if iq:
            problems += iq_extension_problems(doc.root, doc.source, doc.file, cap)
        session = build_session(doc.root, doc.source, doc.file, doc.sha256)
        problems += check_rules(session, doc.source, disabled, cap)
    if check_files_on_disk:
        source = doc.source
        problems += check_files(
            session, images_root, probe, disabled, lambda file: Findings(file, source, disabled, cap)
        )
    problems = [p for p in problems if p.is_error or p.code not in disabled]
    if iq:
        problems = [replace(p, severity="error") if p.code in IQ_ERRORS else p for p in problems]
    result.session = session
    result.problems = sorted(problems, key=Problem.sort_key)
    result.omitted = cap.omitted()
    return result


def validate_session(
    path: str | os.PathLike[str],
    *,
    images_root: str | os.PathLike[str] | None = None,
    check_files: bool = True,
    probe: ImageProbe | None = None,
    dialect: Dialect = "sessionkit",
) -> list[Problem]:
    """Validate one session file and return every problem found.

    Parameters
    ----------
    path : str or os.PathLike
        The session XML file.
    images_root : str or os.PathLike, optional
        Root of image ``Path`` values; default the session file's folder (clarifications C2).
    check_files : bool
        ``False`` runs stages 1-3 only (``--no-files``): no colour file, Picture or image is opened.
    probe : ImageProbe, optional
        Image header reader enabling the content checks of stage 4.
    dialect : {"sessionkit", "iq"}
        ``"iq"``: fail where Image Quizzer 3.4.3 refuses to run (see :func:`check_session`).

    Returns
    -------
    list of Problem
        Sorted by file, line, column, code (validation-rules §4); empty when the file is clean.

    Raises
    ------
    ValueError
        When ``dialect`` is unknown.
    """
    return check_session(
        path, images_root=images_root, check_files_on_disk=check_files, probe=probe, dialect=dialect
    ).problems


def load_session(
    path: str | os.PathLike[str],
    strict: bool = True,
    *,
    images_root: str | os.PathLike[str] | None = None,
    check_files: bool = False,
) -> Session:
    """Load a session file into the model.

    Parameters
    ----------
    path : str or os.PathLike
        The session XML file.
    strict : bool
        ``True``: raise when any **error** is found. ``False``: return the model whenever the file
        parsed (stage 1 passed), whatever stages 2-4 found.
    images_root : str or os.PathLike, optional
        As for :func:`validate_session` (used only with ``check_files=True``).
    check_files : bool
        Also run the files pass (default ``False``: structure and semantics only).

    Returns
    -------
    Session

    Raises
    ------
    SessionError
        When the file cannot be parsed, or (``strict``) has errors; ``problems`` lists them all.
    """
    result = check_session(path, images_root=images_root, check_files_on_disk=check_files)
    errors = result.errors
    if result.session is None or (strict and errors):
        first = errors[0].format_text() if errors else "no model"
        raise SessionError(f"session {os.fspath(path)} has {len(errors)} error(s); first: {first}", result.problems)
    return result.session
