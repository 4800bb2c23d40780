"""Real Chromium (Debian's, through Playwright) against a real ``sessionkit serve`` subprocess.

The session is ``tests/server/reading_session.xml`` over the chest CT (128x128x34) and its 7-segment
segmentation in ``sample_sessions/images`` (within the clarifications C12 size budget).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
SESSION = REPO / "tests" / "server" / "reading_session.xml"
IMAGES_ROOT = REPO / "sample_sessions"
CHROMIUM = Path("/usr/bin/chromium")
#: Launch flags measured in ../shared/recipes/browser-viewer.md (SwiftShader WebGL2, headless).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``sessionkit serve`` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(
        self, out: Path, log: Path, port: int | None = None, session: Path = SESSION, images_root: Path = IMAGES_ROOT
    ) -> None:
        self.out = out
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        command = [
            sys.executable,
            "-c",
            "from sessionkit.cli import main; main()",
            "serve",
            str(session),
            "--images-root",
            str(images_root),
            "--out",
            str(out),
            "--port",
            str(self.port),
        ]
        self._log = log.open("ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_healthy(log)
        except RuntimeError:
            self._log.close()
            raise

    def _wait_healthy(self, log: Path, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {timeout} s:\n{log.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, nothing flushed that was not already fsync'ed."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._log.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[object]:
    """Factory: ``start_server(out, port=None, session=..., images_root=...)`` starts a server writing
    under ``out`` (default: the reading session); all stop at the end."""
    servers: list[ServerProcess] = []

    def start(
        out: Path, port: int | None = None, session: Path = SESSION, images_root: Path = IMAGES_ROOT
    ) -> ServerProcess:
        server = ServerProcess(out, tmp_path / "server.log", port, session, images_root)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium with software WebGL2 (SwiftShader)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
