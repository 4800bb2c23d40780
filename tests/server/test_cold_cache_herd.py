"""Twenty readers opening the same cold volume read and encode it once (issue #11 item 10).

The real reader and encoder are wrapped to count their calls and to stay busy for a moment (so the
other requests arrive while the first load is under way, as with a large CT). Before, every request
that found the cache cold read and encoded the file itself.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import sessionkit.scene.loading as loading
from sessionkit.errors import ImageReadError
from sessionkit.scene import ImageCache
from sessionkit.scene.model import VolumeSource
from tests.server._hostile import LOCAL, Study, files, login

READERS = 20


def _counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Wrap ``sessionkit.scene.loading.<name>``: count calls, hold each for 0.3 s, then run the real one."""
    real = getattr(loading, name)
    calls: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, name, wrapper)
    return calls


def test_concurrent_readers_of_a_cold_volume_share_one_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = Study(tmp_path)
    client = study.client()
    _, page = login(client)
    url = page["scene"]["volumes"][0]["url"]
    reads, encodes = _counted(monkeypatch, "read_image"), _counted(monkeypatch, "write_nifti")
    before = files(study.runs)
    start = threading.Barrier(READERS)

    def open_volume(_: int) -> tuple[int, bytes]:
        reader = TestClient(client.app, base_url=LOCAL)
        start.wait()
        response = reader.get(url)
        return response.status_code, response.content

    with ThreadPoolExecutor(READERS) as pool:
        results = list(pool.map(open_volume, range(READERS)))
    assert {status for status, _ in results} == {200}
    assert len({content for _, content in results}) == 1
    assert (len(reads), len(encodes)) == (1, 1)
    assert files(study.runs) == before


def test_a_failed_load_reaches_every_waiter_and_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _counted(monkeypatch, "read_image")
    cache = ImageCache(tmp_path)
    source = VolumeSource(key="i1-CT-L0", path="missing.nrrd", image_type="Volume", layer=0, label=False)
    start = threading.Barrier(READERS)

    def load(_: int) -> str:
        start.wait()
        try:
            cache.get(source)
        except ImageReadError as exc:
            return type(exc).__name__
        return "loaded"

    with ThreadPoolExecutor(READERS) as pool:
        assert set(pool.map(load, range(READERS))) == {"ImageReadError"}
    first = len(reads)
    assert first < READERS
    with pytest.raises(ImageReadError):
        cache.get(source)  # tried again, not answered from a cache
    assert len(reads) == first + 1
