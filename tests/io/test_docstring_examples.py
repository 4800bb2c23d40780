"""The Examples sections of the io docstrings run (doctest), so they cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "sessionkit.io.nrrd",
        "sessionkit.io.nifti",
        "sessionkit.io.describe",
        "sessionkit.io.rtstruct",
        "sessionkit.imaging.palette",
        "sessionkit.geometry",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
