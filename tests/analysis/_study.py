"""A small reader study: its session and design files, and its runs written by the real ReadingService."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sessionkit.responses.run_folder import utc_timestamp
from sessionkit.runner.service import ReadingService
from sessionkit.session import load_session

#: Pages: a training page, then cases 1-4 read without (CT) and with AI (AI).
CASE_PAGES = ("CT1", "CT2", "CT3", "CT4", "AI1", "AI2", "AI3", "AI4")
TRUTH = {"1": 0, "2": 0, "3": 1, "4": 1}
#: reader -> page -> (malignancy label 1..5, checkbox Y/N for mass, calcification, size in mm)
RATINGS: dict[str, dict[str, tuple[int, tuple[str, str], str]]] = {
    "alice": {"CT1": (1, ("N", "N"), "0"), "CT2": (3, ("Y", "N"), "8"), "CT3": (4, ("Y", "Y"), "21"),
              "CT4": (2, ("Y", "N"), "15"), "AI1": (1, ("N", "N"), "0"), "AI2": (2, ("Y", "N"), "9"),
              "AI3": (5, ("Y", "Y"), "22"), "AI4": (4, ("Y", "N"), "14")},
    "bob": {"CT1": (2, ("N", "N"), "0"), "CT2": (2, ("N", "N"), "0"), "CT3": (3, ("Y", "N"), "19"),
            "CT4": (3, ("Y", "N"), "16"), "AI1": (1, ("N", "N"), "0"), "AI2": (2, ("N", "Y"), "3"),
            "AI3": (4, ("Y", "N"), "20"), "AI4": (5, ("Y", "Y"), "15")},
    "carol": {"CT1": (1, ("N", "N"), "0"), "CT2": (4, ("Y", "N"), "10"), "CT3": (4, ("Y", "N"), "23"),
              "CT4": (5, ("Y", "Y"), "17"), "AI1": (2, ("N", "N"), "0"), "AI2": (1, ("N", "N"), "0"),
              "AI3": (5, ("Y", "Y"), "21"), "AI4": (5, ("Y", "N"), "16")},
}  # fmt: skip

QUESTIONS = """
    <QuestionSet ID="QS">
      <Question Type="Radio" Descriptor="Malignancy">{options}</Question>
      <Question Type="CheckBox" Descriptor="Findings">
        <Option>mass</Option><Option>calcification</Option><Option>none</Option>
      </Question>
      <Question Type="IntegerValue" Descriptor="Size" Min="0" Max="100"><Option>mm</Option></Question>
    </QuestionSet>"""


@dataclass(frozen=True)
class Study:
    """The results root, the design file and the readers who finished."""

    root: Path
    design: Path
    readers: tuple[str, ...]


def _one_hot(label: int) -> list[str]:
    return ["Y" if i == label else "N" for i in range(1, 6)]


def checkboxes(boxes: tuple[str, str]) -> list[str]:
    """mass, calcification, and "none" when neither (a CheckBox needs one option ticked)."""
    return [*boxes, "Y" if boxes == ("N", "N") else "N"]


def write_study_files(folder: Path) -> tuple[Path, Path]:
    """``study.xml`` (a training page and the eight case pages, no images) and ``design.csv`` in ``folder``."""
    options = "".join(f"<Option>{i}</Option>" for i in range(1, 6))
    pages = [f'<Page ID="Train">{QUESTIONS.format(options=options)}</Page>']
    pages += [f'<Page ID="{page}">{QUESTIONS.format(options=options)}</Page>' for page in CASE_PAGES]
    session_file = folder / "study.xml"
    session_file.write_text("<Session>" + "".join(pages) + "</Session>", encoding="utf-8")
    design = folder / "design.csv"
    design.write_text(
        "page_id,case_id,modality,truth\n"
        + "".join(f"{page},{page[-1]},{page[:2]},{TRUTH[page[-1]]}\n" for page in CASE_PAGES),
        encoding="utf-8",
    )
    return session_file, design


def run_study(tmp_path: Path, *, unfinished: str | None = None, started_s_before: float = 30.0) -> Study:
    """Three readers answer every page through ReadingService (the server's runner) and Finish.

    ``unfinished`` names a fourth reader who stops after the training page. Each question set is
    submitted with ``started_at`` ``started_s_before`` seconds before the save.
    """
    session_file, design = write_study_files(tmp_path)
    root = tmp_path / "runs"
    service = ReadingService(load_session(session_file), session_file, root)

    def submit(run_id: str, transition: str, answers: dict[str, list[str]]) -> None:
        started = utc_timestamp(datetime.now(UTC) - timedelta(seconds=started_s_before))
        version = service.current(run_id)["state_version"]
        service.submit(run_id, state_version=version, transition=transition, answers=answers, started_at=started)

    for reader, ratings in RATINGS.items():
        run_id = service.login(reader)["run_id"]
        submit(run_id, "next", {"1": _one_hot(3), "2": ["N", "N", "Y"], "3": ["1"]})
        for n, page in enumerate(CASE_PAGES):
            label, boxes, size = ratings[page]
            submit(run_id, "finish" if n == len(CASE_PAGES) - 1 else "next",
                   {"1": _one_hot(label), "2": checkboxes(boxes), "3": [size]})  # fmt: skip
    if unfinished:
        run_id = service.login(unfinished)["run_id"]
        submit(run_id, "next", {"1": _one_hot(2), "2": ["N", "N", "Y"], "3": ["1"]})
    return Study(root, design, tuple(RATINGS))
