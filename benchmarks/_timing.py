"""Timing helper shared by the io benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Best wall-clock time in seconds of ``repeat`` runs of ``work``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_pair(repeat: int, peer: Callable[[], object], ours: Callable[[], object]) -> tuple[float, float]:
    """Best times of ``peer`` and ``ours``, run alternately so that drift (caches, CPU clock) hits both."""
    peer_times, our_times = [], []
    for _ in range(repeat):
        peer_times.append(best_of(1, peer))
        our_times.append(best_of(1, ours))
    return min(peer_times), min(our_times)
