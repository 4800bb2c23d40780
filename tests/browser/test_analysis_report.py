"""End to end (issue #13): three readers answer a session over HTTP against the real server, then
``export --format answers`` and ``analyze report`` on their run folders give the expected answers and κ,
and the report opens in Chromium, offline, with every chart rendered and no console errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from sessionkit.cli import main
from tests.analysis._study import CASE_PAGES, RATINGS, checkboxes, write_study_files

pytestmark = pytest.mark.browser


def answer_over_http(url: str, reader: str) -> None:
    """Sign in, answer the training page and every case page, Finish: the browser's API calls."""
    with httpx.Client(base_url=url, timeout=30) as client:
        run_id = client.post("/api/login", json={"reader_id": reader}).raise_for_status().json()["run_id"]
        plan = [("Train", (3, ("N", "N"), "1")), *((page, RATINGS[reader][page]) for page in CASE_PAGES)]
        for n, (page_id, (label, boxes, size)) in enumerate(plan):
            page = client.get(f"/api/runs/{run_id}/page").raise_for_status().json()
            assert page["page_id"] == page_id
            body = {
                "state_version": page["state_version"],
                "transition": "finish" if n == len(plan) - 1 else "next",
                "answers": {"1": ["Y" if i == label else "N" for i in range(1, 6)], "2": checkboxes(boxes),
                            "3": [size]},
                "client": "sessionkit-web/test (pytest 0; Linux)",
            }  # fmt: skip
            client.post(f"/api/runs/{run_id}/submit", json=body).raise_for_status()


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_study_answered_over_http_to_report_in_chromium(
    tmp_path: Path, start_server: Callable[..., Any], browser: Any
) -> None:
    session_file, design = write_study_files(tmp_path)
    server = start_server(tmp_path / "runs", session=session_file, images_root=tmp_path)
    for reader in RATINGS:
        answer_over_http(server.url, reader)

    answers_file = tmp_path / "answers.csv"
    cli("export", str(tmp_path / "runs"), "--format", "answers", "--design", str(design), "-o", str(answers_file))
    rows = list(csv.DictReader(io.StringIO(answers_file.read_text(encoding="utf-8"))))
    malignancy = {(r["reader_id"], r["page_id"]): r for r in rows if r["question_descriptor"] == "Malignancy"}
    for reader, ratings in RATINGS.items():
        for page, (label, _, _) in ratings.items():
            row = malignancy[(reader, page)]
            assert (row["answer_numeric"], row["case_id"], row["modality"]) == (str(label), page[-1], page[:2])

    out = tmp_path / "report"
    cli("analyze", "report", str(tmp_path / "runs"), "--design", str(design), "--rating", "Malignancy", "-o", str(out))
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for modality in ("CT", "AI"):
        entry = next(e for e in results["agreement"] if e["question"] == "Malignancy" and e["modality"] == modality)
        counts, _ = aggregate_raters(np.array([[RATINGS[r][f"{modality}{c}"][0] for r in RATINGS] for c in "1234"]))
        assert entry["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts), abs=1e-9)

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda request: None if request.url.startswith("file:") else problems.append(request.url))
    page.goto((out / "report.html").as_uri())
    figures = page.locator("figure svg")
    assert figures.count() == 5  # reading time, two answer distributions, ROC for CT and for AI
    for index in range(figures.count()):
        figure = figures.nth(index)
        box = figure.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 150
        pixels = np.asarray(Image.open(io.BytesIO(figure.screenshot())).convert("L"), dtype=float)
        assert pixels.std() > 10, f"chart {index} looks blank"  # axes, bars, curves drawn
        assert (pixels < 128).mean() > 0.005
    assert page.locator("h2#mrmc").is_visible()
    assert problems == []
    page.close()
