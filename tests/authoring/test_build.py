"""``sessionkit build``: a session from a case list of real corpus images and a page template."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sessionkit.cli import main
from sessionkit.errors import SessionError
from sessionkit.io import read_image
from sessionkit.io.discover import discover_cases
from sessionkit.scene.loading import ImageCache, resolve_image_path
from sessionkit.scene.probe import probe_image
from sessionkit.scene.resolve import resolve_page
from sessionkit.session import load_session, validate_session
from sessionkit.session.authoring import build_session, render_session
from sessionkit.session.fmt import format_session

PAGE = """<Page ID="{case_id}">
  <!-- one case -->
  <Image ID="image" Type="Volume"><Path>{image}</Path><Layer>Background</Layer>
    <DefaultDestination>Red</DefaultDestination><DefaultOrientation>Axial</DefaultOrientation></Image>
  <Image ID="label" Type="LabelMap"><Path>{label}</Path><Layer>Label</Layer>
    <DefaultDestination>Red</DefaultDestination></Image>
  <QuestionSet ID="q" Descriptor="{question}"><Question Type="Radio" Descriptor="Lesion present?">
    <Option>Yes</Option><Option>No</Option></Question></QuestionSet>
</Page>
"""
#: The pyradiomics NRRD image/label pairs of the corpus (set C).
PAIRS = {
    "brain1": ("brain1_image.nrrd", "brain1_label.nrrd"),
    "breast1": ("breast1_image.nrrd", "breast1_label.nrrd"),
    "prostate": ("prostate_phantom_subvolume.nrrd", "prostate_phantom_subvolume-label.nrrd"),
}


def _build(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _case_list(path: Path, root: Path, rows: list[dict[str, str]] | None = None) -> Path:
    rows = rows or [
        {
            "case_id": case,
            "image": str(root / image),  # absolute: written relative to --images-root
            "label": label,  # relative: taken as relative to --images-root
            "question": f"Findings <{case}> & more",
            "modality": "MR" if case == "brain1" else "CT",
            "truth": str(n % 2),
        }
        for n, (case, (image, label)) in enumerate(PAIRS.items())
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_build_from_corpus_case_list_validates_and_resolves(corpus: Path, tmp_path: Path) -> None:
    """The built session validates with files, each page shows its case's images, and the design
    table maps pages to cases with the case list's modality and truth."""
    root = corpus / "C-nrrd-labelmap-pyradiomics"
    cases = _case_list(tmp_path / "cases.csv", root)
    (tmp_path / "page.xml").write_text(PAGE, encoding="utf-8")
    study, design = tmp_path / "study.xml", tmp_path / "design.csv"
    code, output = _build(
        str(cases), "--template", str(tmp_path / "page.xml"), "-o", str(study), "--images-root", str(root),
        "--design-out", str(design),
    )  # fmt: skip
    assert code == 0, output
    assert f"wrote {study}: 3 page(s) for 3 case(s)" in output
    assert [p for p in validate_session(study, images_root=root, probe=probe_image) if p.is_error] == []
    text = study.read_text(encoding="utf-8")
    assert format_session(text.encode("utf-8")).changed is False  # formatted like fmt writes it
    assert "<!-- one case -->" in text
    session = load_session(study)
    assert [page.id for page in session.pages] == list(PAIRS)
    assert session.pages[0].question_sets[0].descriptor == "Findings <brain1> & more"  # escaped, read back
    cache = ImageCache(root)
    for page, (image, label) in zip(session.pages, PAIRS.values(), strict=True):
        scene = resolve_page(session, page, cache.get)
        files = {source.image_type: resolve_image_path(root, source.path) for source in scene.volumes}
        assert files == {"Volume": root.resolve() / image, "LabelMap": root.resolve() / label}
        volume = cache.get(next(s for s in scene.volumes if s.image_type == "Volume"))
        assert volume.grid.spatial_shape == read_image(root / image).grid.spatial_shape
    with design.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"page_id": "brain1", "case_id": "brain1", "modality": "MR", "truth": "0"},
        {"page_id": "breast1", "case_id": "breast1", "modality": "CT", "truth": "1"},
        {"page_id": "prostate", "case_id": "prostate", "modality": "CT", "truth": "0"},
    ]


