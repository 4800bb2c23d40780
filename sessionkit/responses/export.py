"""Exports of run folders: CSV, JSON and Image Quizzer's results XML (reading-flow §14.1, C10).

Everything is derived from the run folder (``state.json``, both CSV logs, ``events.jsonl``, the
snapshot); rows past ``state.json``'s ``last_seq`` are not acknowledged and are left out.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from sessionkit.errors import ResponseLogError, SessionError
from sessionkit.responses.csvlog import RESPONSE_COLUMNS
from sessionkit.responses.paths import RunPaths
from sessionkit.responses.run_folder import RunFolder
from sessionkit.responses.state_file import write_bytes_atomic
from sessionkit.session import load_session
from sessionkit.session.model import Session

#: CSV event -> IQ ``Response@Event`` (reading-flow §14.1, D11: unpadded).
IQ_EVENT: dict[str, str] = {
    "next": "NextBtn",
    "finish": "Finish",
    "previous": "Previous",
    "repeat": "Repeat",
    "bookmark": "GoToBookmark",
    "exit": "ExitBtn",
    "autosave": "Exit ...X",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RunRecord:
    """One run folder read for export (acknowledged data only).

    Attributes
    ----------
    run_dir : Path
        ``<results root>/<reader_id>/<session_stem>``.
    state : dict
        ``state.json``.
    responses, annotations : list of dict
        CSV rows with ``seq <= last_seq``.
    events : list of dict
        ``events.jsonl`` records (unreadable lines skipped).
    """

    run_dir: Path
    state: dict[str, Any]
    responses: list[dict[str, str]]
    annotations: list[dict[str, str]]
    events: list[dict[str, Any]]


def find_runs(path: Path) -> list[Path]:
    """Run folders under ``path``: the folder itself, or every ``<reader>/<stem>`` of a results root (C10).

    Raises
    ------
    ResponseLogError
        When no run folder is found.
    """
    path = Path(path)
    if _is_run(path):
        return [path]
    runs = sorted(p.parent for p in path.glob("*/*/.sessionkit") if _is_run(p.parent))
    if not runs:
        raise ResponseLogError(f"No run folder (…/.sessionkit/ with state.json or its logs) under {path}")
    return runs


def _is_run(folder: Path) -> bool:
    """A run folder: its ``.sessionkit/`` has a state (current or kept) or a log (a lost state.json counts)."""
    return RunFolder(RunPaths(folder.parent.parent, folder.parent.name, folder.name)).exists()


def read_run(run_dir: Path) -> RunRecord:
    """Read one run folder without modifying it.

    The state and the acknowledged rows are those a resume would keep
    (:meth:`~sessionkit.responses.run_folder.RunFolder.committed_state`).

    Raises
    ------
    ResponseLogError
        When a log cannot be read.
    """
    run_dir = Path(run_dir)
    folder = RunFolder(RunPaths(run_dir.parent.parent, run_dir.parent.name, run_dir.name))
    committed = folder.committed_state()  # state.json, else a kept copy (issue 11)
    state, last_seq = committed.data or {}, committed.keep_seq
    responses = [r for r in folder.read_responses() if _seq(r) <= last_seq]
    annotations = [r for r in folder.read_annotations() if _seq(r) <= last_seq]
    events = folder.read_events()
    return RunRecord(run_dir, state, responses, annotations, events)


def _seq(row: Mapping[str, str]) -> int:
    try:
        return int(row["seq"])
    except (KeyError, ValueError) as exc:
        raise ResponseLogError(f"Log row without a readable seq: {exc}") from exc


def _escape(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(runs: Iterable[RunRecord], *, escape_formulas: bool = False) -> bytes:
    """Concatenate the runs' response rows into one CSV (header once, CRLF, UTF-8; §14.2).

    Parameters
    ----------
    runs : iterable of RunRecord
    escape_formulas : bool
        Prefix values starting with ``= + - @`` (or tab/CR) with ``'`` so spreadsheets do not run them.

    Returns
    -------
    bytes
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RESPONSE_COLUMNS)
    for run in runs:
        for row in run.responses:
            values = [row[c] for c in RESPONSE_COLUMNS]
            writer.writerow([_escape(v) for v in values] if escape_formulas else values)
    return buffer.getvalue().encode("utf-8")


def export_json(runs: Iterable[RunRecord]) -> dict[str, Any]:
    """JSON-ready summary: per run its state, responses, annotations and events."""
    return {
        "format": "sessionkit-runs/1",
        "runs": [
            {
                "run_dir": str(run.run_dir),
                "state": run.state,
                "responses": run.responses,
                "annotations": run.annotations,
                "events": run.events,
            }
            for run in runs
        ],
    }


def iq_time(timestamp: str) -> str:
    """``2025-01-31T14:05:09.123Z`` -> IQ's ``20250131_14:05:09.123000`` (UTC; reading-flow §14.1)."""
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return moment.astimezone(UTC).strftime("%Y%m%d_%H:%M:%S.%f")


