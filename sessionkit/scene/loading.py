"""Loading the images a scene names, through the byte-budget, single-flight cache the server shares."""

from __future__ import annotations

import itertools
from pathlib import Path, PurePosixPath

from sessionkit.errors import ImageReadError
from sessionkit.imaging import Image, Segmentation
from sessionkit.io import read_image, write_nifti
from sessionkit.scene.budget import ByteBudgetCache, default_cache_bytes
from sessionkit.scene.model import VolumeSource
from sessionkit.scene.resolve import ColorLookup
from sessionkit.session.colors import ColorTable
from sessionkit.session.rules_image import path_escape_reason


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
    """Loads images by :class:`VolumeSource` and keeps them and their NIfTI bytes under a byte budget.

    Thread-safe; the server calls it from a thread pool. Single-flight: however many readers open
    the same cold image at once, it is read once and encoded once, and all of them get that result.

    Parameters
    ----------
    images_root : Path
        Folder session paths are relative to.
    color_table : mapping, optional
        Session colour table (``label_value -> (name, rgb)``) used to name and colour the values of
        ``LabelMap`` images (D6).
    store : ByteBudgetCache, optional
        Where decoded images and encoded bytes are kept; the server shares one among the caches of
        all its sessions (``serve --cache-mb``). Default: a store of its own with
        :func:`~sessionkit.scene.budget.default_cache_bytes`.
    """

    _tokens = itertools.count()

    def __init__(
        self, images_root: Path, color_table: ColorLookup | None = None, store: ByteBudgetCache | None = None
    ) -> None:
        self.images_root = images_root
        self.color_table = color_table
        self.store = store if store is not None else ByteBudgetCache(default_cache_bytes())
        #: This cache's part of a shared store's keys (another root or colour table reads other images).
        self._token = next(self._tokens)

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

        key = (self._token, "image", source.path, source.image_type)
        return self.store.get_or_load(key, read, image_nbytes)

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

        key = (self._token, "nifti", source.path, source.image_type, source.layer, source.shown_labels)
        return self.store.get_or_load(key, encode, len)


def image_nbytes(image: Image) -> int:
    """Bytes a decoded image holds in memory (voxels, segment layers and probabilities)."""
    if isinstance(image, Segmentation):
        probabilities = image.probabilities
        return int(image.layers.nbytes) + (0 if probabilities is None else int(probabilities.nbytes))
    return int(image.array.nbytes)