def test_missing_column_names_column_and_row(corpus: Path, tmp_path: Path) -> None:
    root = corpus / "C-nrrd-labelmap-pyradiomics"
    rows = [{"case_id": "brain1", "image": "brain1_image.nrrd", "question": "Q"}]
    cases = _case_list(tmp_path / "cases.csv", root, rows)
    (tmp_path / "page.xml").write_text(PAGE, encoding="utf-8")
    study = tmp_path / "study.xml"
    code, output = _build(str(cases), "--template", str(tmp_path / "page.xml"), "-o", str(study))
    assert code == 2
    assert "{label}" in output and f"{cases} line 2 (case 'brain1')" in output
    assert not study.exists()


def test_absolute_path_outside_images_root_is_refused(corpus: Path, tmp_path: Path) -> None:
    outside = str(corpus / "D-segnrrd-slicerio" / "CTChest4.nrrd")
    rows = [{"case_id": "c1", "image": outside, "label": "x", "question": "Q"}]
    (tmp_path / "page.xml").write_text(PAGE, encoding="utf-8")
    with pytest.raises(SessionError, match="outside the images root"):
        render_session(rows, tmp_path / "page.xml", images_root=corpus / "C-nrrd-labelmap-pyradiomics")


SESSION_TEMPLATE = """<Session ContourVisibility="Fill">
  <Page ID="welcome"><QuestionSet ID="i" Descriptor="Welcome"><Question Type="InfoBox" Descriptor="Hi">
    <Option>Read each case.</Option></Question></QuestionSet></Page>
  <Page ID="read"><Image ID="ct" Type="Volume"><Path>{ct}</Path></Image><QuestionSet/></Page>
  <Page ID="draw" EnableSegmentEditor="Y"><Image ID="ct" Type="Volume"><Path>{ct}</Path></Image><QuestionSet/></Page>
  <Page ID="thanks"><QuestionSet ID="t" Descriptor="Done"/></Page>
</Session>
"""


def test_session_template_randomize_and_seed(tmp_path: Path) -> None:
    """A whole-session template: fixed pages once, the block per case, one PageGroup per case with
    --randomize (group 0 first), the case order shuffled reproducibly by --shuffle-seed."""
    (tmp_path / "study.xml").parent.mkdir(exist_ok=True)
    template = tmp_path / "template.xml"
    template.write_text(SESSION_TEMPLATE, encoding="utf-8")
    rows = [{"case_id": f"c{n}", "ct": f"c{n}.nrrd"} for n in range(1, 6)]
    first = render_session(rows, template, randomize=True, shuffle_seed=7)
    assert first.text == render_session(rows, template, randomize=True, shuffle_seed=7).text
    study = tmp_path / "study.xml"
    study.write_text(first.text, encoding="utf-8")
    session = load_session(study)
    assert session.randomize_page_groups and session.contour_visibility == "Fill"
    ids = [page.id for page in session.pages]
    assert ids[0] == "welcome" and ids[-1] == "thanks" and len(ids) == 12
    order = [page_id.split("-")[0] for page_id in ids[1:-1:2]]
    assert sorted(order) == [f"c{n}" for n in range(1, 6)] and order != sorted(order)  # shuffled
    assert ids[1:3] == [f"{order[0]}-read", f"{order[0]}-draw"]
    groups = [page.page_group for page in session.pages]
    assert groups == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]


