"""A least-recently-used cache under a byte budget, with single-flight loads (issues #11 item 10, #15 item 2).

The server keeps decoded images and their encoded NIfTI bytes in one :class:`ByteBudgetCache` per
process, shared by every session it serves, so memory stays under ``serve --cache-mb`` however many
cases the readers open; and however many readers open the same cold image at once, it is loaded once.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

#: Upper bound of the default budget (4 GiB).
MAX_DEFAULT_CACHE_BYTES = 4 << 30


def default_cache_bytes() -> int:
    """The default budget: a quarter of the machine's RAM, at most 4 GiB (4 GiB where RAM is unknown).

    Examples
    --------
    >>> 0 < default_cache_bytes() <= 4 << 30
    True
    """
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return MAX_DEFAULT_CACHE_BYTES
    return min(ram // 4, MAX_DEFAULT_CACHE_BYTES) if ram > 0 else MAX_DEFAULT_CACHE_BYTES


class ByteBudgetCache:
    """Values by key, least recently used first out, their sizes summing to at most ``budget_bytes``.

    Thread-safe. :meth:`get_or_load` is single-flight: while a key is being loaded, every other
    caller of that key waits for the same load and gets its value (or its exception); a failed load
    is not kept. A value larger than the whole budget is handed to its callers but not kept.

    Parameters
    ----------
    budget_bytes : int
        Most bytes kept (``0``: nothing is kept; loads are still shared while they run).
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = max(0, int(budget_bytes))
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._total = 0
        self._loading: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    @property
    def total_bytes(self) -> int:
        """Bytes of the values kept now (never above ``budget_bytes``)."""
        with self._lock:
            return self._total

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def get_or_load(self, key: Hashable, load: Callable[[], T], size: Callable[[T], int]) -> T:
        """The value of ``key``: kept, being loaded by another caller, or ``load()`` run now and kept.

        Parameters
        ----------
        key : hashable
        load : callable
            Produces the value (runs outside the lock; its exceptions reach every waiter).
        size : callable
            Bytes a value takes (``ndarray.nbytes``, ``len(bytes)``).
        """
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                kept: T = self._values[key][0]
                return kept
            future = self._loading.get(key)
            leader = future is None
            if future is None:
                future = self._loading[key] = Future()
        if not leader:
            shared: T = future.result()
            return shared
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                del self._loading[key]
            future.set_exception(exc)
            raise
        with self._lock:
            self._keep(key, value, size(value))
            del self._loading[key]
        future.set_result(value)
        return value

    def _keep(self, key: Hashable, value: Any, nbytes: int) -> None:
        """Store ``value`` and evict the least recently used until the budget holds (lock held)."""
        if nbytes > self.budget_bytes:
            return
        self._values[key] = (value, nbytes)
        self._total += nbytes
        while self._total > self.budget_bytes:
            _, (_, evicted) = self._values.popitem(last=False)
            self._total -= evicted
