"""docs/tutorial.md runs: every file it shows is written and every command it shows is run, in order.

Long-running commands (``demo``, ``serve``) are started in the background; the test waits for
``/healthz``, does what the tutorial asks of the person at the browser through the HTTP routes the
browser uses (sign in, answer, Next, Finish), then stops the server with Ctrl+C (SIGINT).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
TUTORIAL = REPO / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SERVER_START_LIMIT_S = 120  # a bound on waiting for the server, not a speed assertion


def tutorial_steps() -> tuple[dict[str, str], list[str]]:
    """The files (title -> text) and the ``$ `` commands of the tutorial, in order."""
    files: dict[str, str] = {}
    commands: list[str] = []
    for _, info, body in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")):
        title = re.search(r'title="([^"]+)"', info)
        if title:
            files[title.group(1)] = body
        commands += [line[2:] for line in body.splitlines() if line.startswith("$ ")]
    return files, commands


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _sessionkit(args: list[str]) -> list[str]:
    assert args[0] == "sessionkit", args
    return [sys.executable, "-m", "sessionkit", *args[1:]]


@contextmanager
def _serving(args: list[str], cwd: Path) -> Iterator[httpx.Client]:
    port = _free_port()
    args = [str(port) if a == "8000" else a for a in args]
    server = subprocess.Popen(_sessionkit(args), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + SERVER_START_LIMIT_S
        while True:
            assert server.poll() is None, server.communicate()[0].decode()
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        server.send_signal(signal.SIGINT)  # Ctrl+C
        server.communicate(timeout=60)


def _read_study(client: httpx.Client, reader_id: str, rating: int) -> int:
    """One reader: sign in, answer every page with ``rating``, Next, Finish. Returns pages answered."""
    run = client.post("/api/login", json={"reader_id": reader_id}).json()
    page: dict[str, Any] = client.get(f"/api/runs/{run['run_id']}/page").json()
    answered = 0
    while True:
        radio = ["Y" if n == rating else "N" for n in range(1, 6)]
        body = {
            "state_version": page["state_version"],
            "transition": "finish" if page["is_last"] else "next",
            "answers": {"1": radio},
            "viewer_state": {"views": []},
            "client": "tutorial test",
            "started_at": "2026-01-01T00:00:00.000Z",
        }
        response = client.post(f"/api/runs/{run['run_id']}/submit", json=body)
        assert response.status_code == 200, response.text
        answered += 1
        if page["is_last"]:
            assert response.json()["complete"] is True
            return answered
        page = client.get(f"/api/runs/{run['run_id']}/page").json()


def test_tutorial_runs(tmp_path: Path) -> None:
    files, commands = tutorial_steps()
    assert set(files) == {"cases.csv", "page.xml"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ran: list[str] = []
    for command in commands:
        args = shlex.split(command)
        ran.append(" ".join(args[:2]))
        if args[0] == "pip":
            assert args == ["pip", "install", "sessionkit"]
            assert metadata.version("sessionkit")  # installed (CI installs the checkout)
            continue
        if args[1] == "demo":
            with _serving(args, tmp_path) as client:
                assert client.post("/api/login", json={"reader_id": "reader01"}).status_code == 200
            assert (tmp_path / "sessionkit-demo" / "images" / "CTChest4.nrrd").is_file()
            continue
        if args[1] == "serve":
            with _serving(args, tmp_path) as client:
                pages = [_read_study(client, reader, rating) for reader, rating in (("reader01", 4), ("reader02", 2))]
            assert pages == [2, 2]
            continue
        result = subprocess.run(_sessionkit(args), cwd=tmp_path, env=_env(), capture_output=True, text=True)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        if args[1] == "build":
            assert "wrote sessionkit-demo/study.xml: 2 page(s) for 2 case(s)" in result.stdout
        if args[1] == "validate":
            assert result.stdout.strip().endswith("0 errors, 0 warnings in 1 file")
    assert ran == [
        "pip install",
        "sessionkit --version",
        "sessionkit demo",
        "sessionkit build",
        "sessionkit validate",
        "sessionkit serve",
        "sessionkit export",
        "sessionkit export",
        "sessionkit analyze",
        "sessionkit fmt",
    ]
    with (tmp_path / "answers.csv").open(encoding="utf-8") as handle:
        answers = list(csv.DictReader(handle))
    got = {(row["reader_id"], row["case_id"], row["modality"], row["truth"], row["answer"]) for row in answers}
    assert got == {
        (reader, case, modality, truth, rating)
        for reader, rating in (("reader01", "4"), ("reader02", "2"))
        for case, modality, truth in (("chest", "CT", "1"), ("brain", "MR", "0"))
    }
    assert (tmp_path / "responses.csv").stat().st_size > 0
    assert (tmp_path / "report" / "report.html").is_file()
    results = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    assert results["study"]["cases"] == 2 and results["rating"] == "Lesion present?"
    assert results["accuracy"]  # truth and rating given: accuracy and ROC per reader
