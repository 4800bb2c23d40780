"""The vendored Niivue bundle is the recorded release, byte for byte, and ships with its licence."""

from __future__ import annotations

import hashlib
from importlib import resources

VENDOR = resources.files("sessionkit.viewer").joinpath("vendor")


def _recorded() -> dict[str, str]:
    lines = VENDOR.joinpath("VERSION").read_text(encoding="utf-8").splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines) if value}


def test_niivue_bundle_matches_recorded_sha256() -> None:
    recorded = _recorded()
    data = VENDOR.joinpath("niivue.umd.js").read_bytes()
    assert recorded["version"] == "0.69.0"
    assert recorded["sha256"] == "47b896b77ec4a5be3ef1949c33ad393b6f45629921f326c279000bcf51bdb4af"
    assert hashlib.sha256(data).hexdigest() == recorded["sha256"]
    assert len(data) == int(recorded["bytes"])


def test_niivue_licence_is_shipped() -> None:
    text = VENDOR.joinpath("LICENSE").read_text(encoding="utf-8")
    assert "BSD 2-Clause License" in text
    assert "Copyright (c) 2021, Niivue" in text
    for bundled in ("gl-matrix", "nifti-reader-js", "fflate", "zarrita", "@ungap/structured-clone"):
        assert bundled in text
