"""Hostile request bodies get the JSON error, never a text/plain 500 (issue #11 item 8).

Each body once raised inside a route (``int`` of 5,000 digits, ``int("²")``, ``int(nan)``, the JSON
parser's recursion) and came back as Starlette's ``text/plain`` "Internal Server Error"; a list as
``viewer_state`` was committed and then broke every later submission of the run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.server._hostile import Study, assert_json_error, files, login, write_volume


@pytest.fixture
def study(tmp_path: Path) -> Study:
    return Study(tmp_path, extra='UserInteractionLog="Y"')


def _bodies(version: int) -> dict[str, tuple[str, str]]:
    """Route suffix and raw JSON text of each hostile body."""
    return {
        "integer of 5,000 digits": ("submit", '{"state_version": ' + "9" * 5000 + ', "transition": "next"}'),
        "answers key ²": (
            "submit",
            f'{{"state_version": {version}, "transition": "autosave", "answers": {{"\\u00b2": ["Y"]}}}}',
        ),
        "NaN uptime": ("interaction", '{"uptime_ms": NaN, "transition": "next"}'),
        "Infinity uptime": ("interaction", '{"uptime_ms": Infinity, "transition": "next"}'),
        "1e999 uptime": ("interaction", '{"uptime_ms": 1e999, "transition": "next"}'),
        "100k nested arrays": ("submit", "[" * 100_000 + "]" * 100_000),
        "list as viewer_state": (
            "submit",
            f'{{"state_version": {version}, "transition": "autosave", "answers": {{}}, "viewer_state": [1, 2]}}',
        ),
        "views not objects": (
            "submit",
            f'{{"state_version": {version}, "transition": "autosave", "viewer_state": {{"views": [3]}}}}',
        ),
        "list as transition": ("submit", f'{{"state_version": {version}, "transition": ["next"]}}'),
        "list as confirmation code": ("confirmations", '{"code": ["SK915"], "answer": "cancel", "transition": "next"}'),
        "object as viewing mode": (
            "view-mode",
            '{"destination": "Red", "viewing_mode": {}, "viewer_state": {"views": []}}',
        ),
    }


@pytest.mark.parametrize("name", list(_bodies(0)))
def test_hostile_bodies_are_refused_with_the_json_error(study: Study, name: str) -> None:
    client = study.client()
    run_id, page = login(client)
    route, text = _bodies(int(page["state_version"]))[name]
    before = files(study.runs)
    response = client.post(f"/api/runs/{run_id}/{route}", content=text, headers={"Content-Type": "application/json"})
    assert_json_error(response, 400)
    assert files(study.runs) == before


def test_a_page_number_in_other_digits_is_refused(study: Study) -> None:
    client = study.client()
    run_id, _ = login(client)
    before = files(study.runs)
    for page in ("²", "٣", "9" * 5000):
        assert_json_error(client.get(f"/api/runs/{run_id}/volumes/i1-CT-L0.nii.gz?page={page}"), 400)
    assert files(study.runs) == before


def test_a_volume_with_a_corrupt_gzip_payload_answers_the_json_error(tmp_path: Path) -> None:
    study = Study(tmp_path, "ct.nii.gz")
    good = study.images / "good.nii.gz"
    write_volume(good)
    data = good.read_bytes()
    (study.images / "ct.nii.gz").write_bytes(data[:400] + bytes(len(data) - 400))  # payload zeroed
    client = study.client()
    _, page = login(client)
    before = files(study.runs)
    response = client.get(page["scene"]["volumes"][0]["url"])
    body = assert_json_error(response, 500, response.json().get("code"))
    assert body["code"] in ("SK901", "HTTP500")
    assert files(study.runs) == before


def test_a_previously_committed_bad_viewer_state_does_not_break_the_run(study: Study) -> None:
    """An older server logged a list as viewer_state; submissions and restarts still work."""
    client = study.client()
    run_id, page = login(client)
    service = client.app.state.api.service  # type: ignore[attr-defined]
    service.submit(
        run_id, state_version=page["state_version"], transition="autosave", answers={}, viewer_state=[1, 2]
    )
    (events,) = service.run_dir(run_id).rglob("events.jsonl")
    records = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert any(record.get("viewer_state") == [1, 2] for record in records)
    for app_client in (client, study.client()):  # the running server, then a restart
        run_id, page = login(app_client)
        state = {"views": [{"destination": "Red", "slice_offset": 1.5}]}
        body: dict[str, Any] = {"state_version": page["state_version"], "transition": "autosave", "answers": {}}
        response = app_client.post(f"/api/runs/{run_id}/submit", json={**body, "viewer_state": state})
        assert response.status_code == 200, response.text


def test_unexpected_errors_answer_json_and_log_the_traceback(
    study: Study, caplog: pytest.LogCaptureFixture
) -> None:
    client = study.client()
    api = client.app.state.api  # type: ignore[attr-defined]

    async def broken(request: Request) -> Response:
        raise ZeroDivisionError("a bug")

    # a route behind the usual guard, and one outside it (the application's handler of last resort)
    client.app.router.routes.insert(0, Route("/api/guarded-bug", api.guard(broken, api=False)))  # type: ignore[attr-defined]
    client.app.router.routes.insert(0, Route("/api/bare-bug", broken))  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="sessionkit.server"):
        for path in ("/api/guarded-bug", "/api/bare-bug"):
            body = assert_json_error(client.get(path), 500)
            assert "a bug" not in body["message"] and "Traceback" not in body["message"]
    logged = [r for r in caplog.records if r.name == "sessionkit.server" and r.exc_info]
    assert len(logged) >= 2 and all(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in logged)


def test_unknown_paths_and_methods_answer_json(study: Study) -> None:
    client = study.client()
    assert_json_error(client.get("/api/nothing-here"), 404)
    assert_json_error(client.put("/api/login", json={}), 405)
