"""Picture-question files as a browser shows them (session-format §7 "Picture", decision D17).

Image Quizzer shows any raster Qt can read. Browsers show PNG, JPEG, GIF, BMP and WebP as they are;
the other Qt rasters (TIFF, PBM/PGM/PPM, XBM, XPM, ICO) are converted to PNG with Pillow.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from sessionkit.errors import ImageReadError
from sessionkit.io._common import require_file

#: Suffix -> media type of the formats sent unchanged.
BROWSER_PICTURES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
}
#: Qt-readable raster suffixes a browser cannot show: converted to PNG.
CONVERTED_PICTURES: frozenset[str] = frozenset({".tif", ".tiff", ".pbm", ".pgm", ".ppm", ".xbm", ".xpm", ".ico"})


def read_web_picture(path: str | Path) -> tuple[bytes, str]:
    """The bytes and media type a browser needs to show the picture at ``path``.

    Parameters
    ----------
    path : str or Path
        A picture file; its suffix (case-insensitive) selects the handling.

    Returns
    -------
    (bytes, str)
        The file's own bytes for :data:`BROWSER_PICTURES`; PNG bytes (first frame) and
        ``image/png`` for :data:`CONVERTED_PICTURES`.

    Raises
    ------
    ImageReadError
        Missing file, a suffix of neither list, or a file Pillow cannot decode.
    """
    file = require_file(path)
    suffix = file.suffix.lower()
    if suffix in BROWSER_PICTURES:
        try:
            return file.read_bytes(), BROWSER_PICTURES[suffix]
        except OSError as exc:
            raise ImageReadError(f"{file}: cannot read: {exc}") from exc
    if suffix not in CONVERTED_PICTURES:
        raise ImageReadError(f"{file}: not a picture format a browser can show ({suffix or 'no suffix'})")
    try:
        with Image.open(file) as picture:
            picture.seek(0)
            converted = picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P", "PA") else "RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ImageReadError(f"{file}: cannot decode the picture: {exc}") from exc
    buffer = io.BytesIO()
    converted.save(buffer, format="PNG")
    return buffer.getvalue(), "image/png"
