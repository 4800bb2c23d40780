"""``sessionkit validate``: every format, exit codes, --quiet, --warnings-as-errors, --no-files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from sessionkit.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "sessions"
VALID = str(DATA / "valid" / "full.xml")
INVALID = str(DATA / "invalid" / "sk508-layer-type-mismatch.xml")
MISSING_IMAGE = str(DATA / "invalid" / "sk801-image-missing.xml")
WARNING_ONLY = """<Session><Page ID="P"><Image ID="CT" Type="Volume"><Path>ct.nrrd</Path></Image>
<QuestionSet/></Page></Session>"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_valid_text() -> None:
    code, output = _run(VALID)
    assert code == 0
    assert output.strip() == "0 errors, 0 warnings in 1 file"


def test_invalid_text_line_format() -> None:
    code, output = _run(INVALID, "--no-files")
    assert code == 1
    lines = output.strip().splitlines()
    assert lines[0].startswith(f"{INVALID}:10:5: SK508 error: page 1 'P1' image 2 'Seg': Layer 'Label'")
    assert lines[0].endswith("(set <Layer>Segmentation</Layer> or change Type)")
    assert lines[-1] == "1 error, 0 warnings in 1 file"


def test_several_files_highest_exit_code(tmp_path: Path) -> None:
    code, output = _run(VALID, INVALID, str(tmp_path / "absent.xml"), "--no-files")
    assert code == 2
    assert "SK101" in output
    assert output.strip().splitlines()[-1] == "2 errors, 0 warnings in 3 files"


def test_json_envelope() -> None:
    code, output = _run(VALID, INVALID, "--format", "json", "--no-files")
    assert code == 1
    document = json.loads(output)
    assert document["tool"] == "sessionkit"
    assert document["summary"] == {"errors": 1, "warnings": 0}
    assert [f["path"] for f in document["files"]] == [VALID, INVALID]
    assert len(document["files"][0]["sha256"]) == 64
    record = document["files"][1]["problems"][0]
    for key in ("code", "severity", "file", "line", "column", "xpath", "message", "hint", "scope", "related"):
        assert key in record
    assert record["code"] == "SK508" and record["line"] == 10
    assert record["xpath"] == "/Session/Page[1]/Image[2]"


def test_junit(tmp_path: Path) -> None:
    warning_file = tmp_path / "warn.xml"
    warning_file.write_text(WARNING_ONLY)
    code, output = _run(VALID, INVALID, str(warning_file), "--format", "junit", "--no-files")
    assert code == 1
    root = etree.fromstring(output.encode())
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [VALID, INVALID, str(warning_file)]
    assert suites[0].find("testcase").get("name") == "valid"
    failure = suites[1].find("testcase/failure")
    assert failure is not None and failure.get("type") == "SK508"
    assert suites[2].find("testcase/failure") is None
    assert "SK505" in (suites[2].findtext("testcase/system-out") or "")
    code, output = _run(str(warning_file), "--format", "junit", "--no-files", "--warnings-as-errors")
    assert code == 1
    assert etree.fromstring(output.encode()).find("testsuite/testcase/failure") is not None


def test_github_annotations(tmp_path: Path) -> None:
    session = tmp_path / "a,b.xml"
    session.write_text(WARNING_ONLY.replace('ID="P"', 'ID="P:1"'))
    code, output = _run(str(session), "--format", "github", "--no-files")
    assert code == 1
    lines = output.strip().splitlines()
    assert lines[0].startswith(f"::error file={str(session).replace(',', '%2C')},line=1,col=16,title=SK402::")
    assert lines[0].endswith("(use letters, digits, space, -, _, .)")
    assert any(line.startswith("::warning ") and "title=SK505" in line for line in lines)


