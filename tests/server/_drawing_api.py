"""API steps shared by the drawing tests whose sessions go from a first drawable page to ``Review``.

Imported as ``tests.server._drawing_api`` (pytest's importlib mode; not a test module, so not collected).
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def login(client: TestClient) -> tuple[str, dict[str, Any]]:
    """Sign in as ``reader01``: the run id and the first page's JSON."""
    run_id = client.post("/api/login", json={"reader_id": "reader01"}).json()["run_id"]
    return run_id, client.get(f"/api/runs/{run_id}/page").json()


def next_to_review(client: TestClient, run_id: str, page: dict[str, Any]) -> dict[str, Any]:
    """Answer Yes to the first page's question, press Next; the ``Review`` page's JSON."""
    moved = client.post(
        f"/api/runs/{run_id}/submit",
        json={"state_version": page["state_version"], "transition": "next", "answers": {"1": ["Y", "N"]}},
    )
    assert moved.status_code == 200, moved.text
    page = client.get(f"/api/runs/{run_id}/page").json()
    assert page["page_id"] == "Review"
    return page
