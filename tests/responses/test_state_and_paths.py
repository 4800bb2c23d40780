"""state.json atomic writes with 20 kept versions; reader ids and paths inside the run folder (C3)."""

from __future__ import annotations

import json
import os

import pytest

from sessionkit.errors import ResponseLogError
from sessionkit.responses.paths import RunPaths, ensure_inside, safe_name, validate_reader_id
from sessionkit.responses.state_file import KEEP, read_state, write_state


def test_state_versions_are_kept(tmp_path):
    path = tmp_path / "state.json"
    for version in range(30):
        write_state(path, {"version": version, "last_seq": version})
    assert read_state(path) == {"version": 29, "last_seq": 29}
    kept = sorted(p.name for p in (tmp_path / "state-history").iterdir())
    assert len(kept) == KEEP == 20
    assert kept[0] == "state-00000009.json" and kept[-1] == "state-00000028.json"
    assert json.loads((tmp_path / "state-history" / kept[-1]).read_text())["version"] == 28
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_unreadable_state(tmp_path):
    (tmp_path / "state.json").write_text("[1, 2")
    with pytest.raises(ResponseLogError):
        read_state(tmp_path / "state.json")
    (tmp_path / "state.json").write_text("[1, 2]")
    with pytest.raises(ResponseLogError):
        read_state(tmp_path / "state.json")


@pytest.mark.parametrize("reader", ["alice", "A.b-c_9", "x" * 64, "..a"])
def test_valid_reader_ids(reader):
    assert validate_reader_id(reader) == reader


@pytest.mark.parametrize("reader", ["", ".", "..", "a/b", "a\\b", "x" * 65, "é", "a b", "a\nb"])
def test_invalid_reader_ids(reader):
    with pytest.raises(ResponseLogError):
        validate_reader_id(reader)


def test_safe_name_maps_unsafe_characters():
    assert safe_name("P1/../x:y") == "P1_.._x_y"
    assert safe_name("..") == "_" and safe_name("") == "_"
    assert safe_name("Page 1 - a.b") == "Page 1 - a.b"


def test_run_paths_layout(tmp_path):
    paths = RunPaths.create(tmp_path, "alice", "study")
    assert paths.run_dir == tmp_path / "alice" / "study"
    assert paths.responses == tmp_path / "alice" / "study" / ".sessionkit" / "responses.csv"
    assert paths.page_folder(3, "P2-Rep1", "Lung CT").name == "PgGroup3_P2-Rep1_Lung CT"
    assert paths.page_folder(1, "P1", "").name == "PgGroup1_P1_"
    assert paths.page_folder(1, "../P1", "a/b").name == "PgGroup1_.._P1_a_b"


def test_paths_cannot_leave_the_run_folder(tmp_path):
    paths = RunPaths.create(tmp_path, "alice", "study")
    with pytest.raises(ResponseLogError):
        paths.inside("../bob/x")
    with pytest.raises(ResponseLogError):
        paths.inside("/etc/passwd")
    paths.run_dir.mkdir(parents=True)
    os.symlink(tmp_path, paths.run_dir / "escape")
    with pytest.raises(ResponseLogError):
        paths.inside("escape/file")
    assert ensure_inside(paths.run_dir, paths.run_dir / "PgGroup1_P1_" / "f.nrrd").name == "f.nrrd"
