"""DICOM series load: sessionkit.io.read_dicom_series vs SimpleITK's ImageSeriesReader
(targets: time ratio <= 1.5, peak memory <= 2x the array).

Run: python benchmarks/bench_io_dicom_series.py [--slices 300] [--repeat 3]
Needs the ``bench`` extra (SimpleITK). The series (512x512xN CT, int16 stored, rescale intercept
-1024, uncompressed) is generated with pydicom into a temporary folder. Peak memory is measured
with tracemalloc (numpy reports its buffers to it) for the sessionkit reader; both readers' arrays
are compared voxel for voxel once.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from _dicom_synth import write_series
from _timing import best_of_pair

from sessionkit.io import read_dicom_series


def read_sitk(folder: Path) -> np.ndarray:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return sitk.GetArrayFromImage(reader.Execute())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_series(folder, args.slices)
        ours, theirs = read_dicom_series(folder), read_sitk(folder)
        same = np.array_equal(ours.array, theirs)
        peer, mine = best_of_pair(args.repeat, lambda: read_sitk(folder), lambda: read_dicom_series(folder))
        tracemalloc.start()
        volume = read_dicom_series(folder)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"series 512x512x{args.slices}, voxels equal to SimpleITK: {same}")
        print(
            f"SimpleITK ImageSeriesReader {peer:.3f} s | sessionkit {mine:.3f} s | "
            f"ratio {mine / peer:.2f} (target <= 1.5)"
        )
        print(
            f"peak traced memory {peak / 2**20:.1f} MiB for a {volume.array.nbytes / 2**20:.1f} MiB array: "
            f"{peak / volume.array.nbytes:.2f}x (target <= 2)"
        )


if __name__ == "__main__":
    main()
