"""Mutated sessions give Problems, never a traceback or a hang (issue 11 item 11): a seeded
mutator over every session of tests/data/sessions and sample_sessions, in process, plus
``sessionkit validate`` on the worst inputs of the issue. The long run is ``benchmarks/fuzz_soak.py``."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.session import check_session
from tests.fuzz.mutate import MUTATIONS, cases, memory_cap, mutate, run_case

REPO = Path(__file__).resolve().parents[2]
SEEDS = sorted((REPO / "tests" / "data" / "sessions").rglob("*.xml")) + sorted((REPO / "sample_sessions").glob("*.xml"))
CASES = 300
SECONDS = 10.0
MEMORY = 1024 * 1024 * 1024


def _count_problems(path: Path, into: list[int]) -> None:
    into.append(len(check_session(path).problems))


def test_mutated_sessions_never_crash_or_hang(tmp_path: Path) -> None:
    mutations = [*MUTATIONS, "encoding"]
    failures: list[str] = []
    problems = 0
    with memory_cap(MEMORY):
        for number, (seed, _, case_seed) in enumerate(cases(SEEDS, CASES, base_seed=2200)):
            mutation = mutations[number % len(mutations)]
            target = tmp_path / f"case{number}.xml"
            target.write_bytes(mutate(seed.read_bytes(), mutation, case_seed))
            found: list[int] = []
            outcome = run_case(partial(_count_problems, target, found), SECONDS)
            problems += sum(found)
            if outcome.failed:
                failures.append(f"{seed.name} {mutation} seed={case_seed}: {outcome.kind} {outcome.detail}")
            target.unlink()
    assert not failures, "\n".join(failures)
    assert problems > CASES  # the mutations do break sessions


def test_validate_cli_on_the_worst_sessions(tmp_path: Path) -> None:
    worst = {
        "rot13.xml": b'<?xml version="1.0" encoding="rot13"?><Session/>',
        "punycode.xml": b'<?xml version="1.0" encoding="punycode"?><Session/>',
        "utf7.xml": b'<?xml version="1.0" encoding="utf-7"?><Session><Page ID="+2AA-"/></Session>',
        "attributes.xml": b'<Session><Page ID="P" '
        + b" ".join(b'a%d="x"' % n for n in range(20_000))
        + b"><QuestionSet/></Page></Session>",
    }
    for name, data in worst.items():
        (tmp_path / name).write_bytes(data)
        result = CliRunner().invoke(main, ["validate", "--no-files", str(tmp_path / name)])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        assert "SK103" in result.output or "… and 19,950 more SK202 errors" in result.output