def _load_snapshot(run: RunRecord) -> tuple[Session, etree._ElementTree]:
    snapshot = run.run_dir / ".sessionkit" / "snapshot.xml"
    try:
        session = load_session(snapshot, strict=False)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
        tree = etree.parse(str(snapshot), parser)
    except (SessionError, OSError, etree.XMLSyntaxError) as exc:
        raise ResponseLogError(f"Cannot read the run's snapshot {snapshot}: {exc}") from exc
    return session, tree


def _sub(parent: etree._Element, tag: str, attributes: Mapping[str, str], text: str | None = None) -> None:
    element = etree.SubElement(parent, tag, {k: v for k, v in attributes.items() if v is not None})
    if text:
        element.text = text


def build_iq_xml(run: RunRecord) -> bytes:
    """Image Quizzer's results XML for one run (reading-flow §14.1).

    Starts from the snapshot; adds ``UserName``; one ``Page`` per instance (copies ``<ID>-Rep<n>``
    without ``BookmarkID``) with ``PageGroup``, ``Rep`` (when any page loops) and ``PageComplete``;
    ``Response`` elements per written submission in ``seq`` order; ``State`` per viewer-state record;
    ``LabelMapPath``/``MarkupLinePath``; ``RandomizedPageGroupIndices``; ``Login`` elements.

    Returns
    -------
    bytes
        UTF-8 with XML declaration, tab indentation.

    Raises
    ------
    ResponseLogError
        When the snapshot or the state cannot be read.
    """
    session, tree = _load_snapshot(run)
    root = tree.getroot()
    machine = run.state.get("machine", {})
    logins = {str(x.get("login_id")): str(x.get("login_time") or "") for x in run.state.get("logins", [])}
    root.set("UserName", str(run.state.get("reader_id", "")))
    groups = session.effective_page_groups()
    loops = any(page.loop for page in session.pages)
    reps: dict[int, list[int]] = {}
    for page_index, rep in machine.get("instances", []):
        reps.setdefault(int(page_index), []).append(int(rep))
    complete = {(int(p), int(r)) for p, r in machine.get("complete", [])}
    entered = {(int(p), int(r)) for p, r in machine.get("entered", [])}
    by_option: dict[tuple[int, int, int, int, int], list[dict[str, str]]] = {}
    for row in sorted(run.responses, key=_seq):
        key = (
            int(row["page_index"]),
            int(row["repetition"]),
            int(row["question_set_index"]),
            int(row["question_index"]),
            int(row["option_index"]),
        )
        by_option.setdefault(key, []).append(row)
    first_saves = _first_saves(run.events)
    for page_index, element in enumerate(list(root.findall("Page")), start=1):
        anchor = element
        for rep in sorted(reps.get(page_index, [0])):
            instance = copy.deepcopy(element)
            if rep:
                instance.set("ID", f"{element.get('ID', '')}-Rep{rep}")
                if "BookmarkID" in instance.attrib:
                    del instance.attrib["BookmarkID"]
            instance.set("PageGroup", str(groups[page_index - 1]))
            if loops:
                instance.set("Rep", str(rep))
            if (page_index, rep) in entered:
                instance.set("PageComplete", "Y" if (page_index, rep) in complete else "N")
            _fill_page(instance, page_index, rep, by_option, first_saves, logins, run)
            anchor.addnext(instance)
            anchor = instance
        root.remove(element)
    order = machine.get("group_order")
    for stale in root.findall("RandomizedPageGroupIndices") + root.findall("Login"):
        root.remove(stale)  # replaced by the run's own values
    if order:
        _sub(root, "RandomizedPageGroupIndices", {}, ",".join(str(g) for g in order["order"]))
    login_list = run.state.get("logins", [])
    for number, login in enumerate(login_list, start=1):
        attributes = {
            "LoginTime": iq_time(login.get("login_time") or ""),
            "LogoutTime": iq_time(login.get("logout_time") or ""),
        }
        if number == len(login_list) and machine.get("run_complete"):
            attributes["QuizComplete"] = "Y"
        _sub(root, "Login", attributes)
    etree.indent(tree, space="\t")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _first_saves(events: Sequence[Mapping[str, Any]]) -> dict[tuple[int, int, int], Mapping[str, Any]]:
    """First accepted submission per (page_index, rep, question_set_index), from events.jsonl."""
    first: dict[tuple[int, int, int], Mapping[str, Any]] = {}
    for event in events:
        if event.get("kind") == "submission" and "page_index" in event:
            key = (int(event["page_index"]), int(event["rep"]), int(event["question_set_index"]))
            first.setdefault(key, event)
    return first


