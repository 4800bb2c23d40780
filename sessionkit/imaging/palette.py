"""Slicer's ``GenericColors`` table: the colours of label values that come without a colour table.

One table for the whole package: the session layer builds its default ROIColorFile from it
(session-format §8) and the io readers colour segments whose file gives none from it.
"""

from __future__ import annotations

from sessionkit.imaging import RGB

#: ``(name, (r, g, b))`` of label values 1-16 in order, RGB 0-255 (Slicer ``GenericColors``).
GENERIC_COLORS: tuple[tuple[str, RGB], ...] = (
    ("tissue", (128, 174, 128)),
    ("bone", (241, 214, 145)),
    ("skin", (177, 122, 101)),
    ("connective_tissue", (111, 184, 210)),
    ("blood", (216, 101, 79)),
    ("organ", (221, 130, 101)),
    ("mass", (144, 238, 144)),
    ("muscle", (192, 104, 88)),
    ("foreign_object", (220, 245, 20)),
    ("waste", (78, 63, 0)),
    ("teeth", (255, 250, 220)),
    ("fat", (230, 220, 70)),
    ("gray_matter", (200, 200, 235)),
    ("white_matter", (250, 250, 210)),
    ("nerve", (244, 214, 49)),
    ("vein", (0, 151, 206)),
)


def generic_color(index: int) -> RGB:
    """Colour of the ``index``-th segment (0-based) from :data:`GENERIC_COLORS`, cycled.

    Examples
    --------
    >>> generic_color(0), generic_color(16)
    ((128, 174, 128), (128, 174, 128))
    """
    return GENERIC_COLORS[index % len(GENERIC_COLORS)][1]
