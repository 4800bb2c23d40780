"""The public API: ``sessionkit.__all__``, loaded lazily; importing it or validating without files
imports no image library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sessionkit

REPO = Path(__file__).resolve().parent.parent
VALID = REPO / "tests" / "data" / "sessions" / "valid" / "full.xml"
IMAGE_LIBRARIES = ("nibabel", "pydicom", "highdicom", "nrrd", "slicerio")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('loaded:' + ','.join(m for m in {IMAGE_LIBRARIES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("loaded:"))
    return [name for name in line.removeprefix("loaded:").split(",") if name]


def test_import_and_validate_no_files_load_no_image_library() -> None:
    assert _loaded_after("import sessionkit; sessionkit.validate_session; sessionkit.build_session") == []
    run_cli = (
        "from sessionkit.cli import main\n"
        f"try:\n    main(['validate', '--no-files', {str(VALID)!r}])\nexcept SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code"
    )
    assert _loaded_after(run_cli) == []
    # the probe is still real: validating with files reads image headers
    assert "nrrd" in _loaded_after(run_cli.replace("'--no-files', ", ""))


def test_public_names() -> None:
    assert {"validate_session", "load_session", "read_image", "build_session"} <= set(sessionkit.__all__)
    for name in sessionkit.__all__:
        assert getattr(sessionkit, name) is not None
    from sessionkit.io import read_image
    from sessionkit.session import load_session
    from sessionkit.session.authoring import build_session

    assert sessionkit.read_image is read_image
    assert sessionkit.load_session is load_session
    assert sessionkit.build_session is build_session
    assert sessionkit.validate_session(VALID, check_files=False) == []
    assert [page.id for page in sessionkit.load_session(VALID).pages][:1] == ["Intro"]
    try:
        sessionkit.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("unknown names must raise AttributeError")
