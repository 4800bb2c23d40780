"""CI integrations: the pre-commit hooks in a real git repository, and ``validate --format sarif``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sessionkit.cli import main

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "sessions"
BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<Session>
  <Page ID="P1">
    <Image Type="Volume" ID="CT">
      <Path>ct.nrrd</Path>
      <Layer>Backgrund</Layer>
    </Image>
    <QuestionSet/>
  </Page>
</Session>
"""
FIXED = BROKEN.replace("Backgrund", "Background")
#: Not a session: the hooks must leave it alone although it is *.xml and would fail validation.
OTHER_XML = '<?xml version="1.0"?>\n<project><name>not a session</name></project>\n'


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check)


@pytest.fixture()
def hooked_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository whose pre-commit config uses this project's hooks as ``repo: local`` hooks."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    bin_dir = Path(sys.executable).parent
    local = []
    for hook in hooks:
        # language: python would pip-install this repository (network); the installed sessionkit is used instead
        local.append({**hook, "language": "system", "entry": f"{bin_dir / hook['entry'].split()[0]} "
                      + " ".join(hook["entry"].split()[1:])})  # fmt: skip
    repo = tmp_path / "study-repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "ra@example.org")
    _git(repo, "config", "user.name", "Research Assistant")
    _git(repo, "config", "commit.gpgsign", "false")
    config = {"repos": [{"repo": "local", "hooks": local}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    subprocess.run([str(bin_dir / "pre-commit"), "install"], cwd=repo, env=env, check=True, capture_output=True)
    _git(repo, "add", ".pre-commit-config.yaml")
    subprocess.run(["git", "commit", "-q", "-m", "config"], cwd=repo, env=env, check=True, capture_output=True)
    return repo, env


def _commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    _git(repo, "add", "-A")
    return subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env, capture_output=True, text=True)


def test_hooks_reject_broken_session_and_accept_fixed(hooked_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = hooked_repo
    (repo / "study.xml").write_text(BROKEN, encoding="utf-8")
    (repo / "build.xml").write_text(OTHER_XML, encoding="utf-8")
    refused = _commit(repo, env, "broken study")
    assert refused.returncode != 0
    assert "SK206" in refused.stdout + refused.stderr  # Layer 'Backgrund'
    assert _git(repo, "log", "--oneline").stdout.count("\n") == 1  # nothing committed
    (repo / "study.xml").write_text(FIXED, encoding="utf-8")
    accepted = _commit(repo, env, "fixed study")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert (repo / "build.xml").read_text(encoding="utf-8") == OTHER_XML  # not a session: untouched
    assert "study.xml" in _git(repo, "show", "--name-only", "HEAD").stdout


def test_fmt_hook_reformats_and_fails_once(hooked_repo: tuple[Path, dict[str, str]]) -> None:
    """A valid but unformatted session: the fmt hook rewrites it (commit refused), the next commit passes."""
    repo, env = hooked_repo
    messy = FIXED.replace("  ", "\t").replace('Type="Volume" ID="CT"', 'ID="CT" Type="Volume"')
    (repo / "study.xml").write_text(messy, encoding="utf-8")
    first = _commit(repo, env, "messy")
    assert first.returncode != 0
    assert "reformatted study.xml" in first.stdout + first.stderr
    assert (repo / "study.xml").read_text(encoding="utf-8") == FIXED
    assert _commit(repo, env, "formatted").returncode == 0


def test_validate_sarif() -> None:
    """SARIF 2.1.0: one run, the rules reported with their metadata, one result per problem with its location."""
    invalid = DATA / "invalid" / "sk508-layer-type-mismatch.xml"
    valid = DATA / "valid" / "full.xml"
    result = CliRunner().invoke(main, ["validate", "--format", "sarif", "--no-files", str(invalid), str(valid)])
    assert result.exit_code == 1
    log = json.loads(result.output)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sessionkit"
    assert [rule["id"] for rule in driver["rules"]] == ["SK508"]
    assert driver["rules"][0]["defaultConfiguration"] == {"level": "error"}
    (finding,) = run["results"]
    assert finding["ruleId"] == "SK508" and driver["rules"][finding["ruleIndex"]]["id"] == "SK508"
    assert finding["level"] == "error"
    assert "Layer 'Label'" in finding["message"]["text"]
    location = finding["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == str(invalid)
    assert location["region"] == {"startLine": 10, "startColumn": 5}


def test_only_sessions_skips_other_xml(tmp_path: Path) -> None:
    other = tmp_path / "pom.xml"
    other.write_text(OTHER_XML, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(other)]).exit_code == 1  # SK106 without the flag
    assert runner.invoke(main, ["validate", "--only-sessions", str(other)]).exit_code == 0
    assert runner.invoke(main, ["fmt", "--check", "--only-sessions", str(other)]).exit_code == 0
    broken = tmp_path / "broken.xml"
    broken.write_text("<Session><Page ID='P'></Session>", encoding="utf-8")
    assert runner.invoke(main, ["validate", "--only-sessions", str(broken)]).exit_code == 1  # still checked
