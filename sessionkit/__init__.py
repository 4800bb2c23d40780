"""sessionkit: medical-imaging reading sessions that run Image Quizzer session files in the browser."""

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

__version__ = "0.1.0"

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
]
