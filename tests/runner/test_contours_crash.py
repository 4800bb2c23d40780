"""Killing the server between (and during) contour saves loses nothing acknowledged (issue #7, C2).

A child process saves drawings in a loop through :func:`sessionkit.runner.contours.save_drawing`
and prints the number of each acknowledged save; the test kills it with SIGKILL at varying moments,
then restarts the service (resume removes orphan temp and unacknowledged pending files and renames an
acknowledged pending file into place) and checks that the label map on disk is the one the log names last.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sessionkit.geometry import ImageGrid
from sessionkit.io import read_labelmap
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session

SESSION = Path(__file__).resolve().parent.parent / "server" / "drawing_session.xml"
SHAPE = (40, 256, 256)

CHILD = """
import sys
from pathlib import Path
import numpy as np
from sessionkit.geometry import ImageGrid
from sessionkit.io import encode_nifti
from sessionkit.runner.contours import save_drawing
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session

session_path, results, start = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
service = ReadingService(load_session(session_path), session_path, results)
run_id = service.login("crash")["run_id"]
grid = ImageGrid.from_parts({shape}, spacing=(2.0, 0.8, 0.8), origin=(-10.0, 20.0, 5.5))
def pattern(i):
    rng = np.random.default_rng(i)
    labels = (rng.random({shape}) < 0.2).astype(np.uint8) * (i % 250 + 1)
    return labels
i = start
while True:
    save_drawing(service, run_id, "CT", encode_nifti(pattern(i), grid, label=True), grid)
    print(i, flush=True)
    i += 1
"""


def pattern(i: int) -> np.ndarray:
    rng = np.random.default_rng(i)
    return (rng.random(SHAPE) < 0.2).astype(np.uint8) * (i % 250 + 1)


@pytest.mark.parametrize("delays", [(0.0, 0.13, 0.35, 0.6, 0.9, 1.3)])
def test_sigkill_between_saves_leaves_complete_files_only(tmp_path: Path, delays: tuple[float, ...]) -> None:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    session_path = tmp_path / SESSION.name
    session_path.write_bytes(SESSION.read_bytes())
    (tmp_path / "drawing_colors.txt").write_bytes((SESSION.parent / "drawing_colors.txt").read_bytes())
    results = tmp_path / "runs"
    grid = ImageGrid.from_parts(SHAPE, spacing=(2.0, 0.8, 0.8), origin=(-10.0, 20.0, 5.5))
    script = CHILD.format(shape=SHAPE)
    start = total = 0
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for delay in delays:
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(session_path), str(results), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        acknowledged: list[int] = []
        first = child.stdout.readline()  # at least one save acknowledged before the kill
        assert first, child.stderr.read().decode() if child.stderr else ""
        acknowledged.append(int(first))
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        acknowledged += [int(line) for line in child.stdout.read().split()]
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
        last_ack = acknowledged[-1]

        # restart: resume recovers the run folder (orphan temp files removed, unacknowledged rows cut)
        service = ReadingService(load_session(session_path), session_path, results)
        run_id = service.login("crash")["run_id"]
        run_dir = service.run_dir(run_id)
        assert not list(run_dir.rglob("*.tmp"))
        assert not list(run_dir.rglob(".*.pending"))
        saved = service.annotation_path(run_id, "CT")
        labels = read_labelmap(saved, grid)  # complete and loadable
        # the last acknowledged save, or the one in flight when the kill came after its acknowledgement
        written = next(i for i in (last_ack, last_ack + 1) if np.array_equal(labels, pattern(i)))
        rows = list(csv.DictReader(io.StringIO((run_dir / ".sessionkit" / "annotations.csv").read_text())))
        total += len(acknowledged)
        assert len(rows) in (total, total + 1) and (len(rows) == total + 1) == (written == last_ack + 1)
        # the file on disk is exactly the one the log names last (issue 11: never a newer, unlogged drawing)
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == rows[-1]["sha256"]
        total = len(rows)
        start = written + 1
