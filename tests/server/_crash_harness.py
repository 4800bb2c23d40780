"""Crash injection: SIGKILL a real reader server before or after one ``fsync`` / ``os.replace`` (issue 11).

Used by ``tests/server/test_crash_injection.py`` (a deterministic sample of the points) and
``benchmarks/soak_crash.py`` (every point). No product code is involved: the hook lives only in the
fork server this file runs as a script.

**Fork server** (``python tests/server/_crash_harness.py SESSION IMAGES_ROOT``): imports the server once,
wraps ``os.fsync`` and ``os.replace`` (every durable write of sessionkit goes through them), then forks one
uvicorn server per JSON command read from stdin:

* ``{"serve": RESULTS, "port": P, "crash_at": N, "when": "before" | "after", "trace": PATH | null}``: the
  server's N-th fsync/replace call (1-based, counted from its start; ``N`` 0 = never) kills the process with
  SIGKILL before or after the call; with ``trace`` every call appends ``<n> <op> <path>`` to PATH.
  Answers ``{"pid": PID}``.
* ``{"wait": PID}``: reaps that server; answers ``{"signal": S}`` or ``{"exit": E}``.

Forking from an imported interpreter makes a server start in milliseconds instead of about a second. The
hooked ``fsync`` counts but does not reach the disk: a process kill loses nothing an ``fsync`` protects
(the page cache survives it; only a power cut would not, which no test here simulates), and skipping the
disk flush keeps a point at a fraction of a second on a busy machine.

**Scripted reader** (:data:`STEPS`): on ``tests/server/drawing_session.xml`` (draw on the chest CT, then
review the drawing through ``DisplayLabelMapID``) it signs in, saves two drawings, answers and goes Next,
opens the redisplayed drawing (a ``redisplay`` copy is written), saves a third drawing and finishes.
A step is acknowledged when its HTTP answer arrives; the kill makes the step in flight fail.

**Checks after the restart** (:func:`check_restart`): the run folder (answers, label-map rows, files) equals
the one after the last acknowledged step, or after the step in flight (which may have reached its
acknowledgement before the kill); every label-map file has the bytes its latest row names; no temp or
pending file is left; the reader lands on the page the acknowledged run lands on, with its answers and
drawing; a drawing whose save was in flight, sent again, is saved (never answered "unchanged" unlogged).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SESSION = HERE / "drawing_session.xml"
IMAGES_ROOT = HERE.parent.parent / "sample_sessions"
READER = "crash"
RUN = Path(READER) / "drawing_session"
SHAPE = (34, 128, 128)  # the chest CT's (slice, row, column)


# -- fork server --------------------------------------------------------------------------------------


class _Hook:
    """Counter of durable calls; kills the process at the configured one."""

    def __init__(self) -> None:
        self.count = 0
        self.crash_at = 0
        self.when = "before"
        self.trace: Path | None = None
        self.lock = threading.Lock()

    def wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def durable_call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.count += 1
                number = self.count
            if self.trace is not None:
                target = args[0] if name == "replace" else _fd_path(args[0])
                with open(self.trace, "a", encoding="utf-8") as log:
                    log.write(f"{number} {name} {target}\n")
            if number == self.crash_at and self.when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = None if name == "fsync" else real(*args, **kwargs)
            if number == self.crash_at and self.when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return durable_call


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return f"fd {fd}"


def fork_server(session: Path, images_root: Path) -> None:
    """Serve the commands of the module docstring until stdin closes."""
    import uvicorn

    from sessionkit.server.app import create_app

    hook = _Hook()
    os.fsync = hook.wrap("fsync", os.fsync)  # type: ignore[assignment]
    os.replace = hook.wrap("replace", os.replace)  # type: ignore[assignment]
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if "wait" in command:
            _, status = os.waitpid(int(command["wait"]), 0)
            answer = {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.WEXITSTATUS(status)}
            print(json.dumps(answer), flush=True)
            continue
        pid = os.fork()
        if pid == 0:  # the server
            hook.count, hook.crash_at, hook.when = 0, int(command["crash_at"]), command["when"]
            hook.trace = Path(command["trace"]) if command.get("trace") else None
            results = Path(command["serve"])
            results.mkdir(parents=True, exist_ok=True)
            app = create_app(session, images_root=images_root, results_root=results)
            uvicorn.run(app, host="127.0.0.1", port=int(command["port"]), log_level="error")
            os._exit(0)
        print(json.dumps({"pid": pid}), flush=True)


# -- the client side ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ForkServer:
    """The fork server subprocess (see the module docstring)."""

    def __init__(self, session: Path = SESSION, images_root: Path = IMAGES_ROOT) -> None:
        paths = [str(HERE.parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]  # this checkout's code
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(session), str(images_root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert json.loads(self._read()) == {"ready": True}

    def _read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server exited with {self.process.wait()}")
        return line

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._read())
        return answer

    def serve(self, results: Path, *, crash_at: int = 0, when: str = "before", trace: Path | None = None) -> Server:
        """Start a server on ``results`` and wait until it answers ``/healthz``."""
        port = free_port()
        command = {"serve": str(results), "port": port, "crash_at": crash_at, "when": when, "trace": trace}
        pid = int(self._ask({**command, "trace": None if trace is None else str(trace)})["pid"])
        server = Server(self, pid, f"http://127.0.0.1:{port}")
        server.wait_ready()
        return server

    def wait(self, pid: int) -> dict[str, Any]:
        return self._ask({"wait": pid})

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Server:
    """One forked server."""

    forks: ForkServer
    pid: int
    url: str
    reaped: dict[str, Any] | None = None

    def wait_ready(self, timeout: float = 30.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.01)
        raise RuntimeError(f"the server {self.pid} did not start")

    def stop(self) -> None:
        """Kill it (it is idle: every request it answered is complete) and reap it."""
        if self.reaped is None:
            os.kill(self.pid, signal.SIGKILL)
            self.reaped = self.forks.wait(self.pid)

    def died(self) -> dict[str, Any]:
        """Reap a server that killed itself."""
        if self.reaped is None:
            self.reaped = self.forks.wait(self.pid)
        return self.reaped


# -- the scripted reader ------------------------------------------------------------------------------


def labels(value: int, rows: slice) -> Any:
    import numpy as np

    drawn = np.zeros(SHAPE, dtype=np.uint8)
    drawn[10:20, rows, 30:90] = value
    return drawn


#: The drawings of the script, by name.
DRAWINGS = {"A": (1, slice(30, 60)), "B": (2, slice(40, 80)), "C": (1, slice(50, 100))}

#: (kind, argument): ``login``; ``put`` a drawing; ``submit`` (transition, answers); ``show`` the drawing.
STEPS: list[tuple[str, Any]] = [
    ("login", None),
    ("put", "A"),
    ("put", "B"),
    ("submit", ("next", {"1": ["Y", "N"]})),
    ("show", None),
    ("put", "C"),
    ("submit", ("finish", {"1": ["N", "Y"]})),
]

#: The page a resumed reader lands on after ``i`` acknowledged steps (first unfinished page; a complete
#: run opens at its first page).
LANDING = ["Draw", "Draw", "Draw", "Draw", "Review", "Review", "Review", "Draw"]


@dataclass
class Reader:
    """One reader's HTTP session with a server."""

    url: str
    uploads: dict[str, bytes]
    run_id: str = ""
    acks: list[dict[str, Any]] = field(default_factory=list)

    def _client(self) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, timeout=60)

    def page(self) -> dict[str, Any]:
        with self._client() as client:
            response = client.get(f"/api/runs/{self.run_id}/page")
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return page

    def login(self) -> dict[str, Any]:
        with self._client() as client:
            response = client.post("/api/login", json={"reader_id": READER})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        self.run_id = body["run_id"]
        return body

    def put(self, name: str) -> dict[str, Any]:
        with self._client() as client:
            response = client.put(f"/api/runs/{self.run_id}/drawings/CT", content=self.uploads[name])
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def shown(self) -> bytes | None:
        """The editable drawing of the current page (NIfTI bytes, gunzipped), None for 204."""
        with self._client() as client:
            response = client.get(f"/api/runs/{self.run_id}/drawings/CT.nii.gz")
        response.raise_for_status()
        return None if response.status_code == 204 else gzip.decompress(response.content)

    def submit(self, transition: str, answers: dict[str, list[str]]) -> dict[str, Any]:
        version = self.page()["state_version"]
        body = {"state_version": version, "transition": transition, "answers": answers}
        with self._client() as client:
            response = client.post(f"/api/runs/{self.run_id}/submit", json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def step(self, kind: str, argument: Any) -> dict[str, Any] | None:
        if kind == "login":
            return self.login()
        if kind == "put":
            return self.put(argument)
        if kind == "show":
            self.shown()
            return None
        return self.submit(*argument)

    def run(self, after: Callable[[int], None] | None = None) -> int:
        """Run :data:`STEPS`; the number acknowledged before the server died (``len(STEPS)``: all)."""
        import httpx

        for index, (kind, argument) in enumerate(STEPS):
            try:
                self.acks.append({"step": index, "answer": self.step(kind, argument)})
            except httpx.TransportError:
                return index
            if after is not None:
                after(index + 1)
        return len(STEPS)


def niivue_uploads(url: str) -> dict[str, bytes]:
    """The script's drawings as Niivue uploads them (gzip NIfTI on the background the server sends)."""
    import httpx

    from tests.server._drawing_api import niivue_upload

    reader = Reader(url, {})
    reader.login()
    with httpx.Client(base_url=url, timeout=60) as client:
        page = reader.page()
        return {name: niivue_upload(client, page, labels(*spec), gz=True) for name, spec in DRAWINGS.items()}


# -- the run folder as the checks see it --------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))) if path.is_file() else []


def disk_state(results: Path) -> dict[str, Any]:
    """What the run folder holds: latest answers, latest label-map row per instance, problems found.

    ``problems`` lists every label-map file whose bytes differ from its latest row and every temp or
    pending file left over.
    """
    run = results / RUN
    meta = run / ".sessionkit"
    answers = {
        f"{r['page_instance']}/{r['question_id']}/{r['option_index']}": r["value"]
        for r in sorted(_rows(meta / "responses.csv"), key=lambda r: int(r["seq"]))
    }
    latest: dict[str, dict[str, str]] = {}
    for row in _rows(meta / "annotations.csv"):
        latest[f"{row['page_instance']}/{row['image_id']}"] = row
    problems = [f"left over: {p.relative_to(run)}" for p in sorted(run.rglob(".*")) if p.suffix in (".tmp", ".pending")]
    for row in latest.values():
        file = results / READER / row["file"]
        found = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "missing"
        if found != row["sha256"]:
            problems.append(f"{row['file']}: {found[:12]} on disk, {row['sha256'][:12]} logged (seq {row['seq']})")
    return {"answers": answers, "labelmaps": {k: r["sha256"] for k, r in latest.items()}, "problems": problems}


@dataclass
class Expected:
    """What the dry run saw after each number of acknowledged steps (index 0: before the first)."""

    states: list[dict[str, Any]]
    sha_of: dict[str, str]  # drawing name -> SHA-256 of its saved label map
    trace: list[str]  # "<n> <op> <path>" of every durable call


def dry_run(forks: ForkServer, root: Path, uploads: dict[str, bytes]) -> Expected:
    """Run the script once without a crash, recording the run folder after each step and every durable call."""
    results, trace = root / "dry", root / "dry-trace.txt"
    server = forks.serve(results, trace=trace)
    states = [disk_state(results)]
    reader = Reader(server.url, uploads)
    try:
        assert reader.run(after=lambda _: states.append(disk_state(results))) == len(STEPS)
    finally:
        server.stop()
    sha_of = {STEPS[a["step"]][1]: a["answer"]["sha256"] for a in reader.acks if STEPS[a["step"]][0] == "put"}
    calls = trace.read_text(encoding="utf-8").splitlines()
    return Expected(states, sha_of, calls)


def _label_name(nifti: bytes | None) -> str | None:
    """Which of :data:`DRAWINGS` a shown drawing is (None: nothing shown)."""
    if nifti is None:
        return None
    from sessionkit.io import read_nifti_bytes

    shown = read_nifti_bytes(nifti).array
    for name, spec in DRAWINGS.items():
        if (shown == labels(*spec)).all():
            return name
    return "unknown drawing"


def _shown_name(state: dict[str, Any], page_id: str, sha_of: dict[str, str]) -> str | None:
    """The drawing a reader on ``page_id`` sees in ``state``: its own map, else (Review) the Draw map."""
    names = {sha: name for name, sha in sha_of.items()}
    own = state["labelmaps"].get(f"{page_id}/CT")
    source = state["labelmaps"].get("Draw/CT")
    sha = own or (source if page_id == "Review" else None)
    return None if sha is None else names.get(sha, "unknown drawing")


def check_restart(
    forks: ForkServer, results: Path, expected: Expected, acknowledged: int, uploads: dict[str, bytes]
) -> list[str]:
    """Restart on ``results`` after a kill with ``acknowledged`` steps answered; the failures found."""
    server = forks.serve(results)
    try:
        reader = Reader(server.url, uploads)
        login = reader.login()
        failures: list[str] = []
        state = disk_state(results)
        failures += state.pop("problems")
        allowed = [j for j in (acknowledged, acknowledged + 1) if j < len(expected.states)]
        matched = [j for j in allowed if {k: expected.states[j][k] for k in state} == state]
        if not matched:
            failures.append(f"run folder matches no allowed state {allowed}: {state}")
            return failures
        reached = matched[-1]
        if acknowledged >= 1 and not login["resumed"]:
            failures.append("an acknowledged login was not resumed")
        page = reader.page()
        if page["page_id"] != LANDING[reached]:
            failures.append(f"resumed on {page['page_id']}, expected {LANDING[reached]}")
        logged = expected.states[reached]["answers"]
        where = f"{page['page_instance']}/{page['page_index']}.{page['question_set_index']}"
        wanted = {
            q: [logged.get(f"{where}.{q}/{i}", "") for i in range(1, len(values) + 1)]
            for q, values in page["answers"].items()
        }
        if page["answers"] != wanted:
            failures.append(f"answers shown {page['answers']}, acknowledged {wanted}")
        want_drawing = _shown_name(expected.states[reached], page["page_id"], expected.sha_of)
        got_drawing = _label_name(reader.shown())
        if got_drawing != want_drawing:
            failures.append(f"drawing shown on {page['page_id']}: {got_drawing}, expected {want_drawing}")
        in_flight = STEPS[acknowledged] if acknowledged < len(STEPS) else None
        if (
            in_flight is not None
            and in_flight[0] == "put"
            and page["editable"]
            and page["page_id"] == _put_page(acknowledged)
        ):
            reader.put(in_flight[1])  # sent again after the restart: it must be logged and on disk
            again = disk_state(results)
            failures += again["problems"]
            if again["labelmaps"].get(f"{page['page_id']}/CT") != expected.sha_of[in_flight[1]]:
                failures.append(f"the re-sent drawing {in_flight[1]} is not the logged map")
        return failures
    finally:
        server.stop()


def _put_page(step: int) -> str:
    """The page a ``put`` step draws on (before the Next of step 3: Draw)."""
    return "Draw" if step < 3 else "Review"


def injection_points(expected: Expected) -> list[tuple[int, str]]:
    """Every (call number, before/after) of the dry run."""
    return [(n, when) for n in range(1, len(expected.trace) + 1) for when in ("before", "after")]


def run_point(
    forks: ForkServer, root: Path, expected: Expected, uploads: dict[str, bytes], point: tuple[int, str]
) -> list[str]:
    """Kill a server at ``point`` while the script runs, restart it, check; the failures found."""
    number, when = point
    results = root / f"p{number:03d}-{when}"
    server = forks.serve(results, crash_at=number, when=when)
    try:
        acknowledged = Reader(server.url, uploads).run()
    except BaseException:
        server.stop()
        raise
    died = server.died()
    if died != {"signal": int(signal.SIGKILL)}:
        return [f"the server was not killed at {point}: {died}, {acknowledged} steps acknowledged"]
    return [
        f"{point} ({expected.trace[number - 1]}): {f}"
        for f in check_restart(forks, results, expected, acknowledged, uploads)
    ]


if __name__ == "__main__":
    fork_server(Path(sys.argv[1]), Path(sys.argv[2]))
