"""Store an annotation file of the current page instance durably and log it (reading-flow §14.3, issue 11).

An acknowledged annotation file is never replaced before its successor is acknowledged:

1. the new bytes go to ``.<name>.pending`` beside the file (temp, fsync, rename, fsync folder);
2. the ``annotations.csv`` row (the file's name, the new bytes' SHA-256) is appended and fsync'ed, then
   ``state.json`` takes its ``last_seq``: the save is acknowledged;
3. the pending file is renamed over ``<name>`` (the Image Quizzer name analysis scripts read) and the
   folder fsync'ed.

A kill before 2 leaves the previous file in place and an unacknowledged pending file, removed at
resume; a kill between 2 and 3 leaves an acknowledged pending file, which resume
(:meth:`~sessionkit.responses.run_folder.RunFolder.recover`) renames into place and exports read
meanwhile (:func:`~sessionkit.responses.run_folder.acknowledged_file`). A deletion (``line_deleted``)
is logged first and the file removed after. Label maps (``labelmap``, ``redisplay``, ``merge``) and
line files (``line``, ``line_deleted``) share this path.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence

from sessionkit.errors import RunnerStateError
from sessionkit.responses.paths import pending_path
from sessionkit.responses.run_folder import settle_annotation
from sessionkit.responses.state_file import write_bytes_atomic
from sessionkit.runner.service import ReadingService

#: ``kind`` of annotations.csv -> the file kind of :meth:`ReadingService.annotation_path`.
FILE_KINDS = {
    "labelmap": "labelmap",
    "redisplay": "labelmap",
    "merge": "labelmap",
    "line": "line",
    "line_deleted": "line",
}


def store_annotation(
    service: ReadingService,
    run_id: str,
    image_id: str,
    kind: str,
    content: bytes | None,
    *,
    number: int = 1,
    labels: Sequence[int] = (),
    voxel_count: int | None = None,
    length_mm: float | None = None,
    event: str = "autosave",
) -> dict[str, str]:
    """Write ``content`` as an annotation file of the current page instance and log it (see module docs).

    Everything happens under the run's lock (:meth:`ReadingService.exclusive`), so no transition moves
    the run between the write and the log.

    Parameters
    ----------
    service : ReadingService
    run_id : str
    image_id : str
        ``Image@ID`` on the current page.
    kind : {"labelmap", "redisplay", "merge", "line", "line_deleted"}
    content : bytes or None
        The file's new bytes; None for ``line_deleted`` (the file is removed once the row is acknowledged).
    number : int
        1-based line number (line kinds).
    labels, voxel_count, length_mm, event
        Row fields, as :meth:`ReadingService.record_annotation`.

    Returns
    -------
    dict of str to str
        The acknowledged ``annotations.csv`` row.

    Raises
    ------
    RunnerStateError
        As :meth:`ReadingService.annotation_path` and :meth:`ReadingService.record_annotation`
        (``HTTP422`` for an unknown kind or for ``content`` given with ``line_deleted`` or missing otherwise).
    ResponseLogError
        The file or the log could not be written: nothing is acknowledged and the previous file stays.
        Raised after the acknowledgement only when the final rename fails; the next resume completes it.
    """
    file_kind = FILE_KINDS.get(kind)
    if file_kind is None or (content is None) != (kind == "line_deleted"):
        raise RunnerStateError(
            f"Cannot store a {kind!r} annotation {'without' if content is None else 'with'} content",
            code="HTTP422",
            hint="every kind except line_deleted carries the file content; line_deleted carries none",
        )
    with service.exclusive(run_id):
        target = service.annotation_path(run_id, image_id, kind=file_kind, number=number)
        pending = pending_path(target)
        if content is not None:
            write_bytes_atomic(pending, content)
        try:
            row = service.record_annotation(
                run_id,
                image_id=image_id,
                kind=kind,
                file=target,
                sha256="" if content is None else hashlib.sha256(content).hexdigest(),
                labels=labels,
                voxel_count=voxel_count,
                length_mm=length_mm,
                event=event,
            )
        except BaseException:
            with contextlib.suppress(OSError):  # never acknowledged: the previous file stays the truth
                pending.unlink(missing_ok=True)
            raise
        settle_annotation(target, row["sha256"])
        return row
