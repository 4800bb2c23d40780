"""Measurement lines in a run folder: which exist, and the lines CSV export (issue 17 item 5; §14.3).

A line file exists while the latest ``annotations.csv`` row naming it is ``line`` (not
``line_deleted``). ``sessionkit export RUN_DIR --format lines`` writes one row per existing line of every
run: ``reader_id, page_id, page_instance, image_id, line, x1, y1, z1, x2, y2, z2, length_mm`` (LPS mm,
read from the acknowledged ``.mrk.json``; ``line`` is the 1-based number of the file name).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from sessionkit.io.markups import line_length_mm, read_line_markup
from sessionkit.responses.paths import line_number
from sessionkit.responses.run_folder import acknowledged_file

if TYPE_CHECKING:
    from sessionkit.responses.export import RunRecord

#: Columns of the lines CSV export.
LINE_COLUMNS = (
    "reader_id",
    "page_id",
    "page_instance",
    "image_id",
    "line",
    "x1",
    "y1",
    "z1",
    "x2",
    "y2",
    "z2",
    "length_mm",
)
_REP = re.compile(r"-Rep\d+$")


def present_lines(rows: Sequence[Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    """The latest ``line`` row of every line file that is not deleted, by ``file``.

    Parameters
    ----------
    rows : sequence of mapping
        ``annotations.csv`` rows (of one run, or one page instance) in ``seq`` order.

    Returns
    -------
    dict of str to mapping
        ``file`` (relative to the reader folder) -> its latest row, in first-logged order.
    """
    latest: dict[str, Mapping[str, str]] = {}
    for row in rows:
        if row["kind"] == "line":
            latest[row["file"]] = row
        elif row["kind"] == "line_deleted":
            latest.pop(row["file"], None)
    return latest


def export_lines(runs: Iterable[RunRecord]) -> bytes:
    """Every existing line of ``runs`` as CSV (header once, CRLF, UTF-8), by run, page instance, image, line.

    Raises
    ------
    ImageReadError
        A logged line file is missing or unreadable.
    ResponseLogError
        A pending line file cannot be read.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LINE_COLUMNS)
    for run in runs:
        reader_dir = run.run_dir.parent
        found = []
        for file, row in present_lines(run.annotations).items():
            points = read_line_markup(acknowledged_file(reader_dir / file, row["sha256"]))
            order = (int(row["page_index"]), int(row["repetition"]), row["image_id"], line_number(file))
            found.append((order, row, points))
        for (_, rep, image_id, number), row, points in sorted(found, key=lambda item: item[0]):
            instance = row["page_instance"]
            page_id = _REP.sub("", instance) if rep else instance
            coordinates = [repr(float(v)) for v in points.ravel()]
            writer.writerow(
                [row["reader_id"], page_id, instance, image_id, number, *coordinates, repr(line_length_mm(points))]
            )
    return buffer.getvalue().encode("utf-8")
