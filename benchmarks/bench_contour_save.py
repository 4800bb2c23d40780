"""Contour save, server side: drawing bytes received -> fsync'ed ``-quizlabel.nrrd`` + logged row (issue #7).

Run: python benchmarks/bench_contour_save.py [--repeat N] [--shape S R C]

A 512x512x100 uint8 drawing (three labelled ellipsoids over 60 slices, ~4 % of the voxels, like
an organ contour) is sent the two ways Niivue can send it: gzipped NIfTI
(``saveToUint8Array('x.nii.gz')``, fflate's default level 6) and uncompressed NIfTI
(``saveImage({isSaveDrawing: true})``). Each save goes through
:func:`sessionkit.runner.contours.save_drawing` on a real run folder: decode and grid check,
gzip-1 NRRD encode, pending file (temp, fsync, rename, fsync folder), annotations.csv row and
state.json (both fsync'ed), rename into place (fsync folder). Prints best and median time per step
and in total, the ratio to the 300 ms target, and the bytes on the wire against the saved label map's
size.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from sessionkit.geometry import ImageGrid
from sessionkit.io import decode_drawing, encode_labelmap_nrrd, encode_nifti
from sessionkit.runner.contours import save_drawing
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session

TARGET_MS = 300.0
SESSION = Path(__file__).resolve().parents[1] / "tests" / "server" / "drawing_session.xml"


def drawing(shape: tuple[int, int, int], shift: int) -> np.ndarray:
    """Three labelled ellipsoids; ``shift`` moves one so every save differs."""
    k, r, c = np.ogrid[: shape[0], : shape[1], : shape[2]]
    labels = np.zeros(shape, dtype=np.uint8)
    centre_k = shape[0] // 2
    for value, (cr, cc, radius) in enumerate(((200, 180, 70), (220, 340, 65), (330 + shift, 256, 40)), start=1):
        inside = ((k - centre_k) / 30.0) ** 2 + ((r - cr) / radius) ** 2 + ((c - cc) / radius) ** 2 <= 1.0
        labels[inside] = value
    return labels


def ms(values: list[float]) -> str:
    return f"best {min(values) * 1e3:7.1f} ms  median {statistics.median(values) * 1e3:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shape", type=int, nargs=3, default=(100, 512, 512), metavar=("SLICES", "ROWS", "COLUMNS"))
    args = parser.parse_args()
    shape = (args.shape[0], args.shape[1], args.shape[2])
    grid = ImageGrid.from_parts(shape, spacing=(2.5, 0.7, 0.7), origin=(-180.0, -170.0, -300.0))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        session_path = folder / SESSION.name
        session_path.write_bytes(SESSION.read_bytes())
        (folder / "drawing_colors.txt").write_bytes((SESSION.parent / "drawing_colors.txt").read_bytes())
        service = ReadingService(load_session(session_path), session_path, folder / "runs")
        run_id = service.login("bench")["run_id"]
        labels = [drawing(shape, shift) for shift in range(2 * args.repeat)]  # every save differs
        raw = [encode_nifti(x, grid, label=True, compression_level=None) for x in labels]
        wire_gz = [gzip.compress(x, compresslevel=6) for x in raw[: args.repeat]]
        raw = raw[args.repeat :]
        print(f"label map {shape[2]}x{shape[1]}x{shape[0]} uint8, {np.count_nonzero(labels[0])} voxels labelled")
        for name, payloads in (("gzipped NIfTI (saveToUint8Array)", wire_gz), ("uncompressed NIfTI (saveImage)", raw)):
            totals = []
            for payload in payloads:
                start = time.perf_counter()
                result = save_drawing(service, run_id, "CT", payload, grid)
                totals.append(time.perf_counter() - start)
                assert not result["unchanged"]
            saved = service.run_dir(run_id).parent / result["file"]
            size = saved.stat().st_size
            print(f"\n{name}: {len(payloads[0]):,} bytes on the wire")
            print(
                f"  save_drawing total     {ms(totals)}   ratio to {TARGET_MS:.0f} ms target: "
                f"{min(totals) * 1e3 / TARGET_MS:.2f} (best) {statistics.median(totals) * 1e3 / TARGET_MS:.2f} (median)"
            )
            print(f"  saved .nrrd (gzip 1)   {size:,} bytes; wire / saved = {len(payloads[0]) / size:.2f}")
        decode, encode = [], []
        for payload in wire_gz:
            start = time.perf_counter()
            decoded = decode_drawing(payload, grid)
            middle = time.perf_counter()
            encode_labelmap_nrrd(decoded, grid)
            decode.append(middle - start)
            encode.append(time.perf_counter() - middle)
        print("\nsteps (gzipped upload):")
        print(f"  decode + grid check    {ms(decode)}")
        print(f"  NRRD encode (gzip 1)   {ms(encode)}")
        print("  the rest of the total is the atomic write, fsyncs, sha256 and the CSV/state commit")
        start = time.perf_counter()
        result = save_drawing(service, run_id, "CT", raw[-1], grid)
        print(f"  unchanged re-save      {(time.perf_counter() - start) * 1e3:7.1f} ms (nothing written)")
        level9 = len(gzip.compress(raw[0], compresslevel=9))
        print(f"\nwire alternatives: gzip-9 NIfTI {level9:,} bytes; uncompressed {len(raw[0]):,} bytes")


if __name__ == "__main__":
    main()
