"""JSON output of the analysis commands: strict JSON (NaN and infinities become ``null``)."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (nested in dicts, lists, tuples) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """Strict, indented JSON of ``value`` (analysis.md §2: ``--format json`` prints to stdout)."""
    return json.dumps(finite_or_none(value), indent=1, allow_nan=False)
