"""The image cache's byte budget and single-flight loads (issue #15 item 2, issue #11 item 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sessionkit.scene.loading as loading
from sessionkit.geometry import ImageGrid
from sessionkit.imaging import Volume
from sessionkit.io import write_nrrd
from sessionkit.scene import ImageCache
from sessionkit.scene.budget import ByteBudgetCache
from sessionkit.scene.model import VolumeSource


def test_least_recently_used_values_leave_first_and_the_total_stays_in_budget() -> None:
    store = ByteBudgetCache(10)
    loads: list[str] = []

    def value(name: str, size: int) -> bytes:
        return store.get_or_load(name, lambda: loads.append(name) or bytes(size), len)

    value("a", 4)
    value("b", 4)
    value("a", 4)  # a is now the most recent
    value("c", 4)  # evicts b, the least recently used
    assert store.total_bytes == 8 and "a" in store and "c" in store and "b" not in store
    value("b", 4)
    assert loads == ["a", "b", "c", "b"]
    assert len(value("huge", 11)) == 11  # larger than the budget: handed out, not kept
    assert "huge" not in store and store.total_bytes <= 10


def test_a_zero_budget_keeps_nothing() -> None:
    store = ByteBudgetCache(0)
    assert store.get_or_load("a", lambda: b"xy", len) == b"xy"
    assert store.total_bytes == 0 and "a" not in store


def test_image_cache_never_exceeds_its_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six 12 kB volumes through a 30 kB budget: at most two images and their encodings are kept."""
    grid = ImageGrid.from_parts((6, 20, 50), spacing=(1.0, 1.0, 1.0))
    for index in range(6):
        values = np.full(grid.spatial_shape, index, dtype=np.int16)
        write_nrrd(Volume(values, grid), tmp_path / f"v{index}.nrrd")
    reads: list[str] = []
    real = loading.read_image
    monkeypatch.setattr(loading, "read_image", lambda path, **kw: reads.append(Path(path).name) or real(path, **kw))
    store = ByteBudgetCache(30_000)
    cache = ImageCache(tmp_path, store=store)
    sources = [VolumeSource(f"k{i}", f"v{i}.nrrd", "Volume", label=False) for i in range(6)]
    for source in sources:
        assert cache.nifti(source)
        assert 0 < store.total_bytes <= 30_000
    assert len(reads) == 6
    cache.get(sources[-1])  # still kept
    assert len(reads) == 6
    cache.get(sources[0])  # evicted long ago: read again
    assert reads[-1] == "v0.nrrd" and len(reads) == 7
    assert store.total_bytes <= 30_000


def test_caches_sharing_a_store_do_not_see_each_others_images(tmp_path: Path) -> None:
    grid = ImageGrid.from_parts((2, 3, 4))
    for name, fill in (("a", 1), ("b", 2)):
        (tmp_path / name).mkdir()
        write_nrrd(Volume(np.full(grid.spatial_shape, fill, np.int16), grid), tmp_path / name / "v.nrrd")
    store = ByteBudgetCache(1 << 20)
    source = VolumeSource("k", "v.nrrd", "Volume", label=False)
    first = ImageCache(tmp_path / "a", store=store).get(source)
    second = ImageCache(tmp_path / "b", store=store).get(source)
    assert isinstance(first, Volume) and isinstance(second, Volume)
    assert int(first.array.max()) == 1 and int(second.array.max()) == 2
