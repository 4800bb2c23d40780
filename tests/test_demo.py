"""`sessionkit demo` (the README's first command) serves the sample session on packaged real images."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any


def _json(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_demo_serves_six_pages_of_real_images(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "demo"
    command = [sys.executable, "-c", "from sessionkit.cli import main; main()", "demo", "--no-browser"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if _json(base + "/healthz") == {"status": "ok"}:
                    break
            except OSError:
                assert process.poll() is None, process.communicate()[0]
                time.sleep(0.2)
        login = _json(base + "/api/login", {"reader_id": "demo-reader"})
        assert login["nav_total"] == 6
        page = _json(f"{base}/api/runs/{login['run_id']}/page")
        views = page["scene"]["views"]
        assert [v["destination"] for v in views] == ["Red", "Yellow", "Green"]
        segments = views[0]["layers"][1]["segments"]
        assert len(segments) == 7
        with urllib.request.urlopen(base + views[0]["layers"][0]["url"], timeout=30) as response:
            assert response.read(2) == b"\x1f\x8b"  # gzipped NIfTI of the chest CT
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"at http://127.0.0.1:{port}/" in output
    assert (out / "images" / "CTChest4.nrrd").is_file() and (out / "demo_colors.txt").is_file()
    assert (out / "runs" / "demo-reader" / "demo" / ".sessionkit" / "state.json").is_file()
