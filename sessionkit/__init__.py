"""sessionkit: medical-imaging reading sessions that run Image Quizzer session files in the browser.

The verbs a script calls are here, loaded on first use (PEP 562) so that ``import sessionkit`` stays
light and imports no image library (pynrrd, nibabel, pydicom, highdicom) until an image is read:

* :func:`validate_session` -- every problem of a session file (:mod:`sessionkit.session`);
* :func:`load_session` -- the session model, raising :class:`SessionError` on errors;
* :func:`read_image` -- any supported image file as a Volume or Segmentation (:mod:`sessionkit.io`);
* :func:`build_session` -- a session file from a case list and a page template
  (:mod:`sessionkit.session.authoring`, ``sessionkit build``).

The error classes, :class:`Problem` and :class:`ImageGrid` are imported eagerly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sessionkit.errors import (
    GeometryError,
    ImageReadError,
    Problem,
    ResponseLogError,
    RunnerStateError,
    SegmentationError,
    ServerConfigError,
    SessionError,
    SessionKitError,
)
from sessionkit.geometry import ImageGrid
from sessionkit.version import __version__

if TYPE_CHECKING:
    from sessionkit.io import read_image
    from sessionkit.session import load_session, validate_session
    from sessionkit.session.authoring import build_session

#: Public functions loaded on first access: name -> module defining it.
_LAZY = {
    "validate_session": "sessionkit.session",
    "load_session": "sessionkit.session",
    "read_image": "sessionkit.io",
    "build_session": "sessionkit.session.authoring",
}

__all__ = [
    "GeometryError",
    "ImageGrid",
    "ImageReadError",
    "Problem",
    "ResponseLogError",
    "RunnerStateError",
    "SegmentationError",
    "ServerConfigError",
    "SessionError",
    "SessionKitError",
    "__version__",
    "build_session",
    "load_session",
    "read_image",
    "validate_session",
]


def __getattr__(name: str) -> Any:
    """Import a public function's module on first access (PEP 562) and cache the function here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
