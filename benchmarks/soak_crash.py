"""Crash soak: SIGKILL the reader server before and after EVERY fsync and os.replace of a scripted reader.

Run: python benchmarks/soak_crash.py [--points N] [--keep DIR]   (Linux; from the repository root)

The exhaustive version of ``tests/server/test_crash_injection.py`` (which runs a deterministic sample
within the CI budget); the harness, the scripted reader and the checks are in
``tests/server/_crash_harness.py``. Prints the number of durable calls of the script, the points run,
the time per point and every failure; exits 1 when any point fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server._crash_harness import (
    ForkServer,
    dry_run,
    injection_points,
    niivue_uploads,
    run_point,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=0, help="run only the first N points (0: all)")
    parser.add_argument("--keep", type=Path, help="keep the run folders under this directory")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="soak-crash-"))
    root.mkdir(parents=True, exist_ok=True)
    forks = ForkServer()
    try:
        server = forks.serve(root / "uploads")
        try:
            uploads = niivue_uploads(server.url)
        finally:
            server.stop()
        expected = dry_run(forks, root, uploads)
        points = injection_points(expected)
        if args.points:
            points = points[: args.points]
        print(f"{len(expected.trace)} durable calls (fsync, os.replace); {len(points)} injection points")
        started = time.perf_counter()
        failures: list[str] = []
        for point in points:
            found = run_point(forks, root, expected, uploads, point)
            failures += found
            for failure in found:
                print("FAIL", failure, flush=True)
        elapsed = time.perf_counter() - started
    finally:
        forks.close()
    each = elapsed / max(len(points), 1)
    print(f"{len(points)} points in {elapsed:.1f} s ({each:.2f} s each); {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
