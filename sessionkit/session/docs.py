"""Generators of ``docs/errors.md`` (from the rule table) and ``docs/session-reference.md`` (from the XSD).

Both pages are generated, never edited by hand; ``tests/session/test_docs.py`` fails when a
committed page differs from what these functions produce. Regenerate with
``python -m sessionkit.session.docs docs/``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lxml import etree

from sessionkit.session.codes import IQ_ERRORS, RULES, severity
from sessionkit.session.findings import PROBLEMS_PER_CODE
from sessionkit.session.model import BUTTON_ACTIONS
from sessionkit.session.schema import element_specs, schema_path

_XS = "{http://www.w3.org/2001/XMLSchema}"

#: Short bad examples for codes without a file in the invalid-session corpus.
EXAMPLES: dict[str, str] = {
    "SK101": "sessionkit validate no/such/session.xml",
    "SK107": "(the installed package lacks sessionkit/schemas/session.xsd)",
    "SK301": '<Session ROIColorFile="zones.txt">',
    "SK303": '<Session EmailResultsTo="me@example.org">',
    "SK304": "<Option>Yes<Response>Y</Response></Option>",
    "SK404": '<Page ID="CON" Descriptor="trailing dot.">',
    "SK405": '<Page ID="A" Descriptor="x"> … <Page ID="A" Descriptor="x">',
    "SK406": '<Page ID="Case1-Rep2">',
    "SK415": '<Page Layout="OneUpRedSlice"> … <DefaultDestination>Green</DefaultDestination>',
    "SK419": '<Page ButtonScriptRerunRequired="Y" AllowMultipleResponse="Y"> (no Button question)',
    "SK420": '<Page ContourToolRadius="5"> (EnableSegmentEditor absent)',
    "SK421": "<Layer>Foreground</Layer> in a viewport without a Background image",
    "SK422": '<Page ID="a very long page id …" Descriptor="… 200 characters …">',
    "SK427": '<Page EnableSegmentEditor="N"> … <Image Type="Volume" StartingContourID="Organs">',
    "SK504": "<Path> ct.nrrd </Path>",
    "SK505": "<Image> without <DefaultDestination>",
    "SK506": "<Image> without <Layer>",
    "SK507": '<Image Type="Volume"> without <DefaultOrientation>',
    "SK511": '<Image Type="Volume"><ROIs ROIVisibilityCode="All"/></Image>',
    "SK512": "<ROI>heart</ROI><ROI>heart</ROI>",
    "SK514": '<Image Type="Vector"><Path>slide.pdf</Path>',
    "SK519": '<Image Opacity="0.3"><Layer>Background</Layer>',
    "SK520": '<Image ColorTable="grey">',
    "SK521": '<Image WindowLevel="0 40">',
    "SK522": '<Image Type="RTStruct"> (DicomRead absent)',
    "SK523": '<Image Type="Segmentation" LabelMapID="x">',
    "SK524": '<Image ID="Organs" Type="Segmentation" StartingContourID="Organs">',
    "SK601": '<Question Type="Radio" Descriptor="Grade"/>',
    "SK604": '<Question Type="Text" Min="1">',
    "SK605": '<Question Type="Text" GroupLayout="Horizontal">',
    "SK606": '<Question Type="Radio" ButtonCustomColorOn="1 2 3">',
    "SK607": '<Question Type="Button" ButtonCustomColorOn="300 0 0">',
    "SK608": '<Question Type="Radio"><Option></Option>',
    "SK609": "<Option>Yes</Option><Option>Yes</Option>",
    "SK610": '<Question Type="Radio"> (no Descriptor)',
    "SK612": '<Question Type="Button"><Option>unregistered.py</Option>',
    "SK701": '<Session RandomizePageGroups="Y"><Page ID="A"> (no PageGroup)',
    "SK703": '<Page PageGroup="-1">',
    "SK705": "<RandomizedPageGroupIndices>2</RandomizedPageGroupIndices> (group 1 exists)",
    "SK706": "<RandomizedPageGroupIndices>1,2,9</RandomizedPageGroupIndices>",
    "SK707": "<RandomizedPageGroupIndices>0,2,1</RandomizedPageGroupIndices>",
    "SK708": '<Session RandomizePageGroups="N"> … <RandomizedPageGroupIndices>',
    "SK711": '<Page GoToBookmark="start Go back now">',
    "SK712": '<Page BookmarkID="b"> … <Page BookmarkID="b">',
    "SK716": 'two <Image> elements of one Path, only one with DisplayLabelMapID="x"',
    "SK717": '<Image LabelMapID="x"><Path>a.nrrd</Path> … <Image LabelMapID="x"><Path>b.nrrd</Path>',
    "SK724": 'merge source <Page Loop="Y"> without EnableSegmentEditor="Y"',
    "SK802": "<Path>data\\ct.nrrd</Path> while the file is Data/CT.nrrd",
    "SK803": "<Path>ct.nrrd</Path> where ct.nrrd is a link to /etc/…",
    "SK804": "<Image Type=\"Volume\"><Path>notes.txt</Path> (or a ct.nii.gz cut short by an interrupted copy)",
    "SK805": '<Image Type="LabelMap"> on a float image',
    "SK806": '<Image DicomRead="Y"><Path>ct.nrrd</Path>',
    "SK807": "RTStruct referencing a series that is not on the page",
    "SK808": "label map on a 1 mm grid over a 0.8 mm CT",
    "SK809": "segmentation of another patient position (no overlap)",
    "SK810": "<ROI>Heart</ROI> while the file names it heart",
    "SK811": '<Image InitialSliceOffset="900"> on a 300 mm volume',
    "SK816": "1 a 255 0 0 255 / 1 b 0 255 0 255 (id 1 twice)",
    "SK817": "2 edema 0 300 0 255",
}


def _corpus_example(code: str, corpus: Path | None) -> tuple[str, str] | None:
    if corpus is None:
        return None
    for expected in sorted(corpus.glob(f"{code.lower()}-*.expected.json")):
        data = json.loads(expected.read_text(encoding="utf-8"))
        hit = next((p for p in data["problems"] if p["code"] == code), None)
        if hit is None:
            continue
        target = corpus / hit["file"]
        try:
            lines = target.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return "(binary or undecodable bytes)", expected.name.replace(".expected.json", ".xml")
        line = hit["line"] or 1
        snippet = "\n".join(lines[line - 1 : line + 4])
        return snippet[:600], expected.name.replace(".expected.json", ".xml")
    return None


def render_errors_md(corpus: Path | None = None) -> str:
    """Markdown of every rule code: severity, scope, condition, a bad example and the fix.

    Parameters
    ----------
    corpus : Path, optional
        The invalid-session corpus; its files supply examples for the codes they cover.
    """
    out = [
        "# Validation error codes",
        "",
        "Generated by `python -m sessionkit.session.docs docs/` from the rule table",
        "(`sessionkit/session/codes.py`, i.e. validation-rules.md §2 plus SK211, SK424, SK425–SK427, SK524 and"
        " SK820); do not edit.",
        "",
        "## Dialects",
        "",
        "`sessionkit validate --dialect sessionkit` (the default; `validate_session(..., dialect=\"sessionkit\")`)"
        " reports every code with the severity below.",
        "`--dialect iq` (`dialect=\"iq\"`) fails where Image Quizzer 3.4.3 refuses to run the file, for teams"
        " that author for Image Quizzer and check in CI:",
        "",
        f"- {', '.join(sorted(IQ_ERRORS))} become **errors**, with the same code, message and location"
        " (they cannot be disabled with `--disable` then);",
        "- every sessionkit extension that Image Quizzer's XSD does not define is reported as [SK211](#sk211);",
        "- every other code keeps its severity.",
        "",
        "## Long reports",
        "",
        f"A file lists at most {PROBLEMS_PER_CODE} problems per code; the rest are counted on one line per code,"
        " e.g. `study.xml: … and 19,950 more SK202 errors (the first 50 of each code are listed)`, and in the"
        " summary line. `--format json` gives them per file as"
        ' `"omitted": [{"code": "SK202", "severity": "error", "count": 19950}]`, `junit` as one testcase'
        " `SK202 omitted`, `github` and `sarif` as one command or result per code;"
        " `ValidationResult.omitted` maps code to count.",
        "",
        "| code | severity | with `--dialect iq` | scope |",
        "|---|---|---|---|",
    ]
    out += [
        f"| [{c}](#{c.lower()}) | {_default_severity(c)} | {severity(c, 'iq')} | {r.scope} |" for c, r in RULES.items()
    ]
    for code, rule in RULES.items():
        shown: str = "error with `--dialect iq` only" if code == "SK211" else rule.severity
        if code in IQ_ERRORS:
            shown += " (error with `--dialect iq`)"
        out += ["", f"## {code}", "", f"**{shown}**, scope `{rule.scope}`, origin {rule.origin}.", ""]
        out += [rule.condition + ".", ""]
        example = _corpus_example(code, corpus)
        if example is not None:
            snippet, name = example
            out += [f"Bad (`tests/data/sessions/invalid/{name}`):", "", "```xml", snippet, "```"]
        else:
            out += ["Bad:", "", "```", EXAMPLES.get(code, "(see the condition above)"), "```"]
        out += ["", f"Fix: {rule.hint}."]
        if code == "SK612":
            out += ["", "Registered actions (`sessionkit.session.BUTTON_ACTIONS`):", "", *_button_action_lines()]
    return "\n".join(out) + "\n"


def _default_severity(code: str) -> str:
    """Severity in the default dialect; "not reported" for SK211, which only ``--dialect iq`` checks."""
    return "not reported" if code == "SK211" else RULES[code].severity


def _button_action_lines() -> list[str]:
    return [f"- `{name}`: {what}." for name, what in sorted(BUTTON_ACTIONS.items())]


def _doc(node: etree._Element) -> str:
    text = node.findtext(f"{_XS}annotation/{_XS}documentation")
    return " ".join((text or "").split())


def render_session_reference_md(xsd: Path | None = None) -> str:
    """Markdown reference of every element and attribute, from the XSD's annotations."""
    doc = etree.parse(str(xsd or schema_path()))
    specs = element_specs(doc)
    out = [
        "# Session file reference",
        "",
        "Generated by `python -m sessionkit.session.docs docs/` from `schemas/session.xsd`; do not edit.",
        "Semantics and decisions: session-format.md; checks: [errors.md](errors.md).",
    ]
    for element in doc.getroot().iter(f"{_XS}element"):
        name = element.get("name")
        if name is None:
            continue
        out += ["", f"## `{name}`", "", _doc(element) or "(no description)"]
        ctype = element.find(f"{_XS}complexType")
        if ctype is None:
            kind = element.get("type")
            if kind:
                out += ["", f"Text content of type `{kind}`."]
            continue
        children = specs[name].children if name in specs else ()
        if children:
            out += ["", "Children: " + ", ".join(f"`{c}`" for c in children) + "."]
        attributes = list(ctype.iterchildren(f"{_XS}attribute"))
        if attributes:
            out += ["", "| attribute | type | use | default | description |", "|---|---|---|---|---|"]
            for attribute in attributes:
                out.append(
                    f"| `{attribute.get('name')}` | {attribute.get('type', 'string')} | "
                    f"{attribute.get('use', 'optional')} | {attribute.get('default', '')} | {_doc(attribute)} |"
                )
    out += [
        "",
        "## Button actions",
        "",
        "A `Button` question's `Option` names a server action by file name (D9): sessionkit never runs",
        "code from a session. The registered actions (`sessionkit.session.BUTTON_ACTIONS`) are below;",
        "any other name is kept, the button only records the click, and validation warns (SK612).",
        "",
        *_button_action_lines(),
    ]
    types = list(doc.getroot().iterchildren(f"{_XS}simpleType"))
    out += ["", "## Value types", "", "| type | values |", "|---|---|"]
    for simple in types:
        values = [e.get("value") for e in simple.iter(f"{_XS}enumeration")]
        facets = [f"{f.tag.replace(_XS, '')}={f.get('value')}" for f in simple.iter() if f.get("value") is not None]
        base = next((r.get("base") or r.get("itemType") for r in simple.iter(f"{_XS}restriction", f"{_XS}list")), "")
        shown = ", ".join(f"`{v}`" for v in values) if values else f"{base} {' '.join(facets)}".strip()
        escaped = shown.replace("|", "\\|")
        out.append(f"| `{simple.get('name')}` | {escaped} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """Write errors.md and session-reference.md into the folder ``argv[0]`` (default ``docs``)."""
    folder = Path(argv[0] if argv else "docs")
    corpus = Path(__file__).resolve().parents[2] / "tests" / "data" / "sessions" / "invalid"
    (folder / "errors.md").write_text(render_errors_md(corpus if corpus.is_dir() else None), encoding="utf-8")
    (folder / "session-reference.md").write_text(render_session_reference_md(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
