"""``sessionkit serve`` refuses to start on an invalid session or an unsafe bind (it never reaches uvicorn)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sessionkit.cli import main

HERE = Path(__file__).resolve().parent
SESSION = HERE / "reading_session.xml"
IMAGES_ROOT = HERE.parent.parent / "sample_sessions"


def test_serve_refuses_an_invalid_session_and_prints_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(
        '<Session><Page ID="P1"><Image ID="CT" Type="Volume"><Path>missing.nrrd</Path></Image></Page></Session>',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["serve", str(broken), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert "missing.nrrd" in result.output
    assert "not serving" in result.output
    assert not (tmp_path / "runs").exists()


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    args = ["serve", str(SESSION), "--images-root", str(IMAGES_ROOT), "--out", str(tmp_path / "runs")]
    result = CliRunner().invoke(main, [*args, "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--access-token" in result.output
    short = CliRunner().invoke(main, [*args, "--host", "0.0.0.0", "--access-token", "abc"])
    assert short.exit_code == 2 and "at least 8" in short.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_says_the_port_is_in_use_before_serving(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", str(SESSION), "--images-root", str(IMAGES_ROOT), "--out", str(tmp_path / "runs")]
        result = CliRunner().invoke(main, [*args, "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "--port" in result.output.split("already in use")[1]
    assert "serving" not in result.output


def test_serve_passes_the_idle_timeout_to_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--idle-timeout MINUTES`` (default 10) reaches the app, which tells the browser (reading-flow §4)."""
    import sessionkit.server

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(sessionkit.server, "serve", lambda *args, **kwargs: calls.append(kwargs))
    args = ["serve", str(SESSION), "--images-root", str(IMAGES_ROOT), "--out", str(tmp_path / "runs")]
    args += ["--port", str(_free_port())]  # serve checks the port is free before it says "serving"
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, [*args, "--idle-timeout", "2.5"]).exit_code == 0
    assert [call["idle_timeout_minutes"] for call in calls] == [10.0, 2.5]
    refused = CliRunner().invoke(main, [*args, "--idle-timeout", "-1"])
    assert refused.exit_code == 2 and "--idle-timeout" in refused.output


def test_serve_passes_the_cache_budget_to_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--cache-mb MB`` reaches the app's shared image store (issue #15 item 2); default: a quarter of RAM, ≤ 4 GiB."""
    import uvicorn

    from sessionkit.scene.budget import default_cache_bytes

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *a, **k: apps.append(server.config.app))
    with socket.socket() as probe:  # a free port for serve's own port check
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    args = ["serve", str(SESSION), "--images-root", str(IMAGES_ROOT), "--out", str(tmp_path / "runs"), "--port", port]
    assert CliRunner().invoke(main, [*args, "--cache-mb", "64"]).exit_code == 0
    assert CliRunner().invoke(main, args).exit_code == 0
    budgets = [app.state.api.store.budget_bytes for app in apps]
    assert budgets == [64 << 20, default_cache_bytes()]
    refused = CliRunner().invoke(main, [*args, "--cache-mb", "-1"])
    assert refused.exit_code == 2 and "--cache-mb" in refused.output
