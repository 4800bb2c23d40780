"""Long fuzz run over mutated sessions and image files (the CI tests run a bounded slice of it).

Run: python benchmarks/fuzz_soak.py [--cases N] [--seed S] [--seconds T] [--memory-mib M]
Mutates the image seeds of ``tests/fuzz/seeds.py`` (corpus files of every format plus written
phantoms) and the sessions of ``tests/data/sessions`` and ``sample_sessions`` with bit flips,
truncations, header field edits, length flips and (sessions) foreign encoding declarations; reads
each image with ``read_header`` and ``read_image`` and validates each session, in this process,
under a per-case alarm of ``--seconds`` and an address-space cap of ``--memory-mib``. Prints the
outcome counts and every traceback or hang with the case to replay; exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sessionkit.io import read_header, read_image  # noqa: E402
from sessionkit.session import check_session  # noqa: E402
from tests.fuzz.mutate import MUTATIONS, cases, memory_cap, mutate, run_case  # noqa: E402
from tests.fuzz.seeds import CORPUS_SEEDS, written_seeds  # noqa: E402


def _read_both(path: Path) -> None:
    read_header(path)
    read_image(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000, help="cases per kind (images, sessions)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0, help="per-case time limit")
    parser.add_argument("--memory-mib", type=int, default=2048, help="address space allowed above the start")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    args = parser.parse_args()
    failures: list[str] = []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, memory_cap(args.memory_mib * 1024 * 1024):
        folder = Path(tmp)
        image_seeds = [args.corpus / name for name in CORPUS_SEEDS if (args.corpus / name).is_file()]
        image_seeds += written_seeds(folder)
        session_seeds = sorted((REPO / "tests" / "data" / "sessions").rglob("*.xml"))
        session_seeds += sorted((REPO / "sample_sessions").glob("*.xml"))
        for kind, seeds in (("image", image_seeds), ("session", session_seeds)):
            mutations = [*MUTATIONS, "encoding"] if kind == "session" else list(MUTATIONS)
            for number, (seed, _, case_seed) in enumerate(cases(seeds, args.cases, args.seed)):
                mutation = mutations[(number // len(seeds)) % len(mutations)]
                target = folder / f"{kind}-{number}{''.join(seed.suffixes)}"
                target.write_bytes(mutate(seed.read_bytes(), mutation, case_seed))
                if kind == "image":
                    outcome = run_case(partial(_read_both, target), args.seconds)
                else:
                    outcome = run_case(partial(check_session, target), args.seconds)
                counts[f"{kind} {outcome.kind}"] = counts.get(f"{kind} {outcome.kind}", 0) + 1
                if outcome.failed:
                    failures.append(f"{kind} {seed} {mutation} seed={case_seed}: {outcome.kind} {outcome.detail}")
                target.unlink()
    for key in sorted(counts):
        print(f"{key}: {counts[key]}")
    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