def _fill_page(
    page: etree._Element,
    page_index: int,
    rep: int,
    by_option: Mapping[tuple[int, int, int, int, int], list[dict[str, str]]],
    first_saves: Mapping[tuple[int, int, int], Mapping[str, Any]],
    logins: Mapping[str, str],
    run: RunRecord,
) -> None:
    for qs_index, question_set in enumerate(page.findall("QuestionSet"), start=1):
        first = first_saves.get((page_index, rep, qs_index))
        for q_index, question in enumerate(question_set.findall("Question"), start=1):
            informational = question.get("Type") in ("InfoBox", "Picture")
            for o_index, option in enumerate(question.findall("Option"), start=1):
                if informational:
                    if first is not None:
                        _sub(option, "Response", {
                            "LoginTime": iq_time(logins.get(str(first.get("login_id")), "")),
                            "ResponseTime": iq_time(str(first.get("saved_at", ""))),
                            "Event": IQ_EVENT.get(str(first.get("event")), ""),
                        })  # fmt: skip
                    continue
                for row in by_option.get((page_index, rep, qs_index, q_index, o_index), []):
                    attributes = {
                        "LoginTime": iq_time(logins.get(row["login_id"], "")),
                        "ResponseTime": iq_time(row["saved_at"]),
                        "Event": IQ_EVENT.get(row["event"], row["event"]),
                    }
                    _sub(option, "Response", attributes, row["value"])
    _fill_images(page, page_index, rep, logins, run)


def _fill_images(page: etree._Element, page_index: int, rep: int, logins: Mapping[str, str], run: RunRecord) -> None:
    rows = [r for r in run.annotations if r["page_index"] == str(page_index) and r["repetition"] == str(rep)]
    states = [
        e
        for e in run.events
        if e.get("kind") == "viewer_state" and e.get("page_index") == page_index and e.get("rep") == rep
    ]
    for image in page.findall("Image"):
        image_id = image.get("ID", "")
        mine = [r for r in rows if r["image_id"] == image_id]
        maps = [r for r in mine if r["kind"] in ("labelmap", "redisplay", "merge")]
        if maps:
            first = maps[0]
            _sub(image, "LabelMapPath", {
                "LoginTime": iq_time(_login_of(run, first["saved_at"])),
                "ResponseTime": iq_time(first["saved_at"]),
            }, first["file"].replace("/", "\\"))  # fmt: skip
        seen: set[str] = set()
        for line in (r for r in mine if r["kind"] == "line"):
            if line["file"] not in seen:
                seen.add(line["file"])
                _sub(image, "MarkupLinePath", {
                    "LoginTime": iq_time(_login_of(run, line["saved_at"])),
                    "ResponseTime": iq_time(line["saved_at"]),
                }, line["file"].replace("/", "\\"))  # fmt: skip
        if image.get("Type") not in ("Volume", "VolumeSequence"):
            continue
        destination = (image.findtext("DefaultDestination") or "Red").strip()
        for record in states:
            viewer = record.get("viewer_state")  # logged as sent: older servers let any JSON value through
            views = viewer.get("views") if isinstance(viewer, dict) else None
            for view in views if isinstance(views, list) else []:
                if isinstance(view, dict) and view.get("destination") == destination:
                    attributes = {
                        "Window": _text(view.get("window")),
                        "Level": _text(view.get("level")),
                        "SliceOffset": _text(view.get("slice_offset")),
                        "Orientation": _text(view.get("orientation")),
                        "Destination": destination,
                        "ViewingMode": _text(view.get("viewing_mode")) or "Default",
                        "LoginTime": iq_time(logins.get(str(record.get("login_id")), "")),
                        "ResponseTime": iq_time(str(record.get("saved_at", ""))),
                    }
                    if view.get("frame") is not None:
                        attributes["Frame"] = _text(view.get("frame"))
                    _sub(image, "State", attributes)


def _login_of(run: RunRecord, saved_at: str) -> str:
    """Login time of the sign-in during which something was saved at ``saved_at`` (same ISO format)."""
    times = sorted(str(x.get("login_time") or "") for x in run.state.get("logins", []))
    before = [t for t in times if t and t <= saved_at]
    return before[-1] if before else (times[0] if times else "")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def write_export(data: bytes, target: Path, *, durable: bool = True) -> Path:
    """Write an export file atomically (parents created); returns ``target``.

    Raises
    ------
    ResponseLogError
        On an OS error.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResponseLogError(f"Cannot create {target.parent}: {exc}") from exc
    write_bytes_atomic(target, data, durable=durable)
    return target


def write_results_xml(run_dir: Path) -> Path:
    """Regenerate ``<run_dir>/<session_stem>.xml``, the IQ-compatible results export (§14.1).

    Written atomically but without fsync: it is derived from the logs and rebuilt at every submission.
    """
    run_dir = Path(run_dir)
    return write_export(build_iq_xml(read_run(run_dir)), run_dir / f"{run_dir.name}.xml", durable=False)
