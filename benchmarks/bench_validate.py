"""Structure-and-semantics pass vs schema validation alone (issue #4; target: ratio to lxml <= 3x).

Run: python benchmarks/bench_validate.py [--pages N] [--repeat N]
Generates a session of N pages (default 2,000), each with three images (CT, PET, a segmentation with
``ROIVisibilityCode="Select"``) and one question set (Radio + IntegerValue), then times in one process,
alternately, best of ``--repeat``:

* ``validate_session(path, check_files=False)`` (parse, XSD, model, every semantic rule);
* lxml parsing plus ``lxml.etree.XMLSchema`` validation of the same file with the bundled XSD;
* ``xmlschema.XMLSchema.validate`` of the same file (fewer repeats: it is slow).

Prints each time and both ratios (sessionkit / lxml, sessionkit / xmlschema).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import xmlschema
from _timing import best_of
from lxml import etree

from sessionkit.session import schema_path, validate_session

_IMAGES = (
    ("CT", "Volume", "<DefaultOrientation>Axial</DefaultOrientation><Layer>Background</Layer>", ""),
    ("PET", "Volume", "<DefaultOrientation>Axial</DefaultOrientation><Layer>Foreground</Layer>", ""),
    ("Seg", "Segmentation", "<Layer>Segmentation</Layer>", '<ROIs ROIVisibilityCode="Select"><ROI>GTV</ROI></ROIs>'),
)
_QUESTIONS = (
    '<QuestionSet ID="q" Descriptor="Assessment">'
    '<Question Type="Radio" Descriptor="Malignant"><Option>Yes</Option><Option>No</Option></Question>'
    '<Question Type="IntegerValue" Descriptor="Score" Min="1" Max="5"><Option>Score:</Option></Question>'
    "</QuestionSet>"
)


def session_text(pages: int) -> str:
    """A valid session of ``pages`` pages, three images and one question set each (Windows paths)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<Session RandomizePageGroups="Y">']
    for number in range(1, pages + 1):
        parts.append(f'<Page ID="Case{number:04d}" Descriptor="Read" PageGroup="{1 + number % 10}">')
        for image_id, image_type, display, rois in _IMAGES:
            parts.append(
                f'  <Image ID="{image_id}" Type="{image_type}"><Path>cases\\case{number:04d}\\{image_id}.nrrd</Path>'
                f"<DefaultDestination>Red</DefaultDestination>{display}{rois}</Image>"
            )
        parts.append(f"  {_QUESTIONS}\n</Page>")
    parts.append("</Session>\n")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "session.xml"
        path.write_text(session_text(args.pages), encoding="utf-8")
        lxml_schema = etree.XMLSchema(etree.parse(str(schema_path())))
        other_schema = xmlschema.XMLSchema(str(schema_path()))
        problems = validate_session(path, check_files=False)
        if any(p.is_error for p in problems):
            raise SystemExit(f"generated session is not valid: {problems[0].format_text()}")

        def lxml_alone() -> None:
            tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
            if not lxml_schema.validate(tree):
                raise SystemExit(f"lxml rejects the generated session: {lxml_schema.error_log}")

        ours_times, lxml_times = [], []
        for _ in range(args.repeat):
            ours_times.append(best_of(1, lambda: validate_session(path, check_files=False)))
            lxml_times.append(best_of(1, lxml_alone))
        ours, peer = min(ours_times), min(lxml_times)
        other = best_of(max(1, args.repeat // 3), lambda: other_schema.validate(str(path)))
        size = path.stat().st_size / 1e6
        print(f"{args.pages} pages, {3 * args.pages} images, {size:.2f} MB, {len(problems)} warnings")
        print(f"validate_session(check_files=False) {ours * 1000:9.1f} ms")
        print(f"lxml parse + XMLSchema              {peer * 1000:9.1f} ms   ratio {ours / peer:6.2f}x (target <= 3x)")
        print(f"xmlschema validate                  {other * 1000:9.1f} ms   ratio {ours / other:6.2f}x")


if __name__ == "__main__":
    main()
