"""session.xsd accepts everything Image Quizzer v3.4.3's XSD accepts (session-format §11).

IQ's XSD is not vendored; its attribute types are restated below (from session-format §3–§7 and §11)
and every type is exercised with the lexical edge forms XSD allows for it (``.5``, ``+3``, ``1e2``,
``INF``, padded integers, …), every enumeration value, and Image children in every order.
"""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from sessionkit.session.schema import load_schema

YN = ["Y", "N"]
INTEGER = ["0", "+3", "-2", " 7 ", "007", "99999999999999999999"]
POSITIVE = ["1", "+3", "0012", " 5 "]
FLOAT = [".5", "+3", "1e2", "INF", "-INF", "NaN", "-0", "1.", " 2.5 ", "1E-3"]
STRING = ["", "a b", "x&amp;y"]
#: (element, attribute) -> values IQ's XSD accepts.
IQ_ATTRIBUTES: dict[tuple[str, str], list[str]] = {
    ("Session", "ROIColorFile"): STRING,
    ("Session", "RandomizePageGroups"): YN,
    ("Session", "ContourVisibility"): ["Fill", "Outline"],
    ("Session", "EmailResultsTo"): STRING,
    ("Page", "Descriptor"): STRING,
    ("Page", "LinkViews"): YN,
    ("Page", "Layout"): ["FourUp", "TwoOverTwo", "OneUpRedSlice", "SideBySideRedYellow"],
    ("Page", "PageGroup"): INTEGER,
    ("Page", "AllowMultipleResponse"): YN,
    ("Page", "EnableSegmentEditor"): YN,
    ("Page", "SegmentRequiredOnAnyImage"): YN,
    ("Page", "MinMarkupLinesRequiredOnAnyImage"): POSITIVE,
    ("Page", "Loop"): YN,
    ("Page", "UserInteractionLog"): YN,
    ("Page", "GoToBookmark"): ["", "b", "b Back", "b go back now"],
    ("Page", "BookmarkID"): STRING,
    ("Page", "ContourToolRadius"): FLOAT,
    ("Page", "ButtonScriptRerunRequired"): YN,
    ("Image", "Type"): ["Volume", "VolumeSequence", "LabelMap", "Segmentation", "RTStruct", "Vector"],
    ("Image", "DicomRead"): YN,
    ("Image", "LabelMapID"): STRING,
    ("Image", "DisplayLabelMapID"): STRING,
    ("Image", "RotateToAcquisition"): YN,
    ("Image", "ColorTable"): ["Grey", "anything"],
    ("Image", "Opacity"): ["0", "1", ".5", "1e-1", "+0.25", " 0.3 "],
    ("Image", "SegmentRequired"): YN,
    ("Image", "MinMarkupLinesRequired"): POSITIVE,
    ("Image", "InitialSliceOffset"): FLOAT,
    ("Image", "MergeLabelMaps"): YN,
    ("Image", "ZoomFactor"): FLOAT,
    ("Image", "PanOrigin"): [".5 +3 1e2", "INF -INF NaN", " 1  2  3 "],
    ("Image", "WindowLevel"): ["+1 -2", " 400  50 ", "2147483647 -2147483648"],
    ("ROIs", "ROIVisibilityCode"): ["All", "None", "Select", "Ignore"],
    ("QuestionSet", "ID"): STRING,
    ("QuestionSet", "Descriptor"): STRING,
    ("Question", "Type"): ["Radio", "CheckBox", "Text", "IntegerValue", "FloatValue", "InfoBox", "Picture", "Button"],
    ("Question", "Descriptor"): STRING,
    ("Question", "Min"): ["x", "1", ""],
    ("Question", "Max"): ["x", "1", ""],
    ("Question", "GroupLayout"): ["Vertical", "Horizontal"],
    ("Question", "ButtonCustomColorOn"): ["1 2 3", "+255 0 -0"],
    ("Question", "ButtonToggleColorOff"): ["1 2 3"],
    ("Option", "LoginTime"): STRING,
    ("Option", "ResponseTime"): STRING,
}
CHILDREN = [
    "<Path>a\\b.nrrd</Path>",
    "<DefaultDestination>Slice4</DefaultDestination>",
    "<DefaultOrientation>Coronal</DefaultOrientation>",
    "<Layer>Foreground</Layer>",
    '<ROIs ROIVisibilityCode="Select"><ROI>x</ROI><ROI/></ROIs>',
]
BASE = """<Session><Page ID="p"><Image ID="i" Type="Volume">{children}</Image>
<QuestionSet><Question Type="Radio"><Option>a<Response>Y</Response>b</Option></Question></QuestionSet>
</Page>{tail}</Session>"""


def _valid(xml: str) -> tuple[bool, list[str]]:
    schema = load_schema().schema
    ok = schema.validate(etree.fromstring(xml.encode()))
    return ok, [entry.message for entry in iter(schema.error_log)]  # type: ignore[call-overload]


CASES = [(element, attribute, value) for (element, attribute), values in IQ_ATTRIBUTES.items() for value in values]


@pytest.mark.parametrize(("element", "attribute", "value"), CASES)
def test_every_iq_attribute_value_is_accepted(element: str, attribute: str, value: str) -> None:
    document = etree.fromstring(BASE.format(children="".join(CHILDREN), tail="").encode())
    target = document if element == "Session" else next(document.iter(element))
    target.set(attribute, value.replace("&amp;", "&"))
    ok, errors = _valid(etree.tostring(document).decode())
    assert ok, errors


@pytest.mark.parametrize("order", list(itertools.permutations(range(5)))[::7])
def test_image_children_in_any_order(order: tuple[int, ...]) -> None:
    ok, errors = _valid(BASE.format(children="".join(CHILDREN[i] for i in order), tail=""))
    assert ok, errors


@pytest.mark.parametrize("indices", ["1", "3,1,2", "3, 1,2", "10,20"])
def test_randomized_page_group_indices(indices: str) -> None:
    tail = f"<RandomizedPageGroupIndices>{indices}</RandomizedPageGroupIndices>"
    assert _valid(BASE.format(children=CHILDREN[0], tail=tail))[0]


def test_question_set_only_pages_and_page_root() -> None:
    assert _valid('<Session><Page ID="p"><QuestionSet/><QuestionSet ID="b"/></Page></Session>')[0]
    assert _valid('<Page ID="p"><QuestionSet/></Page>')[0]  # IQ's XSD accepts it; SK106 is a rule


@pytest.mark.parametrize(
    ("element", "attribute", "value"),
    [("Page", "Loop", "y"), ("Page", "Layout", "fourup"), ("Image", "Opacity", "1.5"), ("Page", "PageGroup", "1_0")],
)
def test_values_iq_rejects_stay_rejected(element: str, attribute: str, value: str) -> None:
    document = etree.fromstring(BASE.format(children=CHILDREN[0], tail="").encode())
    next(document.iter(element)).set(attribute, value)
    assert not _valid(etree.tostring(document).decode())[0]
