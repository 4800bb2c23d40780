"""SIGKILL a real server before and after its fsync and os.replace calls; nothing acknowledged is lost (issue 11).

A scripted reader (``tests/server/_crash_harness.py``: sign in, two drawings, Next, the redisplayed
drawing, a third drawing, Finish) runs against a uvicorn server forked from a process whose ``os.fsync``
and ``os.replace`` count their calls (product code unchanged). A dry run lists every call; then, for each
injection point of the sample, a server is killed with SIGKILL just before or just after that call, a
fresh server is started on the same run folder, and the harness checks that every acknowledged answer
and label map is on disk as acknowledged, the log and the files agree, no temp or pending file is left,
and the reader resumes on the right page with its answers and drawing.

The sample is every distinct state a process kill can leave: a SIGKILL does not lose the page cache, so a
kill just before an ``fsync`` leaves the same files as one just after it (one side is run, alternating),
and a kill just before an ``os.replace`` that follows the ``fsync`` of its source leaves the files of that
``fsync``'s point (only the side after is run then). ``benchmarks/soak_crash.py`` runs both sides of
every call.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server._crash_harness import STEPS, Expected, ForkServer, dry_run, niivue_uploads, run_point

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(signal, "SIGKILL"), reason="fork + SIGKILL"
)


@pytest.fixture(scope="module")
def forks() -> Iterator[ForkServer]:
    server = ForkServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def script(forks: ForkServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("crash")
    server = forks.serve(root / "uploads")
    try:
        uploads = niivue_uploads(server.url)
    finally:
        server.stop()
    expected = dry_run(forks, root, uploads)
    return root, expected, uploads


def sample(expected: Expected) -> list[tuple[int, str]]:
    """The distinct kill points of the dry run (see the module docstring)."""
    calls = [line.split(maxsplit=2)[1:] for line in expected.trace]
    points = []
    for number, (op, path) in enumerate(calls, start=1):
        if op == "fsync":
            points.append((number, "after" if number % 2 == 0 else "before"))
            continue
        if number == 1 or calls[number - 2] != ["fsync", path]:
            points.append((number, "before"))
        points.append((number, "after"))
    return points


def test_the_dry_run_is_clean_and_covers_every_kind_of_write(script) -> None:
    _, expected, _ = script
    assert len(expected.states) == len(STEPS) + 1
    assert all(not state["problems"] for state in expected.states)
    written = " ".join(expected.trace)
    for name in ("state.json.tmp", "responses.csv", "annotations.csv", "-quizlabel.nrrd.pending", "snapshot.xml"):
        assert name in written  # the script reaches every durable file
    assert expected.states[-1]["answers"] and len(expected.states[-1]["labelmaps"]) == 2


def test_sigkill_at_every_sampled_fsync_and_replace_loses_nothing_acknowledged(forks, script) -> None:
    root, expected, uploads = script
    points = sample(expected)
    assert {number for number, _ in points} == set(range(1, len(expected.trace) + 1))  # every call
    failures = [failure for point in points for failure in run_point(forks, root, expected, uploads, point)]
    assert not failures, "\n".join(failures)
