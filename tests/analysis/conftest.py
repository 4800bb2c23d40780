"""Fixtures of the analysis tests: a study whose runs the real ReadingService wrote."""

from __future__ import annotations

import pytest

from tests.analysis._study import Study, run_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return run_study(tmp_path_factory.mktemp("study"), unfinished="dave")
