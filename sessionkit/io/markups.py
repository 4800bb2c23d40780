"""Measurement lines as 3D Slicer markups files (``.mrk.json``, markups schema v1.0.3; reading-flow §11).

A line file holds one ``Line`` markup with two control points in LPS millimetres
(``coordinateSystem: "LPS"``, ``coordinateUnits: "mm"``) and its ``length`` measurement, the layout
Slicer's ``vtkMRMLMarkupsJsonStorageNode`` writes and reads (Image Quizzer saves its lines through it).
The bytes are deterministic: the same points and name always give the same SHA-256.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sessionkit.errors import ImageReadError

#: ``@schema`` of the files written (Slicer's markups JSON schema v1.0.3).
MARKUPS_SCHEMA = (
    "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/"
    "markups-schema-v1.0.3.json#"
)
#: Slicer's control-point orientation for LPS files (identity in RAS, written as LPS).
_ORIENTATION = [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0]


def line_length_mm(points: npt.ArrayLike) -> float:
    """Euclidean distance between the two points of a ``(2, 3)`` array (mm in, mm out)."""
    array = np.asarray(points, dtype=np.float64)
    return float(np.linalg.norm(array[1] - array[0]))


def encode_line_markup(points: npt.ArrayLike, name: str) -> bytes:
    """The ``.mrk.json`` bytes of one measurement line.

    Parameters
    ----------
    points : array-like, shape (2, 3)
        Start and end, LPS mm.
    name : str
        The markup's name (Slicer shows it; control points are labelled ``<name>-1``, ``<name>-2``).

    Returns
    -------
    bytes
        UTF-8 JSON, 4-space indented, ending in a newline.

    Raises
    ------
    ValueError
        When ``points`` is not two finite 3-vectors.
    """
    array = np.asarray(points, dtype=np.float64)
    if array.shape != (2, 3) or not np.all(np.isfinite(array)):
        raise ValueError(f"a line needs two finite LPS points, got shape {array.shape}")
    controls = [
        {
            "id": str(k + 1),
            "label": f"{name}-{k + 1}",
            "description": "",
            "associatedNodeID": "",
            "position": [float(v) for v in array[k]],
            "orientation": _ORIENTATION,
            "selected": True,
            "locked": False,
            "visibility": True,
            "positionStatus": "defined",
        }
        for k in range(2)
    ]
    document = {
        "@schema": MARKUPS_SCHEMA,
        "markups": [
            {
                "type": "Line",
                "name": name,
                "coordinateSystem": "LPS",
                "coordinateUnits": "mm",
                "locked": False,
                "fixedNumberOfControlPoints": False,
                "labelFormat": "%N-%d",
                "lastUsedControlPointNumber": 2,
                "controlPoints": controls,
                "measurements": [
                    {
                        "name": "length",
                        "enabled": True,
                        "value": line_length_mm(array),
                        "units": "mm",
                        "printFormat": "%-#4.4g%s",
                    }
                ],
            }
        ],
    }
    return (json.dumps(document, indent=4) + "\n").encode("utf-8")


def read_line_markup(source: Path | bytes) -> npt.NDArray[np.float64]:
    """The two control points of the first ``Line`` markup of a ``.mrk.json``, in LPS mm.

    Parameters
    ----------
    source : Path or bytes
        The file, or its bytes. ``coordinateSystem`` ``RAS`` is converted (x and y negated); absent
        means LPS (the schema's default).

    Returns
    -------
    ndarray of float64, shape (2, 3)

    Raises
    ------
    ImageReadError
        When the file cannot be read, is not JSON, has no ``Line`` markup with two finite control
        points, or uses units other than mm.
    """
    where = str(source) if isinstance(source, Path) else "line markup"
    try:
        data = source.read_bytes() if isinstance(source, Path) else source
        document = json.loads(data)
    except (OSError, ValueError) as exc:
        raise ImageReadError(f"{where}: not a readable markups JSON file ({exc})") from exc
    markups = document.get("markups") if isinstance(document, dict) else None
    line = next((m for m in markups or [] if isinstance(m, dict) and m.get("type") == "Line"), None)
    if line is None:
        raise ImageReadError(f"{where}: no Line markup")
    if line.get("coordinateUnits", "mm") not in ("mm", ["mm", "UCUM", "millimeter"]):
        raise ImageReadError(f"{where}: coordinateUnits {line.get('coordinateUnits')!r}, expected mm")
    points = [_position(p) for p in line.get("controlPoints") or []]
    if len(points) != 2 or any(p is None for p in points):
        raise ImageReadError(f"{where}: a Line markup needs two control points with finite positions")
    array = np.array(points, dtype=np.float64)
    if line.get("coordinateSystem", "LPS") == "RAS":
        array[:, :2] *= -1.0
    return array


def _position(point: Any) -> list[float] | None:
    position = point.get("position") if isinstance(point, dict) else None
    if not isinstance(position, list) or len(position) != 3:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in position):
        return None
    return [float(v) for v in position]
