"""The built wheel carries the schema and the sample sessions, and validates a sample with them
(clarifications C11). Slow-ish (builds a wheel), but it is the only check of what users install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_installed_wheel_validates_the_demo_session(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(REPO)],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("sessionkit-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], check=True
    )
    packaged = site / "sessionkit"
    assert (packaged / "schemas" / "session.xsd").is_file()
    assert (packaged / "sample_sessions" / "demo.xml").is_file()
    assert (packaged / "viewer" / "vendor" / "niivue.umd.js").is_file()
    assert (packaged / "analysis" / "templates" / "report.html").is_file()

    # PYTHONPATH comes before the editable install of the checkout, so the wheel's copy is used
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = (
        "import sys, sessionkit; from sessionkit.cli import main; "
        f"assert sessionkit.__file__.startswith({str(site)!r}), sessionkit.__file__; "
        "sys.argv = ['sessionkit', 'validate', sys.argv[1]]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(packaged / "sample_sessions" / "demo.xml")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
