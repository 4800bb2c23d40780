"""One generic palette: label maps read without a colour table get the session's default colours."""

from __future__ import annotations

import numpy as np

from sessionkit.geometry import ImageGrid
from sessionkit.imaging.palette import GENERIC_COLORS, generic_color
from sessionkit.io._common import labelmap_segmentation
from sessionkit.session import DEFAULT_COLOR_TABLE


def test_io_label_colours_equal_the_default_colour_table() -> None:
    labels = np.arange(18, dtype=np.uint8).reshape(1, 3, 6)
    segmentation = labelmap_segmentation(labels, ImageGrid.from_parts((1, 3, 6)))
    table = {entry.label_value: entry.rgba[:3] for entry in DEFAULT_COLOR_TABLE.entries}
    for segment in segmentation.segments:
        if segment.label_value in table:
            assert segment.color == table[segment.label_value]
    # values past the table cycle through it
    assert segmentation.segments[16].color == generic_color(16) == GENERIC_COLORS[0][1]
    assert [entry.name for entry in DEFAULT_COLOR_TABLE.entries] == [name for name, _ in GENERIC_COLORS]
