"""Files pass of the validator on a session whose images exist: pages per second and peak memory.

Run: python benchmarks/bench_validate_files.py [--pages N]
Writes N pages (default 2,000), each with its own folder holding a CT, a PET and a segmentation
(hard links to the small NRRD phantoms of tests/data/sessions/valid/images/ct, so every path is a
distinct file), then runs ``check_session`` with the io-backed probe
(:func:`sessionkit.scene.probe.probe_image`): once without the files pass, once with it (timed), and
once more under ``tracemalloc`` for the peak of traced Python memory. Prints pages/s of the files pass
alone and the process's max RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from sessionkit.scene.probe import probe_image
from sessionkit.session import check_session

PHANTOMS = Path(__file__).resolve().parents[1] / "tests" / "data" / "sessions" / "valid" / "images" / "ct"
_FILES = ("chest.nrrd", "pet.nrrd", "organs.seg.nrrd")


def write_session(root: Path, pages: int) -> Path:
    """Case folders with linked phantom files and the session referring to them (Windows paths)."""
    parts = ['<Session RandomizePageGroups="Y">']
    for number in range(1, pages + 1):
        case = root / f"case{number:04d}"
        case.mkdir()
        for name in _FILES:
            os.link(PHANTOMS / name, case / name)
        parts.append(
            f'<Page ID="Case{number:04d}" Descriptor="Read" PageGroup="{1 + number % 10}">\n'
            f'  <Image ID="CT" Type="Volume"><Path>case{number:04d}\\chest.nrrd</Path>'
            "<DefaultDestination>Red</DefaultDestination><DefaultOrientation>Axial</DefaultOrientation>"
            "<Layer>Background</Layer></Image>\n"
            f'  <Image ID="PET" Type="Volume"><Path>case{number:04d}\\pet.nrrd</Path>'
            "<DefaultDestination>Red</DefaultDestination><DefaultOrientation>Axial</DefaultOrientation>"
            "<Layer>Foreground</Layer></Image>\n"
            f'  <Image ID="Seg" Type="Segmentation"><Path>case{number:04d}\\organs.seg.nrrd</Path>'
            "<DefaultDestination>Red</DefaultDestination><DefaultOrientation>Axial</DefaultOrientation>"
            '<Layer>Segmentation</Layer><ROIs ROIVisibilityCode="Select"><ROI>heart</ROI></ROIs></Image>\n'
            '  <QuestionSet ID="q" Descriptor="A"><Question Type="Radio" Descriptor="M">'
            "<Option>Yes</Option><Option>No</Option></Question></QuestionSet>\n</Page>"
        )
    parts.append("</Session>\n")
    session = root / "session.xml"
    session.write_text("\n".join(parts), encoding="utf-8")
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        session = write_session(Path(tmp), args.pages)
        start = time.perf_counter()
        check_session(session, check_files_on_disk=False)
        no_files = time.perf_counter() - start
        start = time.perf_counter()
        result = check_session(session, probe=probe_image)
        with_files = time.perf_counter() - start
        tracemalloc.start()
        check_session(session, probe=probe_image)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        codes = sorted({p.code for p in result.problems})
        print(f"{args.pages} pages, {3 * args.pages} image files; {len(result.problems)} problems {codes}")
        print(f"stages 1-3 {no_files * 1000:8.0f} ms; with the files pass {with_files * 1000:8.0f} ms")
        print(f"files pass alone: {args.pages / (with_files - no_files):8.0f} pages/s")
        print(f"peak traced Python memory {peak / 1e6:.1f} MB (tracemalloc, separate run)")
        print(f"max RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
