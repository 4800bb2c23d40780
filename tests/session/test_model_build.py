"""Model builder: unusable values marked invalid on every node, lazily resolved exact locations."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

from sessionkit.session import load_session
from sessionkit.session.model import Location


def test_unusable_values_are_none_and_listed_invalid(tmp_path: Path) -> None:
    path = tmp_path / "s.xml"
    path.write_text(
        '<Session RandomizePageGroups="1" ContourVisibility="Dots">'
        '<Page ID="p" PageGroup="x" Loop="Y" ContourToolRadius="big">'
        '<Image ID="i" Type="Volume" Opacity="2" WindowLevel="a b" DicomRead="yes" ZoomFactor="1.5">'
        "<Path>a.nrrd</Path><DefaultDestination>Blue</DefaultDestination></Image>"
        '<QuestionSet><Question Type="Radio" GroupLayout="Diagonal" Min="1"><Option>a</Option></Question>'
        "</QuestionSet></Page></Session>"
    )
    session = load_session(path, strict=False)
    assert session.invalid == {"RandomizePageGroups", "ContourVisibility"}
    assert session.randomize_page_groups is False and session.contour_visibility is None
    page = session.pages[0]
    assert page.invalid == {"PageGroup", "ContourToolRadius"} and page.loop is True
    assert page.page_group is None and page.contour_tool_radius is None
    image = page.images[0]
    assert image.invalid == {"Opacity", "WindowLevel", "DicomRead", "DefaultDestination"}
    assert (image.opacity, image.window_level, image.dicom_read, image.destination) == (None, None, False, None)
    assert image.zoom_factor == 1.5
    question = page.question_sets[0].questions[0]
    assert question.invalid == {"GroupLayout"} and question.group_layout is None and question.min == "1"


def test_locations_are_exact_for_tags_sharing_a_line(tmp_path: Path) -> None:
    path = tmp_path / "s.xml"
    path.write_text(
        "<?xml version='1.0'?>\n<!-- <Page ID='comment'> -->\n<Session>\n"
        '<Page ID="a"><Image ID="x" Type="Volume"><Path>a.nrrd</Path></Image>'
        '<Image ID="y" Note="a>b" Type="Volume"><Path>b.nrrd</Path></Image><QuestionSet/></Page>\n'
        '<Page ID="b"/><Page ID="c">\n  <![CDATA[<Image>]]><QuestionSet>'
        '<Question Type="Radio"><Option>o</Option></Question></QuestionSet></Page>\n</Session>\n'
    )
    session = load_session(path, strict=False)
    first, second = session.pages[0].images
    assert (first.location.line, first.location.column) == (4, 14)
    assert (second.location.line, second.location.column) == (4, 69)
    assert (second.path_location.line, second.path_location.column) == (4, 108)  # type: ignore[union-attr]
    third = session.pages[2]
    assert (third.location.line, third.location.column) == (5, 15)
    option = third.question_sets[0].questions[0].options[0]
    assert (option.location.line, option.location.xpath) == (6, "/Session/Page[3]/QuestionSet[1]/Question[1]/Option[1]")


def test_location_is_immutable_and_copies_resolve(tmp_path: Path) -> None:
    path = tmp_path / "s.xml"
    path.write_text('<Session>\n  <Page ID="a"><QuestionSet/></Page></Session>')
    location = load_session(path, strict=False).pages[0].location
    eager = Location(str(path), 2, 3, "/Session/Page[1]")
    assert location == eager and hash(location) == hash(eager)
    assert copy.deepcopy(location) == eager and pickle.loads(pickle.dumps(location)) == eager
    try:
        location.file = "other"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("Location accepted an attribute assignment")


def test_namespaced_siblings_do_not_shift_locations(tmp_path: Path) -> None:
    path = tmp_path / "s.xml"
    path.write_text(
        '<Session xmlns:x="urn:x">\n<Page xmlns="urn:other" ID="n"><Page/></Page>\n<x:Page ID="p"/>\n'
        '<Page ID="real" xmlns=""><QuestionSet/></Page>\n</Session>\n'
    )
    (page,) = load_session(path, strict=False).pages
    assert (page.id, page.location.line, page.location.column) == ("real", 4, 1)
