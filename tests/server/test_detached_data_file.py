"""A detached NRRD (``.nhdr``) or MetaImage (``.mhd``) whose data file leaves the images root (issue #11 item 6).

The header lies inside the root; the voxels it names lie outside (``../``, an absolute path) or are a
device (``/dev/zero``, read forever) or a FIFO. The server, the readers and ``validate`` refuse all of them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from sessionkit.errors import ImageReadError
from sessionkit.io import read_image
from sessionkit.scene.probe import probe_image
from sessionkit.session import load_session
from sessionkit.session.files import check_files
from tests.server._hostile import Study, assert_json_error, files, login, write_volume


def _detached(study: Study, data_file: str) -> Path:
    """``images/ct.nhdr`` (written with its data beside it), its ``data file:`` line set to ``data_file``."""
    header = study.images / "ct.nhdr"
    text = header.read_text(encoding="ascii")
    header.write_text(re.sub(r"data file: .*", f"data file: {data_file}", text), encoding="ascii")
    return header


def _outside(tmp_path: Path) -> str:
    """Voxel data written outside the images root (``tmp_path/secret``); the name a header would use."""
    secret = tmp_path / "secret"
    secret.mkdir()
    write_volume(secret / "leak.nhdr")
    return str(secret / "leak.raw.gz")


@pytest.fixture(params=["relative", "absolute", "device"])
def escaping(request: pytest.FixtureRequest, tmp_path: Path) -> Study:
    study = Study(tmp_path, "ct.nhdr")
    outside = _outside(tmp_path)
    names = {"relative": "../secret/leak.raw.gz", "absolute": outside, "device": "/dev/zero"}
    _detached(study, names[request.param])
    if request.param == "device":  # /dev/zero as raw voxels: pynrrd would read it until memory runs out
        header = study.images / "ct.nhdr"
        header.write_text(header.read_text().replace("encoding: gzip", "encoding: raw"))
    return study


def test_server_refuses_a_data_file_outside_the_root(escaping: Study) -> None:
    client = escaping.client()
    _, page = login(client)
    before = files(escaping.runs)
    response = client.get(page["scene"]["volumes"][0]["url"])
    body = assert_json_error(response, 500, "SK901")
    assert "ct." not in str(body) and str(escaping.base) not in str(body)  # no file names (item 7)
    assert files(escaping.runs) == before


def test_reader_refuses_a_data_file_outside_the_root(escaping: Study) -> None:
    header = escaping.images / "ct.nhdr"
    with pytest.raises(ImageReadError, match=r"outside the images root|not a regular file|truncated"):
        read_image(header, image_type="Volume", root=escaping.images)


def test_reader_refuses_a_device_even_without_a_root(tmp_path: Path) -> None:
    study = Study(tmp_path, "ct.nhdr")
    header = _detached(study, "/dev/zero")
    with pytest.raises(ImageReadError, match=r"not a regular file|truncated"):  # /dev/zero has no bytes to read
        read_image(header)


def test_reader_reads_a_data_file_inside_the_root(tmp_path: Path) -> None:
    study = Study(tmp_path, "ct.nhdr")
    (study.images / "data").mkdir()
    (study.images / "ct.raw.gz").rename(study.images / "data" / "ct.raw.gz")
    header = _detached(study, "data/ct.raw.gz")
    assert read_image(header, image_type="Volume", root=study.images).grid.spatial_shape == (4, 6, 8)


def test_validate_reports_sk803_for_a_data_file_outside_the_root(escaping: Study) -> None:
    problems = check_files(load_session(escaping.session), escaping.images, probe_image)
    found = [p for p in problems if p.code in ("SK803", "SK804")]  # /dev/zero: refused by its size first
    assert found, [p.format_text() for p in problems]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_validate_and_reader_refuse_a_fifo_inside_the_root(tmp_path: Path) -> None:
    study = Study(tmp_path, "ct.nhdr")
    os.mkfifo(study.images / "pipe.raw")
    header = _detached(study, "pipe.raw")
    problems = check_files(load_session(study.session), study.images, probe_image)
    assert any(p.code == "SK804" for p in problems)
    with pytest.raises(ImageReadError, match=r"not a regular file|truncated"):
        read_image(header, root=study.images)


def _metaimage(study: Study, data_file: str) -> Path:
    """``images/ct.mhd`` written by SimpleITK (data in ``ct.raw``), its ``ElementDataFile`` set to ``data_file``."""
    sitk = pytest.importorskip("SimpleITK")
    header = study.images / "ct.mhd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 6, 8), np.int16)), str(header))
    text = header.read_text(encoding="ascii")
    header.write_text(re.sub(r"ElementDataFile = .*", f"ElementDataFile = {data_file}", text), encoding="ascii")
    return header


@pytest.mark.parametrize("name", ["../secret/leak.raw", "/dev/zero", "LIST\n../secret/leak.raw"])
def test_a_metaimage_data_file_outside_the_root_is_refused(tmp_path: Path, name: str) -> None:
    study = Study(tmp_path, "ct.mhd")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "leak.raw").write_bytes(bytes(2 * 4 * 6 * 8))
    header = _metaimage(study, name)
    with pytest.raises(ImageReadError, match=r"outside the images root|not a regular file"):
        read_image(header, image_type="Volume", root=study.images)
    problems = check_files(load_session(study.session), study.images, probe_image)
    assert any(p.code == "SK803" and "data file" in p.message for p in problems), [p.code for p in problems]
    client = study.client()
    _, page = login(client)
    before = files(study.runs)
    body = assert_json_error(client.get(page["scene"]["volumes"][0]["url"]), 500, "SK901")
    assert "ct." not in str(body) and "leak" not in str(body)
    assert files(study.runs) == before


def test_a_metaimage_with_its_data_beside_it_still_reads(tmp_path: Path) -> None:
    study = Study(tmp_path, "ct.mhd")
    header = _metaimage(study, "ct.raw")
    assert read_image(header, image_type="Volume", root=study.images).grid.spatial_shape == (4, 6, 8)
