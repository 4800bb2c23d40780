"""A one-page study in a temporary folder and the checks the hostile-request tests share (issue #11).

Imported as ``tests.server._hostile`` (pytest's importlib mode; not a test module, so not collected).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from starlette.testclient import TestClient

from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import write_nrrd
from sessionkit.server.app import create_app
from sessionkit.server.run import server_config

#: Base URL of every test client: a ``Host`` the server allows by default (TestClient's own
#: ``testserver`` is refused, as any name not allowed is: issue #11 item 5).
LOCAL = "http://127.0.0.1"

#: One page, one volume, one Radio question; ``{path}`` is the image, ``{extra}`` page attributes.
SESSION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="P1" Descriptor="One" Layout="OneUpRedSlice" {extra}>
    <Image ID="CT" Type="Volume">
      <Path>{path}</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs1" Descriptor="Check">
      <Question Type="Radio" Descriptor="Fine?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
  <Page ID="P2" Descriptor="Two" Layout="OneUpRedSlice">
    <Image ID="CT" Type="Volume">
      <Path>{path}</Path>
      <DefaultDestination>Red</DefaultDestination>
      <DefaultOrientation>Axial</DefaultOrientation>
      <Layer>Background</Layer>
    </Image>
    <QuestionSet ID="qs2" Descriptor="Check">
      <Question Type="Radio" Descriptor="Sure?">
        <Option>Yes</Option>
        <Option>No</Option>
      </Question>
    </QuestionSet>
  </Page>
</Session>
"""

#: Grid of the study's volume: 4 slices of 6 x 8 voxels.
GRID = ImageGrid.from_parts((4, 6, 8), spacing=(2.0, 1.0, 1.0))


class Study:
    """Folders of a temporary study: ``images`` (the images root), ``runs`` (results), the session file."""

    def __init__(self, base: Path, image: str = "ct.nrrd", *, extra: str = "") -> None:
        self.base = base
        self.images = base / "images"
        self.runs = base / "runs"
        self.images.mkdir(parents=True, exist_ok=True)
        self.session = self.images / "study.xml"
        self.session.write_text(SESSION_XML.format(path=image, extra=extra), encoding="utf-8")
        if not (self.images / image).exists():
            write_volume(self.images / image)

    def client(self, **options: Any) -> TestClient:
        """A TestClient on a fresh app over the study (``options`` go to ``create_app``)."""
        app = create_app(self.session, images_root=self.images, results_root=self.runs, **options)
        return TestClient(base_url=LOCAL, app=app, raise_server_exceptions=False)


def write_volume(path: Path) -> None:
    """A small int16 volume on :data:`GRID` (``.nhdr`` writes a detached ``.raw.gz`` beside it)."""
    values = np.arange(int(np.prod(GRID.spatial_shape)), dtype=np.int16).reshape(GRID.spatial_shape)
    write_nrrd(Volume(values, GRID), path)


def login(client: TestClient, reader_id: str = "reader01") -> tuple[str, dict[str, Any]]:
    """Sign in: the run id and the first page's JSON."""
    response = client.post("/api/login", json={"reader_id": reader_id})
    assert response.status_code == 200, response.text
    run_id = str(response.json()["run_id"])
    page = client.get(f"/api/runs/{run_id}/page")
    assert page.status_code == 200, page.text
    return run_id, dict(page.json())


def files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path (what "nothing on disk changed" compares)."""
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_json_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the documented JSON error ``{"code", "message", "hint"}`` with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = dict(response.json())
    assert set(body) == {"code", "message", "hint"}, body
    assert body["code"] == (code or f"HTTP{status}"), body
    assert body["message"], body
    return body


@contextmanager
def live_server(app: Any, **options: Any) -> Iterator[tuple[str, int]]:
    """Run ``app`` under a real uvicorn as ``serve`` configures it, on a free loopback port.

    ``options`` go to :func:`sessionkit.server.run.server_config` (``header_timeout``, ``max_connections``).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()


def raw_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (with ``Content-Length``) from ``sock``: status, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body
