"""Exception tree and the :class:`Problem` record.

This is the only module that defines exceptions (ARCHITECTURE §4). Validation never raises for
problems in a session file: it returns ``list[Problem]``. Exceptions are for callers that cannot
go on (an unreadable image, an illegal runner transition, a broken response log).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


class SessionKitError(Exception):
    """Base class of every error sessionkit raises on purpose."""


class SessionError(SessionKitError):
    """A session file cannot be loaded; ``problems`` holds the structured reasons."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = problems or []


class ImageReadError(SessionKitError):
    """An image file is missing, unreadable, or not of the expected kind."""


class GeometryError(SessionKitError):
    """Image grids are inconsistent (direction not orthonormal, grids that do not match)."""


class SegmentationError(SessionKitError):
    """A segmentation is malformed (bad segment table, label values that do not fit)."""


class ResponseLogError(SessionKitError):
    """The response log or run state on disk cannot be read or written."""


class RunnerStateError(SessionKitError):
    """An illegal transition of the reading state machine."""

    def __init__(self, message: str, code: str = "SK910", hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


class ServerConfigError(SessionKitError):
    """The server cannot start with the given options."""


class RequestError(SessionKitError):
    """An HTTP request the server refuses (malformed body, unknown resource, missing access token).

    ``status`` is the HTTP status; ``code`` is ``HTTP<status>`` in the JSON error body (clarifications C1).
    """

    def __init__(self, message: str, status: int = 400, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = f"HTTP{status}"
        self.hint = hint


@dataclass(frozen=True)
class Problem:
    """One validation or runtime finding (validation-rules.md §4).

    Attributes
    ----------
    code : str
        Stable rule code, e.g. ``"SK508"``.
    severity : {"error", "warning"}
    message : str
        One sentence naming the element, what was found and what was expected.
    hint : str
        The fix, one short sentence.
    file : str or None
        File the problem is in (session file, colour file, image file).
    line, column : int or None
        1-based position; ``None`` when unknown.
    xpath : str or None
        Positional XPath such as ``/Session/Page[3]/Image[2]/Layer``.
    scope : str or None
        Rule scope from the rule table (file, any, session, page, image, question,
        randomization, files-on-disk, runtime).
    """

    code: str
    severity: Severity
    message: str
    hint: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    xpath: str | None = None
    scope: str | None = None
    page_index: int | None = None
    page_id: str | None = None
    element: str | None = None
    attribute: str | None = None
    found: Any = None
    expected: Any = None
    origin: str | None = None
    related: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_error(self) -> bool:
        """True for severity ``error``."""
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order of reports: file, line, column, code (validation-rules §4)."""
        return (self.file or "", self.line or 0, self.column or 0, self.code)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record with every field of validation-rules §4 (absent ones ``None``)."""
        record = asdict(self)
        record["related"] = list(self.related)
        return record

    def format_text(self) -> str:
        """``file:line:col: CODE severity: message (hint)``; unknown positions print ``0:0``."""
        return (
            f"{self.file or '<unknown>'}:{self.line or 0}:{self.column or 0}: "
            f"{self.code} {self.severity}: {self.message} ({self.hint})"
        )


class AnalysisInputError(SessionKitError):
    """Input to a statistic has problems it reports (incomplete design, bad values): CLI exit 1.

    ``problems`` holds one line per problem (file, row, what was found, the fix); ``missing`` the
    (reader, modality, case) cells an incomplete MRMC design lacks.
    """

    def __init__(
        self, message: str, problems: list[str] | None = None, missing: list[tuple[str, str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.problems: list[str] = problems or [message]
        self.missing: list[tuple[str, str, str]] = missing or []


class RatingsReadError(SessionKitError):
    """A ratings, design or run file for analysis cannot be read at all (missing, not UTF-8, no header): exit 2."""