def test_discover_finds_each_dicom_series(corpus: Path, tmp_path: Path) -> None:
    """--discover on a folder of case folders of DICOM series: one typed column per image series and
    structure set, and a session built on them validates with files."""
    cases = tmp_path / "cases"
    shutil.copytree(corpus / "A1-rtstruct-ibsi-ct-phantom" / "dicom", cases / "ibsi")
    sts = corpus / "A2-rtstruct-sts002-ct-mr-pet"
    shutil.copytree(sts / "CT" / "dicom", cases / "sts")
    shutil.copytree(sts / "PET" / "dicom" / "image", cases / "sts" / "pet")
    rows = discover_cases(cases)
    assert [row["case_id"] for row in rows] == ["ibsi", "sts"]
    ibsi, sts_row = rows
    assert set(ibsi) == {"case_id"} | {f"{n}{s}" for n in ("ct", "rtstruct") for s in ("", "_type", "_dicom")}
    assert {k: sts_row[k] for k in ("ct_type", "ct_dicom", "pt_type", "pt_dicom", "rtstruct_type")} == {
        "ct_type": "Volume", "ct_dicom": "Y", "pt_type": "Volume", "pt_dicom": "Y", "rtstruct_type": "RTStruct",
    }  # fmt: skip
    assert Path(sts_row["ct"]).parent == (cases / "sts" / "image").resolve()
    assert Path(sts_row["pt"]).parent == (cases / "sts" / "pet").resolve()
    (tmp_path / "page.xml").write_text(
        """<Page ID="{case_id}">
  <Image ID="ct" Type="{ct_type}" DicomRead="{ct_dicom}"><Path>{ct}</Path><Layer>Background</Layer>
    <DefaultDestination>Red</DefaultDestination><DefaultOrientation>Axial</DefaultOrientation></Image>
  <Image ID="rt" Type="{rtstruct_type}" DicomRead="{rtstruct_dicom}"><Path>{rtstruct}</Path>
    <Layer>Segmentation</Layer><DefaultDestination>Red</DefaultDestination><ROIs ROIVisibilityCode="All"/></Image>
  <QuestionSet/>
</Page>""",
        encoding="utf-8",
    )
    study = tmp_path / "study.xml"
    code, output = _build("--discover", str(cases), "--template", str(tmp_path / "page.xml"), "-o", str(study))
    assert "case sts: rtstruct (RTStruct), ct (Volume), pt (Volume)" in output
    assert code == 0, output
    assert f"--images-root {cases}" in output
    assert [p for p in validate_session(study, images_root=cases, probe=probe_image) if p.is_error] == []
    session = load_session(study)
    assert [image.path for page in session.pages for image in page.images] == [
        "ibsi/image/DCM_IMG_00000.dcm",
        "ibsi/mask/DCM_RS_00060.dcm",
        "sts/image/000000.dcm",
        "sts/mask/RS.dcm",
    ]


def test_python_api_writes_and_validates(corpus: Path, tmp_path: Path) -> None:
    root = corpus / "C-nrrd-labelmap-pyradiomics"
    (tmp_path / "page.xml").write_text(PAGE, encoding="utf-8")
    rows = [{"case_id": "b", "image": "brain1_image.nrrd", "label": "missing.nrrd", "question": "Q"}]
    result = build_session(rows, tmp_path / "page.xml", tmp_path / "s.xml", images_root=root)
    assert result.output.is_file() and result.pages == 1
    assert [p.code for p in result.problems if p.is_error] == ["SK801"]  # the missing label file


def test_one_row_per_case_and_modality(tmp_path: Path) -> None:
    """An MRMC case list (a row per case and reading condition): the template's ID names the modality;
    the design table maps each page to its case and modality. Two rows giving one page ID are refused."""
    template = tmp_path / "page.xml"
    template.write_text('<Page ID="{case_id}-{modality}"><Image ID="i" Type="Volume"><Path>{image}</Path></Image>'
                        "<QuestionSet/></Page>", encoding="utf-8")  # fmt: skip
    rows = [
        {"case_id": case, "modality": modality, "image": f"{case}_{modality}.nrrd", "truth": truth}
        for case, truth in (("c1", "1"), ("c2", "0"))
        for modality in ("CT", "CTAI")
    ]
    rendered = render_session(rows, template)
    assert [(r["page_id"], r["case_id"], r["modality"]) for r in rendered.design] == [
        ("c1-CT", "c1", "CT"), ("c1-CTAI", "c1", "CTAI"), ("c2-CT", "c2", "CT"), ("c2-CTAI", "c2", "CTAI"),
    ]  # fmt: skip
    template.write_text('<Page ID="{case_id}"><Image ID="i" Type="Volume"><Path>{image}</Path></Image>'
                        "<QuestionSet/></Page>", encoding="utf-8")  # fmt: skip
    with pytest.raises(SessionError, match=r"case 2 \(case 'c1'\): page ID 'c1' was already written for case 1"):
        render_session(rows, template)


def test_literal_braces_and_escaping(tmp_path: Path) -> None:
    """``{{``/``}}`` write braces; values with XML specials are escaped and read back unchanged."""
    template = tmp_path / "page.xml"
    template.write_text('<Page ID="{case_id}"><QuestionSet ID="q" Descriptor="{{not a column}} {note}"/></Page>',
                        encoding="utf-8")  # fmt: skip
    rendered = render_session([{"case_id": "c1", "note": "a<b & \"c\" 'd'"}], template)
    study = tmp_path / "s.xml"
    study.write_text(rendered.text, encoding="utf-8")
    session = load_session(study, strict=False)
    assert session.pages[0].question_sets[0].descriptor == "{not a column} a<b & \"c\" 'd'"
