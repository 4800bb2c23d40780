"""Interaction log ``UserInteractionLog.csv`` (reading-flow §14.4, pages with ``UserInteractionLog="Y"``).

One file per page-instance folder, appended (header once, flush + ``fsync`` per call, via
:func:`~sessionkit.responses.csvlog.append_rows`). Image Quizzer's column layout: for every view change,
one row per visible viewport and corner (``TopLeft``, ``TopRight``, ``BottomLeft``, ``BottomRight``)
with the corner's screen position, the voxel indices of the background and foreground images under
it, and the 4 x 4 screen-to-voxel matrices. Transition rows hold only the uptime, the time and the
transition text after a run of ``>`` characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sessionkit.geometry import ImageGrid
from sessionkit.responses.csvlog import append_rows

#: File name inside the page-instance folder.
INTERACTION_LOG = "UserInteractionLog.csv"

_MATRIX = tuple(f"({r}-{c})" for r in range(4) for c in range(4))
#: IQ's columns, in order.
INTERACTION_COLUMNS: tuple[str, ...] = (
    "CPU Uptime",
    "Time",
    "Layout",
    "ViewName",
    "Location",
    "X",
    "Y",
    "Height",
    "Width",
    "Image_bg",
    "I_bg",
    "J_bg",
    "K_bg",
    "Image_fg",
    "I_fg",
    "J_fg",
    "K_fg",
    *(f"m_bg{m}" for m in _MATRIX),
    *(f"m_fg{m}" for m in _MATRIX),
)

#: IQ's layout names for the session's ``Layout`` values.
LAYOUT_NAMES = {
    "FourUp": "FourUpView",
    "TwoOverTwo": "TwoOverTwoView",
    "OneUpRedSlice": "OneUpRedSlice",
    "SideBySideRedYellow": "SideBySideView",
}

#: RAS <-> LPS (the browser reports RAS mm, as Niivue and Slicer do).
_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: (slice, row, column) -> IQ's (I, J, K) = (column, row, slice).
_TO_IJK = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)


@dataclass(frozen=True)
class ViewSample:
    """One viewport at one view change, as the browser measured it.

    Attributes
    ----------
    view_name : str
        Destination (``Red``, ``Yellow``, ``Green``, ``Slice4``).
    width, height : float
        Viewport size in CSS pixels.
    screen_to_ras : ndarray, shape (4, 4)
        Maps ``(x, y, 0, 1)`` (CSS pixels from the viewport's top-left corner) to RAS mm.
    background, foreground : tuple of (node name, ImageGrid) or None
        Images on the viewport's Background and Foreground layers.
    """

    view_name: str
    width: float
    height: float
    screen_to_ras: npt.NDArray[np.float64]
    background: tuple[str, ImageGrid] | None
    foreground: tuple[str, ImageGrid] | None


def iq_time(moment: datetime) -> str:
    """IQ's ``%Y/%m/%d %H:%M:%S.%f`` time text."""
    return moment.strftime("%Y/%m/%d %H:%M:%S.%f")


def screen_to_voxel(grid: ImageGrid, screen_to_ras: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """4 x 4 matrix from viewport pixels ``(x, y, 0, 1)`` to voxel indices ``(I, J, K, 1)`` (column, row, slice)."""
    index_from_lps = np.linalg.inv(np.asarray(grid.affine, dtype=float))
    return np.asarray(_TO_IJK @ index_from_lps @ _RAS_TO_LPS @ screen_to_ras, dtype=np.float64)


def _image_columns(
    image: tuple[str, ImageGrid] | None, screen_to_ras: npt.NDArray[np.float64], x: float, y: float, suffix: str
) -> dict[str, object]:
    if image is None:
        return {}
    name, grid = image
    matrix = screen_to_voxel(grid, screen_to_ras)
    i, j, k, _ = matrix @ np.array([x, y, 0.0, 1.0])
    columns: dict[str, object] = {f"Image_{suffix}": name, f"I_{suffix}": round(i), f"J_{suffix}": round(j)}
    columns[f"K_{suffix}"] = round(k)
    for (r, c), value in np.ndenumerate(matrix):
        columns[f"m_{suffix}({r}-{c})"] = f"{value:.6g}"
    return columns


def view_rows(uptime_ms: int, moment: datetime, layout: str, samples: Sequence[ViewSample]) -> list[dict[str, object]]:
    """Rows of one view change: every viewport x its four corners (reading-flow §14.4)."""
    rows: list[dict[str, object]] = []
    for sample in samples:
        corners = {
            "TopLeft": (0.0, 0.0),
            "TopRight": (sample.width, 0.0),
            "BottomLeft": (0.0, sample.height),
            "BottomRight": (sample.width, sample.height),
        }
        for location, (x, y) in corners.items():
            row: dict[str, object] = {
                "CPU Uptime": uptime_ms,
                "Time": iq_time(moment),
                "Layout": LAYOUT_NAMES.get(layout, layout),
                "ViewName": sample.view_name,
                "Location": location,
                "X": round(x),
                "Y": round(y),
                "Height": round(sample.height),
                "Width": round(sample.width),
            }
            row.update(_image_columns(sample.background, sample.screen_to_ras, x, y, "bg"))
            row.update(_image_columns(sample.foreground, sample.screen_to_ras, x, y, "fg"))
            rows.append(row)
    return rows


def transition_row(uptime_ms: int, moment: datetime, transition_text: str) -> dict[str, object]:
    """A transition row: uptime, time and ``>>>>>>>>>> <text>`` in the third column."""
    return {"CPU Uptime": uptime_ms, "Time": iq_time(moment), "Layout": ">" * 10 + " " + transition_text}


def append_interaction_rows(folder: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """Append ``rows`` to ``folder/UserInteractionLog.csv`` (header first when new), flush and ``fsync``.

    Raises
    ------
    ResponseLogError
        When the file cannot be written.
    """
    path = folder / INTERACTION_LOG
    if rows:
        append_rows(path, INTERACTION_COLUMNS, rows)
    return path
