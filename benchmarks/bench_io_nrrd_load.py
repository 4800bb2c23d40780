"""NRRD load: sessionkit.io.read_nrrd vs pynrrd alone on the same file (target: ratio <= 1.2).

Run: python benchmarks/bench_io_nrrd_load.py [--repeat N]
Files: corpus D CTChest4.nrrd (gzip) when ../shared/corpus exists, plus a generated 512x512x200
int16 volume written by pynrrd both raw and gzip (level 1). Prints the best-of-N time of each and the
ratio sessionkit / pynrrd.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import nrrd
import numpy as np
from _timing import best_of_pair

from sessionkit.io import read_nrrd

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        volume = rng.integers(-1024, 3000, size=(200, 512, 512), dtype=np.int16)
        header = {
            "space": "left-posterior-superior",
            "space directions": np.diag([0.7, 0.7, 2.0]),
            "kinds": ["domain"] * 3,
        }
        files = []
        for encoding in ("raw", "gzip"):
            path = Path(tmp) / f"generated_{encoding}.nrrd"
            nrrd.write(str(path), volume, {**header, "encoding": encoding}, compression_level=1, index_order="C")
            files.append(path)
        if (CORPUS / "D-segnrrd-slicerio" / "CTChest4.nrrd").is_file():
            files.insert(0, CORPUS / "D-segnrrd-slicerio" / "CTChest4.nrrd")
        print(f"{'file':32} {'pynrrd s':>10} {'sessionkit s':>13} {'ratio':>7}")
        for path in files:
            peer, ours = best_of_pair(
                args.repeat, lambda p=path: nrrd.read(str(p), index_order="C"), lambda p=path: read_nrrd(p)
            )
            print(f"{path.name:32} {peer:10.4f} {ours:13.4f} {ours / peer:7.2f}")


if __name__ == "__main__":
    main()