def test_warnings_as_errors_and_quiet(tmp_path: Path) -> None:
    session = tmp_path / "warn.xml"
    session.write_text(WARNING_ONLY)
    code, output = _run(str(session), "--no-files")
    assert code == 0 and "SK505 warning" in output
    code, _ = _run(str(session), "--no-files", "--warnings-as-errors")
    assert code == 1
    code, output = _run(str(session), "--no-files", "--quiet")
    assert code == 0 and output == ""
    code, output = _run(str(session), "--no-files", "--disable", "SK505,SK506,SK507")
    assert code == 0 and "SK505" not in output


def test_no_files_skips_the_files_pass() -> None:
    code, output = _run(MISSING_IMAGE)
    assert code == 1 and "SK801" in output
    code, output = _run(MISSING_IMAGE, "--no-files")
    assert code == 0 and "SK801" not in output


def test_images_root_option(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    chest = DATA / "valid" / "images" / "ct" / "chest.nrrd"
    (tmp_path / "images" / "missing.nrrd").write_bytes(chest.read_bytes())
    code, output = _run(MISSING_IMAGE, "--images-root", str(tmp_path))
    assert code == 0, output


def test_usage_errors() -> None:
    assert _run()[0] == 2
    assert _run(VALID, "--format", "xml")[0] == 2
    assert _run(VALID, "--images-root", "/no/such/dir")[0] == 2


def test_json_is_strict_with_non_finite_values(tmp_path: Path) -> None:
    session = tmp_path / "inf.xml"
    session.write_text(WARNING_ONLY.replace('Type="Volume"', 'Type="Volume" ZoomFactor="INF"'))
    code, output = _run(str(session), "--format", "json", "--no-files")
    assert code == 1
    document = json.loads(output, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    found = [p["found"] for p in document["files"][0]["problems"] if p["code"] == "SK518"]
    assert found == ["inf"]


def test_dialect_iq_fails_where_image_quizzer_refuses(tmp_path: Path) -> None:
    # The default dialect only warns about the missing DefaultDestination/Layer/DefaultOrientation;
    # Image Quizzer 3.4.3 needs them, so --dialect iq reports the same problems as errors.
    session = tmp_path / "study.xml"
    session.write_text(WARNING_ONLY)
    code, default = _run(str(session), "--no-files")
    assert code == 0
    code, iq = _run(str(session), "--no-files", "--dialect", "iq", "--disable", "SK505")
    assert code == 1
    default_lines = default.strip().splitlines()[:-1]
    assert {line.split(" ")[1] for line in default_lines} == {"SK505", "SK506", "SK507"}
    assert iq.strip().splitlines()[:-1] == [line.replace(" warning: ", " error: ") for line in default_lines]
    assert iq.strip().splitlines()[-1] == "3 errors, 0 warnings in 1 file"


def test_dialect_iq_reports_sessionkit_extensions_and_keeps_other_severities(tmp_path: Path) -> None:
    session = tmp_path / "study.xml"
    session.write_text(
        etree.tostring(etree.parse(VALID)).decode().replace('<Image ID="CT"', '<Image ID="CT" StartingContourID="X"', 1)
    )
    assert 'StartingContourID="X"' in session.read_text()
    code, output = _run(str(session), "--no-files", "--dialect", "iq", "--format", "json")
    assert code == 1
    problems = json.loads(output)["files"][0]["problems"]
    iq_only = [p for p in problems if p["code"] == "SK211"]
    assert len(iq_only) == 1 and iq_only[0]["severity"] == "error" and iq_only[0]["attribute"] == "StartingContourID"
    assert iq_only[0]["line"] is not None and iq_only[0]["column"] is not None
    # Every other code keeps its default-dialect severity.
    _, default_output = _run(str(session), "--no-files", "--format", "json")
    default = {(p["code"], p["line"], p["severity"]) for p in json.loads(default_output)["files"][0]["problems"]}
    assert {(p["code"], p["line"], p["severity"]) for p in problems if p["code"] != "SK211"} == default
    assert "SK211" not in default_output
