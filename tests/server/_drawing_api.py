"""API steps shared by the drawing tests whose sessions go from a first drawable page to ``Review``.

Imported as ``tests.server._drawing_api`` (pytest's importlib mode; not a test module, so not collected).
"""

from __future__ import annotations

import gzip
from typing import Any

import nibabel as nib
import numpy as np
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


def niivue_upload(client: TestClient, page: dict[str, Any], labels: np.ndarray, *, gz: bool) -> bytes:
    """As Niivue uploads: the background NIfTI the server sent for ``page`` (its header and affine) with
    ``labels`` ((slice, row, column) uint8) as its data; gzip-compressed when ``gz``."""
    url = next(v["url"] for v in page["scene"]["volumes"] if v["key"].startswith("i1-CT"))
    background: Any = nib.Nifti1Image.from_bytes(gzip.decompress(client.get(url).content))
    header = background.header.copy()
    header.set_data_dtype(np.uint8)
    header["scl_slope"], header["scl_inter"] = 1.0, 0.0
    drawing: Any = nib.Nifti1Image(labels.transpose(2, 1, 0), background.affine.astype(np.float32), header)
    raw: bytes = drawing.to_bytes()
    return gzip.compress(raw, compresslevel=6) if gz else raw
