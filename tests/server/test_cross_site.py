"""Cross-site requests and DNS rebinding on the default loopback setup (issue #11 item 5).

Before: a ``text/plain`` POST (what a cross-site form sends without a CORS preflight) to ``/api/login``
and ``/submit`` was accepted and written, whatever its ``Origin``, and any ``Host`` was served.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from sessionkit.cli import main
from tests.server._hostile import LOCAL, Study, assert_json_error, files, login


@pytest.fixture
def study(tmp_path: Path) -> Study:
    return Study(tmp_path)


def test_a_text_plain_login_is_refused(study: Study) -> None:
    client = study.client()
    response = client.post("/api/login", content=b'{"reader_id": "reader01"}', headers={"Content-Type": "text/plain"})
    assert_json_error(response, 415)
    assert files(study.runs) == {}


def test_a_text_plain_submit_is_refused(study: Study) -> None:
    client = study.client()
    run_id, page = login(client)
    before = files(study.runs)
    body = f'{{"state_version": {page["state_version"]}, "transition": "next", "answers": {{"1": ["Y", "N"]}}}}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = client.post(f"/api/runs/{run_id}/submit", content=body, headers={"Content-Type": content_type})
        assert_json_error(response, 415)
    assert files(study.runs) == before


def test_a_post_from_another_origin_is_refused(study: Study) -> None:
    client = study.client()
    run_id, page = login(client)
    before = files(study.runs)
    body: dict[str, Any] = {"state_version": page["state_version"], "transition": "next", "answers": {"1": ["Y", "N"]}}
    for origin in ("http://evil.example", "http://127.0.0.1:9999", "null"):
        headers = {"Origin": origin}
        assert_json_error(client.post(f"/api/runs/{run_id}/submit", json=body, headers=headers), 403)
        assert_json_error(client.post("/api/login", json={"reader_id": "reader02"}, headers=headers), 403)
    assert files(study.runs) == before
    same = client.post(f"/api/runs/{run_id}/submit", json=body, headers={"Origin": LOCAL})
    assert same.status_code == 200, same.text  # the reader page's own origin


def test_hosts_not_allowed_are_refused(study: Study) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: refused; loopback names are served."""
    app = study.client().app
    for host in ("evil.example", "testserver", "127.0.0.1.evil.example"):
        rebound = TestClient(app, base_url=f"http://{host}:8000")
        assert_json_error(rebound.get("/api/info"), 400)
        assert_json_error(rebound.get("/"), 400)
        assert_json_error(rebound.post("/api/login", json={"reader_id": "reader01"}), 400)
    assert files(study.runs) == {}
    for base in ("http://127.0.0.1:8000", "http://localhost", "http://[::1]:8000", "http://LOCALHOST:1"):
        assert TestClient(app, base_url=base).get("/api/info").status_code == 200, base


def test_allowed_hosts_add_names_for_a_proxy(study: Study) -> None:
    client = study.client(allowed_hosts=["reader.example.org"])
    proxied = TestClient(client.app, base_url="https://reader.example.org")
    response = proxied.post("/api/login", json={"reader_id": "reader01"}, headers={"Origin": "https://reader.example.org"})
    assert response.status_code == 200, response.text
    assert_json_error(TestClient(client.app, base_url="http://evil.example").get("/api/info"), 400)


def test_the_token_cookie_stays_samesite_strict(study: Study) -> None:
    client = study.client(access_token="s3cret-token")
    bearer = {"Authorization": "Bearer s3cret-token"}
    response = client.post("/api/login", json={"reader_id": "reader01"}, headers=bearer)
    cookie = response.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie


def test_serve_allows_the_bound_host_and_allowed_host_options(study: Study, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --host H --allowed-host N`` builds an app that answers to H and N (uvicorn itself not started)."""
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *a, **k: apps.append(server.config.app))
    with socket.socket() as probe:  # a free port for serve's own port check
        probe.bind(("127.0.0.2", 0))
        port = probe.getsockname()[1]
    args = ["serve", str(study.session), "--out", str(study.runs), "--host", "127.0.0.2", "--port", str(port)]
    result = CliRunner().invoke(main, [*args, "--allowed-host", "reader.example.org"])
    assert result.exit_code == 0, result.output
    (app,) = apps
    for name in ("127.0.0.2", "reader.example.org", "127.0.0.1"):
        assert TestClient(app, base_url=f"http://{name}").get("/api/info").status_code == 200, name
    assert_json_error(TestClient(app, base_url="http://evil.example").get("/api/info"), 400)
