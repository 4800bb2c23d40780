"""Shared fixtures: the real-image corpus beside the project (``../shared/corpus``)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Root of ../shared/corpus; tests that need it skip with a reason when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"real-image corpus not found at {CORPUS} (clone with ../shared beside the project)")
    return CORPUS
