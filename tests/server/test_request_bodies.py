"""Request bodies are capped before they are parsed or inflated (issue #11 items 3 and 4).

The streaming cases run against a real uvicorn over a raw socket: the client declares or starts an
oversize body and never finishes it; the server must answer 413 from what it has read so far (before
the fix it waited for the whole body, so these reads timed out).
"""

from __future__ import annotations

import gzip
import json
import socket
import zlib
from pathlib import Path
from typing import Any

import httpx
import nibabel as nib
import numpy as np
import pytest
from starlette.testclient import TestClient

from sessionkit.io.contours import drawing_size_limit
from sessionkit.server.bodies import MAX_JSON_BYTES
from tests.server._hostile import GRID, Study, assert_json_error, files, live_server, login, raw_response

#: Seconds a raw-socket read waits before the test fails (the server never answering is the bug).
_READ_TIMEOUT = 30


def _drawing(client: TestClient, page: dict[str, Any]) -> bytes:
    """Uncompressed NIfTI-1 drawing as Niivue sends it: the background's header with uint8 labels."""
    volume = client.get(page["scene"]["volumes"][0]["url"]).content
    background: Any = nib.Nifti1Image.from_bytes(gzip.decompress(volume))
    header = background.header.copy()
    header.set_data_dtype(np.uint8)
    labels = np.zeros(GRID.spatial_shape, dtype=np.uint8)
    labels[1, 2:4, 3:6] = 1
    drawing: Any = nib.Nifti1Image(labels.transpose(2, 1, 0), background.affine.astype(np.float32), header)
    return bytes(drawing.to_bytes())


def _gzip_with_padding(raw: bytes, padding: int) -> bytes:
    """``raw`` followed by ``padding`` zero bytes, gzip-compressed in chunks (a bomb of a few kilobytes)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [deflater.compress(raw)]
    block = bytes(1 << 20)
    for _ in range(padding // len(block)):
        parts.append(deflater.compress(block))
    parts.append(deflater.flush())
    return b"".join(parts)


@pytest.fixture
def drawing_study(tmp_path: Path) -> Study:
    return Study(tmp_path, extra='EnableSegmentEditor="Y"')


def test_gzip_bomb_drawing_is_refused_by_its_inflated_size(drawing_study: Study) -> None:
    client = drawing_study.client()
    run_id, page = login(client)
    raw = _drawing(client, page)
    bomb = _gzip_with_padding(raw, 64 << 20)  # 64 MiB of zeros after the drawing
    assert len(bomb) < drawing_size_limit(GRID) < 64 << 20  # small enough to pass the upload limit
    before = files(drawing_study.runs)
    response = client.put(f"/api/runs/{run_id}/drawings/CT", content=bomb)
    body = assert_json_error(response, 422)
    assert "inflates to more than" in body["message"]
    assert files(drawing_study.runs) == before
    saved = client.put(f"/api/runs/{run_id}/drawings/CT", content=gzip.compress(raw))
    assert saved.status_code == 200, saved.text  # the same drawing without the padding is saved
    assert saved.json()["voxel_count"] == 6


def _open(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=_READ_TIMEOUT)


def _request_head(method: str, path: str, address: tuple[str, int], headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {address[0]}:{address[1]}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_declared_oversize_json_is_refused_before_it_is_read(tmp_path: Path) -> None:
    study = Study(tmp_path)
    with live_server(study.client().app) as address, _open(address) as sock:
        headers = {"Content-Type": "application/json", "Content-Length": str(100 << 20)}
        sock.sendall(_request_head("POST", "/api/login", address, headers) + b'{"reader_id": "')
        status, _, body = raw_response(sock)  # the other 100 MB are never sent
    assert status == 413 and json.loads(body)["code"] == "HTTP413"
    assert files(study.runs) == {}


def test_chunked_oversize_json_is_refused_once_it_passes_the_limit(tmp_path: Path) -> None:
    study = Study(tmp_path)
    with live_server(study.client().app) as address, _open(address) as sock:
        headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        sock.sendall(_request_head("POST", "/api/login", address, headers) + _chunk(b'{"reader_id": "'))
        block = b"a" * (64 << 10)
        for _ in range(MAX_JSON_BYTES // len(block) + 2):
            sock.sendall(_chunk(block))
        status, _, body = raw_response(sock)  # the body is never finished
    assert status == 413 and json.loads(body)["code"] == "HTTP413"
    assert files(study.runs) == {}


def test_chunked_oversize_drawing_is_refused_once_it_passes_the_limit(drawing_study: Study) -> None:
    with live_server(drawing_study.client().app) as address:
        with httpx.Client(base_url=f"http://{address[0]}:{address[1]}") as http:
            run_id = http.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"]
            assert http.get(f"/api/runs/{run_id}/page").status_code == 200
        before = files(drawing_study.runs)
        with _open(address) as sock:
            headers = {"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"}
            sock.sendall(_request_head("PUT", f"/api/runs/{run_id}/drawings/CT", address, headers))
            block = bytes(256 << 10)
            for _ in range(drawing_size_limit(GRID) // len(block) + 2):
                sock.sendall(_chunk(block))
            status, _, body = raw_response(sock)
    assert status == 413 and json.loads(body)["code"] == "HTTP413"
    assert files(drawing_study.runs) == before
