"""Loading the images a scene names, with a small cache shared by the resolver and the server."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Image, Segmentation
from sessionkit.io import read_image, write_nifti
from sessionkit.scene.model import VolumeSource
from sessionkit.scene.resolve import ColorLookup
from sessionkit.session.colors import ColorTable
from sessionkit.session.rules_image import path_escape_reason

T = TypeVar("T")


def color_lookup(table: ColorTable) -> ColorLookup:
    """``label_value -> (name, rgb)`` of a session colour table, the form the readers take."""
    return {entry.label_value: (entry.name, entry.rgba[:3]) for entry in table.entries}


def resolve_image_path(images_root: Path, path: str) -> Path:
    """The file a session ``Path`` names, checked to lie inside ``images_root``.

    Parameters
    ----------
    images_root : Path
        Folder every ``Path`` is relative to (session-format §2).
    path : str
        Normalised session path (``/`` separators).

    Raises
    ------
    ImageReadError
        If the path is absolute, has a drive letter, UNC prefix or URL scheme, or climbs above the
        root (the lexical SK503 test, shared with the validator), or leaves the root after following
        links (SK803).
    """
    reason = path_escape_reason(path)
    if reason is not None:
        raise ImageReadError(
            f"image path {path!r} ({reason}) points outside the images root {images_root}; paths are relative to it"
        )
    root = images_root.resolve()
    target = (root / PurePosixPath(path)).resolve()
    if not target.is_relative_to(root):
        raise ImageReadError(f"image path {path!r} resolves to {target}, outside the images root {root}")
    return target


class ImageCache:
    """Loads images by :class:`VolumeSource` and keeps the most recent ones and their NIfTI bytes.

    Thread-safe; the server calls it from a thread pool. Single-flight: however many readers open
    the same cold image at once, it is read once and encoded once, and all of them get that result.

    Parameters
    ----------
    images_root : Path
        Folder session paths are relative to.
    color_table : mapping, optional
        Session colour table (``label_value -> (name, rgb)``) used to name and colour the values of
        ``LabelMap`` images (D6).
    capacity : int
        Number of decoded images kept.
    """

    def __init__(self, images_root: Path, color_table: ColorLookup | None = None, capacity: int = 8) -> None:
        self.images_root = images_root
        self.color_table = color_table
        self.capacity = capacity
        self._images: OrderedDict[Hashable, Image] = OrderedDict()
        self._nifti: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        #: Loads under way, by (store, key): every caller of the same key waits for the one future.
        self._loading: dict[tuple[int, Hashable], Future[Any]] = {}

    def get(self, source: VolumeSource) -> Image:
        """The decoded image behind ``source`` (``Volume`` or ``Segmentation``).

        One read per image at a time: callers asking while it is being read wait for that read and
        share its result (or its error).

        Raises
        ------
        ImageReadError
            When the file (or a data file its header names) is missing, outside the images root, or
            unreadable as its type.
        """

        def read() -> Image:
            path = resolve_image_path(self.images_root, source.path)
            color_table = self.color_table if source.image_type == "LabelMap" else None
            return read_image(path, image_type=source.image_type, color_table=color_table, root=self.images_root)

        return self._single_flight(self._images, (source.path, source.image_type), read, self.capacity)

    def nifti(self, source: VolumeSource) -> bytes:
        """Gzipped NIfTI-1 bytes of ``source`` for the viewer (label maps with the label intent).

        A label source keeps only its ``shown_labels`` (other voxels 0); they are part of the key.
        Encoded once per key at a time, as :meth:`get` reads.
        """

        def encode() -> bytes:
            image = self.get(source)
            return write_nifti(
                image, label=isinstance(image, Segmentation), layer=source.layer, shown_labels=source.shown_labels
            )

        key = (source.path, source.image_type, source.layer, source.shown_labels)
        return self._single_flight(self._nifti, key, encode, 2 * self.capacity)

    def _single_flight(self, store: OrderedDict[Hashable, T], key: Hashable, load: Callable[[], T], capacity: int) -> T:
        """``store[key]``, else the result of ``load()`` run by the first caller only, then kept (LRU).

        Concurrent callers of a key being loaded wait for that load's future; a failed load is not
        kept (the next caller tries again) and its error reaches every waiter.
        """
        flight = (id(store), key)
        with self._lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
            future = self._loading.get(flight)
            leader = future is None
            if future is None:
                future = self._loading[flight] = Future()
        if not leader:
            result: T = future.result()
            return result
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                del self._loading[flight]
            future.set_exception(exc)
            raise
        with self._lock:
            store[key] = value
            while len(store) > capacity:
                store.popitem(last=False)
            del self._loading[flight]
        future.set_result(value)
        return value
