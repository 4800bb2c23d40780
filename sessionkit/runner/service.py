"""The reading service the HTTP server calls: logins, positions, submissions (reading-flow §1, §4-§5, §13).

One run per (session, reader) under ``<results root>/<reader_id>/<session_stem>/``. Every accepted
submission is durable before :meth:`ReadingService.submit` returns: CSV rows appended and fsync'ed,
then ``state.json`` replaced atomically with the new ``last_seq`` (C2). A refused submission writes no
response, annotation or state (the refusal is recorded in ``events.jsonl`` only, reading-flow §1).
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessionkit.errors import ResponseLogError, RunnerStateError, SessionError
from sessionkit.responses.csvlog import LOG_VERSION, fsync_dir, mkdir_durable
from sessionkit.responses.export import write_results_xml
from sessionkit.responses.paths import RunPaths, ensure_inside, labelmap_file_name, line_file_name
from sessionkit.responses.run_folder import RunFolder, latest_responses, utc_timestamp
from sessionkit.runner.answers import button_stem
from sessionkit.runner.history import LabelMapPlan, ViewRecord, labelmap_plan, restore_views
from sessionkit.runner.log_restore import parse_answers, restored_answers, restored_views, view_event_ok
from sessionkit.runner.machine import (
    CSV_EVENT,
    TRANSITIONS,
    AnswerKey,
    Resume,
    RunState,
    Submit,
    bookmark_label,
    can_repeat,
    editable,
    from_json,
    logged_answers,
    new_run,
    step,
    to_json,
)
from sessionkit.runner.navigation import Instance, group_order, progress_text
from sessionkit.runner.requirements import DRAWABLE_TYPES, page_issues
from sessionkit.runner.rows import RowContext, response_rows
from sessionkit.session import load_session
from sessionkit.session.colors import color_file_path
from sessionkit.session.model import Page, Session, SessionImage

#: ``kind`` values of annotations.csv (reading-flow §14.3); READER_EDITS need an editable page.
ANNOTATION_KINDS = frozenset({"labelmap", "redisplay", "merge", "line", "line_deleted"})
READER_EDITS = frozenset({"labelmap", "line", "line_deleted"})
#: Kinds that give an image node a label map (SK915: "no contours drawn — continue?").
LABEL_KINDS = frozenset({"labelmap", "redisplay", "merge"})
#: Transitions a submission may carry (clarifications C1 names; ``goto_bookmark`` logs as ``bookmark``;
#: ``review`` only navigates a complete run, back to entry 1).
SUBMIT_TRANSITIONS = frozenset(TRANSITIONS)


@dataclass
class _Run:
    run_id: str
    reader_id: str
    folder: RunFolder
    state: RunState
    last_seq: int
    login_id: str
    logins: list[dict[str, Any]]
    created_at: str
    answered_at: dict[AnswerKey, tuple[str, ...]]
    annotations: list[dict[str, str]] = field(default_factory=list)
    views: list[ViewRecord] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


class ReadingService:
    """Runs of one session for any number of readers.

    Parameters
    ----------
    session : Session
        The validated session (its ``sha256`` names the snapshot).
    session_path : Path
        The session file; its bytes are snapshotted into each new run, its stem names the run folder.
    results_root : Path
        ``<results root>`` (clarifications C2 default ``./sessionkit-runs``).
    study_salt : str, optional
        Deployment salt of the group permutation (reading-flow §3.3); default empty.
    group_presets : mapping of str to sequence of int, optional
        An administrator's group order per reader id, used like a forced list for new runs (§3.2).

    Notes
    -----
    Thread-safe: one lock per run, one for the run registry.
    """

    def __init__(
        self,
        session: Session,
        session_path: Path,
        results_root: Path,
        *,
        study_salt: str | None = None,
        group_presets: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        self.session = session
        self.session_path = Path(session_path)
        self.results_root = Path(results_root)
        self.study_salt = study_salt or ""
        self.group_presets = dict(group_presets or {})
        self.session_id = self.session_path.stem
        self._runs: dict[str, _Run] = {}
        self._by_reader: dict[str, str] = {}
        self._registry = threading.Lock()

    # -- runs -------------------------------------------------------------------------------

    def _state_json(self, run: _Run, state: RunState, last_seq: int) -> dict[str, Any]:
        return {
            "version": state.version,
            "run_id": run.run_id,
            "reader_id": run.reader_id,
            "session_id": self.session_id,
            "session_sha256": state.session.sha256,
            "created_at": run.created_at,
            "last_seq": last_seq,
            "logins": run.logins,
            "machine": to_json(state),
        }

    def _make_folder(self, folder: RunFolder) -> None:
        """Create the run folder with a snapshot of the served session file and its colour table."""
        try:
            snapshot = self.session_path.read_bytes()
        except OSError as exc:
            raise ResponseLogError(f"Cannot read the session file {self.session_path}: {exc}") from exc
        folder.create(snapshot, color_file_path(self.session_path, self.session.roi_color_file))

    def _new_state(self, reader_id: str, folder: RunFolder) -> RunState:
        """A run at its start over the folder's snapshot (group order per reading-flow §3)."""
        session = self._run_session(folder, hashlib.sha256(folder.read_snapshot()).hexdigest())
        preset = self.group_presets.get(reader_id)
        return new_run(session, group_order(session, reader_id, self.study_salt, preset=preset))

    def _create(self, reader_id: str, folder: RunFolder) -> _Run:
        self._make_folder(folder)
        state = self._new_state(reader_id, folder)
        run = _Run(str(uuid.uuid4()), reader_id, folder, state, 0, "", [], utc_timestamp(), {})
        folder.commit_state(self._state_json(run, state, 0))
        folder.log_event("run_created", run_id=run.run_id, group_order=to_json(state)["group_order"])
        return run

    def _run_session(self, folder: RunFolder, snapshot_sha: str) -> Session:
        """The session a run reads: the served one, or its own snapshot when the file changed (SK908)."""
        if snapshot_sha == self.session.sha256:
            return self.session
        folder.log_event("problem", code="SK908", run_sha256=snapshot_sha, session_sha256=self.session.sha256)
        try:
            session = load_session(folder.paths.snapshot, strict=False)
        except SessionError as exc:
            raise ResponseLogError(f"The run's snapshot {folder.paths.snapshot} no longer loads: {exc}") from exc
        if session.sha256 != snapshot_sha:
            raise ResponseLogError(f"The run's snapshot {folder.paths.snapshot} does not match its recorded SHA-256")
        return session

    def _load(self, reader_id: str, folder: RunFolder) -> _Run:
        committed = folder.committed_state()  # state.json, else a kept copy; rows it may have acknowledged
        data = committed.data if committed.data is not None else self._lost_state(reader_id, folder)
        source = committed.source or folder.paths.state
        try:
            run_id, machine, logins = str(data["run_id"]), data["machine"], list(data["logins"])
            created_at, stored_sha = str(data["created_at"]), str(data["session_sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ResponseLogError(f"{source} is malformed: {exc}") from exc
        restored = committed.source != folder.paths.state
        if restored:  # state.json missing or unreadable: no row is removed on a guess (issue 11)
            folder.log_event(
                "state_restored", source=source.name if committed.source else None, last_seq=committed.keep_seq
            )
        folder.recover(committed.keep_seq)
        answers, answered_at = restored_answers(latest_responses(folder.read_responses()))
        state = from_json(self._run_session(folder, stored_sha), machine, answers)
        views = restored_views(folder.read_events(), committed.keep_seq)
        run = _Run(
            run_id,
            reader_id,
            folder,
            state,
            committed.keep_seq,
            "",
            logins,
            created_at,
            answered_at,
            folder.read_annotations(),
            views,
        )
        if restored:
            folder.commit_state(self._state_json(run, state, run.last_seq))
        return run

    def _lost_state(self, reader_id: str, folder: RunFolder) -> dict[str, Any]:
        """The state of a run whose every state file is lost but whose logs survive: a run at its start
        (answers come back from ``responses.csv``), keeping the logged run id and the snapshot."""
        if not folder.paths.snapshot.is_file():
            self._make_folder(folder)
        state = self._new_state(reader_id, folder)
        logged = [row["run_id"] for row in folder.read_responses() + folder.read_annotations()]
        return {
            "run_id": logged[-1] if logged else str(uuid.uuid4()),
            "machine": to_json(state),
            "logins": [],
            "created_at": utc_timestamp(),
            "session_sha256": hashlib.sha256(folder.read_snapshot()).hexdigest(),
        }

    def _run(self, run_id: str) -> _Run:
        with self._registry:
            run = self._runs.get(run_id)
        if run is None:
            raise RunnerStateError(f"Unknown run {run_id!r}", code="HTTP404", hint="sign in again")
        return run

    @contextmanager
    def exclusive(self, run_id: str) -> Iterator[None]:
        """Hold the run's (re-entrant) lock: no submission moves the run until the block ends.

        Used to write an annotation file of the current page instance and log it as one step, so a
        transition cannot slip in between (the file and its ``annotations.csv`` row always agree).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` for an unknown run.
        """
        with self._run(run_id).lock:
            yield

    def session_of(self, run_id: str) -> Session:
        """The session ``run_id`` reads: the served one, or the run's own snapshot after SK908.

        Pages, images and colour tables of a run must be resolved from this session, never from
        :attr:`session` (a run whose session file changed after it started keeps its snapshot).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run.
        """
        return self._run(run_id).state.session

    def run_dir(self, run_id: str) -> Path:
        """The run folder ``<results root>/<reader_id>/<session_stem>`` of ``run_id``."""
        return self._run(run_id).folder.paths.run_dir

    def login(self, reader_id: str) -> dict[str, Any]:
        """Create or resume the reader's run and land per reading-flow §13.

        Parameters
        ----------
        reader_id : str
            ``[A-Za-z0-9._-]{1,64}``, not ``.`` or ``..`` (C3).

        Returns
        -------
        dict
            ``{run_id, state_version, nav_position, nav_total, resumed, complete}``.

        Raises
        ------
        ResponseLogError
            Invalid reader id, or the run folder cannot be read or written.
        """
        paths = RunPaths.create(self.results_root, reader_id, self.session_path.stem)
        with self._registry:
            run_id = self._by_reader.get(reader_id)
            run = self._runs.get(run_id) if run_id else None
            resumed = run is not None
            if run is None:
                folder = RunFolder(paths)
                resumed = folder.exists()
                run = self._load(reader_id, folder) if resumed else self._create(reader_id, folder)
                self._runs[run.run_id] = run
                self._by_reader[reader_id] = run.run_id
        with run.lock:
            state = step(run.state, Resume())
            if not state.run_complete:
                login_id, now = str(uuid.uuid4()), utc_timestamp()
                logins = [*run.logins, {"login_id": login_id, "login_time": now, "logout_time": None}]
                run.folder.commit_state(self._state_json(run, state, run.last_seq) | {"logins": logins})
                run.login_id, run.logins = login_id, logins
                run.folder.log_event("login", login_id=login_id, nav_position=state.position, resumed=resumed)
            run.state = state
            return {
                "run_id": run.run_id,
                "state_version": state.version,
                "nav_position": state.position,
                "nav_total": len(state.nav),
                "resumed": resumed,
                "complete": state.run_complete,
            }

    def reset_run(self, reader_id: str) -> Path:
        """Archive the reader's run (administrator reset, reading-flow §1); the next login starts a new run.

        The run folder moves to ``<results root>/<reader_id>/.archive/<session_stem>-<run_id>``.

        Returns
        -------
        Path
            The archive folder.

        Raises
        ------
        ResponseLogError
            Invalid reader id, no run to reset, or the folder cannot be moved.
        """
        paths = RunPaths.create(self.results_root, reader_id, self.session_path.stem)
        with self._registry:
            run_id = self._by_reader.pop(reader_id, None)
            run = self._runs.pop(run_id, None) if run_id else None
            if run is not None:
                run.lock.acquire()
            try:
                folder = RunFolder(paths)
                if not folder.exists():
                    raise ResponseLogError(f"Reader {reader_id!r} has no run of {self.session_path.stem!r} to reset")
                archived_id = str((folder.committed_state().data or {}).get("run_id", "unknown"))
                folder.log_event("reset", run_id=archived_id)
                archive = paths.run_dir.parent / ".archive" / f"{paths.session_stem}-{archived_id}"
                try:
                    archive.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(paths.run_dir, archive)
                    fsync_dir(archive.parent)
                    fsync_dir(paths.run_dir.parent)
                except OSError as exc:
                    raise ResponseLogError(f"Cannot archive {paths.run_dir}: {exc}") from exc
                return archive
            finally:
                if run is not None:
                    run.lock.release()

    # -- views ------------------------------------------------------------------------------

    def current(self, run_id: str) -> dict[str, Any]:
        """The current position as JSON-ready data (see module docs of the server for the shape)."""
        run = self._run(run_id)
        with run.lock:
            return self._describe(run)

    def _describe(self, run: _Run) -> dict[str, Any]:
        state = run.state
        entry = state.entry
        page = state.page()
        qs = state.question_set()
        shown = logged_answers(state, entry)
        questions = []
        answers: dict[str, list[str]] = {}
        for question in qs.questions if qs else ():
            questions.append(
                {
                    "index": question.index,
                    "type": question.type,
                    "descriptor": question.descriptor,
                    "min": question.min,
                    "max": question.max,
                    "group_layout": question.group_layout,
                    "options": [{"index": o.index, "label": o.label} for o in question.options],
                    "button_color_on": question.button_custom_color_on,
                    "button_color_off": question.button_toggle_color_off,
                }
            )
            if question.is_answerable:
                default = [button_stem(o.label) if question.type == "Button" else "" for o in question.options]
                answers[str(question.index)] = list(shown.get(question.index, default))
        total = len(state.nav)
        label = bookmark_label(page)
        drawn = any(r["sha256"] for r in self._instance_annotations(run, entry.instance) if r["kind"] in LABEL_KINDS)
        return {
            "page_index": page.index,
            "page_id": page.id,
            "page_instance": entry.instance.instance_id(page),
            "rep": entry.instance.rep,
            "descriptor": page.descriptor,
            "user_interaction_log": page.user_interaction_log,
            "question_set_index": entry.question_set_index,
            "question_set": None if qs is None else {"id": qs.id, "descriptor": qs.descriptor, "questions": questions},
            "answers": answers,
            "nav_position": state.position,
            "nav_total": total,
            "progress_text": progress_text(state.session, entry, state.position, total),
            "editable": editable(state),
            "can_previous": state.position > 1,
            "can_next": state.position < total,
            "is_last": state.position == total,
            "can_repeat": can_repeat(state),
            "bookmark": None if label is None else {"label": label},
            "complete": state.run_complete,
            "state_version": state.version,
            "restore_views": restore_views(state, run.views),
            "confirm_no_contours": editable(state) and page.enable_segment_editor and not drawn,
        }

    # -- annotations and events -------------------------------------------------------------

    @staticmethod
    def _instance_annotations(run: _Run, instance: Instance) -> list[dict[str, str]]:
        page, rep = str(instance.page_index), str(instance.rep)
        return [r for r in run.annotations if r["page_index"] == page and r["repetition"] == rep]

    def instance_annotations(self, run_id: str) -> tuple[Page, bool, list[dict[str, str]]]:
        """The current page, whether it is editable, and its instance's ``annotations.csv`` rows (``seq`` order).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run.
        """
        run = self._run(run_id)
        with run.lock:
            rows = [dict(row) for row in self._instance_annotations(run, run.state.entry.instance)]
            return run.state.page(), editable(run.state), rows

    @staticmethod
    def _image(state: RunState, image_id: str) -> SessionImage:
        for image in state.page().images:
            if image.id == image_id:
                return image
        raise RunnerStateError(
            f"Page {state.page().id} has no image {image_id!r}", code="HTTP404", hint="use an image id of this page"
        )

    def page_image(self, run_id: str, image_id: str, *, drawing: bool = False) -> tuple[Page, SessionImage]:
        """The current page and its image ``image_id``; with ``drawing``, only if the reader may draw on it now.

        Drawing needs an editable instance (reading-flow §8), ``EnableSegmentEditor="Y"`` and a
        Volume/VolumeSequence image (§11).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run or image; ``HTTP422`` drawing refused (read-only or not drawable).
        """
        run = self._run(run_id)
        with run.lock:
            state = run.state
            image, page = self._image(state, image_id), state.page()
            if drawing and not editable(state):
                raise RunnerStateError(
                    f"Page {page.id} is read-only: the drawing was not saved", code="HTTP422", hint="reload the page"
                )
            if drawing and (not page.enable_segment_editor or image.type not in DRAWABLE_TYPES):
                raise RunnerStateError(
                    f'Image {image_id!r} of page {page.id} cannot be drawn on (needs EnableSegmentEditor="Y" and '
                    "a Volume or VolumeSequence)",
                    code="HTTP422",
                    hint="draw on the page's volume",
                )
            return page, image

    def instance_folder(self, run_id: str) -> tuple[Page, bool, Path]:
        """The current page, whether it is editable, and its page-instance folder (not created here).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run.
        """
        run = self._run(run_id)
        with run.lock:
            state = run.state
            page, inst = state.page(), state.entry.instance
            group = state.session.effective_page_groups()[page.index - 1]
            return page, editable(state), run.folder.paths.page_folder(group, inst.instance_id(page), page.descriptor)

    def annotation_path(self, run_id: str, image_id: str, *, kind: str = "labelmap", number: int = 1) -> Path:
        """Where the current page instance stores a label map or line file (reading-flow §1, §11).

        Parameters
        ----------
        run_id : str
        image_id : str
            ``Image@ID`` on the current page.
        kind : {"labelmap", "line"}
            ``<PageID>[-Rep<n>]_<ImageID>-quizlabel.nrrd`` or ``..._MarkupsLine[_<k>]_quizline.mrk.json``.
        number : int
            1-based line number (``line`` only).

        Returns
        -------
        Path
            Absolute path inside ``PgGroup<G>_<PageID>[-Rep<n>]_<Descriptor>/`` (the folder is created).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run or image; ``HTTP422`` unknown kind.
        ResponseLogError
            The folder cannot be created or would leave the run folder.
        """
        run = self._run(run_id)
        with run.lock:
            state = run.state
            self._image(state, image_id)
            page, inst = state.page(), state.entry.instance
            group = state.session.effective_page_groups()[page.index - 1]
            folder = run.folder.paths.page_folder(group, inst.instance_id(page), page.descriptor)
            if kind == "labelmap":
                name = labelmap_file_name(inst.instance_id(page), image_id)
            elif kind == "line":
                name = line_file_name(inst.instance_id(page), image_id, number)
            else:
                raise RunnerStateError(f"Unknown annotation kind {kind!r}", code="HTTP422", hint="labelmap or line")
            try:
                mkdir_durable(folder)
            except OSError as exc:
                raise ResponseLogError(f"Cannot create {folder}: {exc}") from exc
            return folder / name

    def record_annotation(
        self,
        run_id: str,
        *,
        image_id: str,
        kind: str,
        file: Path,
        sha256: str,
        labels: Sequence[int] = (),
        voxel_count: int | None = None,
        length_mm: float | None = None,
        event: str = "autosave",
    ) -> dict[str, str]:
        """Log a stored or deleted annotation file of the current page instance (reading-flow §14.3).

        Use :func:`sessionkit.runner.annotation_store.store_annotation`, which writes the file's bytes
        durably first and puts them in place after this row is acknowledged. The row gets the next
        ``seq`` and is acknowledged like a submission: ``annotations.csv`` fsync'ed, then ``state.json``
        with the new ``last_seq`` (the state version does not change). Contour (SK912) and line (SK913)
        requirements are evaluated on these rows at Next/Finish/Repeat.

        Parameters
        ----------
        run_id : str
        image_id : str
            ``Image@ID`` on the current page.
        kind : {"labelmap", "redisplay", "merge", "line", "line_deleted"}
        file : Path
            The file in the current instance's page folder (see :meth:`annotation_path`); a file of
            another instance (the page changed while it was being written) is refused with ``HTTP409``.
        sha256 : str
            SHA-256 (hex) of the file's new bytes; empty for ``line_deleted``.
        labels : sequence of int
            Non-zero label values present (label maps).
        voxel_count : int, optional
            Non-zero voxels (label maps).
        length_mm : float, optional
            Line length in mm (lines).
        event : str
            CSV event name; contour autosaves between transitions use ``autosave``.

        Returns
        -------
        dict of str to str
            The row as written.

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run or image; ``HTTP422`` unknown kind or a reader edit on a read-only page;
            ``HTTP409`` ``file`` is not in the current instance's folder.
        ResponseLogError
            ``file`` outside the run folder, or the log cannot be written.
        """
        run = self._run(run_id)
        with run.lock:
            state = run.state
            if kind not in ANNOTATION_KINDS:
                raise RunnerStateError(
                    f"Unknown annotation kind {kind!r}",
                    code="HTTP422",
                    hint=f"use one of: {', '.join(sorted(ANNOTATION_KINDS))}",
                )
            if kind in READER_EDITS and not editable(state):
                raise RunnerStateError("This page is read-only", code="HTTP422", hint="annotations cannot change here")
            image = self._image(state, image_id)
            path = ensure_inside(run.folder.paths.run_dir, Path(file))
            page, inst = state.page(), state.entry.instance
            group = state.session.effective_page_groups()[page.index - 1]
            if path.parent != run.folder.paths.page_folder(group, inst.instance_id(page), page.descriptor).resolve():
                raise RunnerStateError(
                    f"{path.name} is not in the folder of the current page {inst.instance_id(page)}",
                    code="HTTP409",
                    hint="the page changed while saving; save again",
                )
            seq = run.last_seq + 1
            row = {
                "log_version": LOG_VERSION,
                "session_id": self.session_id,
                "reader_id": run.reader_id,
                "run_id": run.run_id,
                "submission_id": str(uuid.uuid4()),
                "seq": str(seq),
                "event": event,
                "page_index": str(page.index),
                "page_instance": inst.instance_id(page),
                "page_group": str(state.session.effective_page_groups()[page.index - 1]),
                "repetition": str(inst.rep),
                "image_id": image.id,
                "image_path": image.path,
                "kind": kind,
                "file": path.relative_to(run.folder.paths.run_dir.parent.resolve()).as_posix(),
                "sha256": sha256,
                "labels": " ".join(str(label) for label in sorted(set(labels)) if label),
                "voxel_count": "" if voxel_count is None else str(voxel_count),
                "length_mm": "" if length_mm is None else repr(float(length_mm)),
                "saved_at": utc_timestamp(),
            }
            try:
                run.folder.append_annotations([row])
                run.folder.commit_state(self._state_json(run, state, seq))
            except ResponseLogError:
                run.folder.recover(run.last_seq)
                raise
            run.last_seq = seq
            run.annotations.append(row)
            return row

    def labelmap_plan(self, run_id: str, image_id: str) -> LabelMapPlan:
        """Which label-map files feed an image of the current page instance (reading-flow §11, D23, D25).

        Parameters
        ----------
        run_id : str
        image_id : str
            ``Image@ID`` on the current page.

        Returns
        -------
        LabelMapPlan
            ``own_file``: the instance's own saved label map (load it; never re-copied, D23) and
            ``own_row``, its ``annotations.csv`` row; ``source_file``: with ``DisplayLabelMapID``,
            the source's latest map in navigation history; ``copy_needed``: first display, so copy
            ``source_file`` to :meth:`annotation_path` and record it as ``kind="redisplay"``;
            ``merge_files``: with ``MergeLabelMaps``, every map to
            combine (voxel-wise maximum in int32), oldest first.

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run or image.
        """
        run = self._run(run_id)
        with run.lock:
            state = run.state
            return labelmap_plan(state, self._image(state, image_id), run.annotations, run.folder.paths.run_dir.parent)

    def log_event(self, run_id: str, kind: str, details: Mapping[str, Any] | None = None) -> None:
        """Append a browser-side event to ``events.jsonl`` (confirmations such as SK915, view-mode switches).

        Raises
        ------
        RunnerStateError
            ``HTTP404`` unknown run.
        """
        run = self._run(run_id)
        with run.lock:
            run.folder.log_event(kind, nav_position=run.state.position, **dict(details or {}))

    # -- submissions ------------------------------------------------------------------------

    def submit(
        self,
        run_id: str,
        *,
        state_version: int,
        transition: str,
        answers: dict[str, list[str]],
        viewer_state: dict[str, Any] | None = None,
        client: str = "",
        started_at: str | None = None,
    ) -> dict[str, Any]:
        """Save the current question set, then move (reading-flow §4-§5).

        Parameters
        ----------
        run_id : str
        state_version : int
            The version the browser saw (SK909 when stale).
        transition : str
            ``next``, ``previous``, ``finish``, ``goto_bookmark``, ``repeat``, ``exit``, ``autosave``, or
            ``review`` (complete runs only: back to entry 1). In review every transition only navigates
            (exit/autosave stay put) and nothing is written but an ``events.jsonl`` record.
        answers : dict of str to list of str
            Key: 1-based question index (string); value: one string per option (see :mod:`.answers`).
        viewer_state : dict, optional
            Viewer state per image; appended to ``events.jsonl`` (reading-flow §12).
        client : str
            ``sessionkit-web/<version> (<browser> <major>; <OS>)``.
        started_at : str, optional
            When this question set was displayed (ISO 8601 UTC ms, browser clock).

        Returns
        -------
        dict
            :meth:`current` for the new position.

        Raises
        ------
        RunnerStateError
            SK909, SK910, SK911, SK914, or ``HTTP422`` (transition not available here); nothing is
            written to the response log or the state when refused.
        ResponseLogError
            The log or state could not be written; the in-memory state is unchanged.
        """
        run = self._run(run_id)
        with run.lock:
            try:
                parsed = parse_answers(answers)
                issues = page_issues(run.state.page(), self._instance_annotations(run, run.state.entry.instance))
                state = step(run.state, Submit(transition, state_version, parsed, issues))
            except RunnerStateError as exc:
                run.folder.log_event(
                    "refused", transition=transition, code=exc.code, message=str(exc), nav_position=run.state.position
                )
                raise
            if state.run_complete and run.state.run_complete:  # review: navigate only, no response or state
                run.state = state
                run.folder.log_event("review", transition=transition, nav_position=state.position)
                return self._describe(run)
            seq, saved_at = run.last_seq + 1, utc_timestamp()
            submission_id = str(uuid.uuid4())
            times = dict(run.answered_at)
            effect = state.last
            rows = (
                response_rows(
                    RowContext(
                        self.session_id,
                        run.reader_id,
                        run.run_id,
                        run.login_id,
                        submission_id,
                        seq,
                        saved_at,
                        client,
                        started_at or "",
                    ),
                    run.state,
                    state,
                    times,
                )
                if effect is not None
                else []
            )
            logins = [dict(login) for login in run.logins]
            if logins and logins[-1]["login_id"] == run.login_id:
                logins[-1]["logout_time"] = saved_at
            try:
                run.folder.append_responses(rows)
                run.folder.commit_state(self._state_json(run, state, seq) | {"logins": logins})
            except ResponseLogError:
                run.folder.recover(run.last_seq)  # drop the unacknowledged rows so seq stays unique
                raise
            run.state, run.last_seq, run.logins, run.answered_at = state, seq, logins, times
            run_entry = effect.entry if effect is not None else None
            where = (
                {}
                if run_entry is None
                else {
                    "page_index": run_entry.instance.page_index,
                    "rep": run_entry.instance.rep,
                    "question_set_index": run_entry.question_set_index,
                }
            )
            common = {"seq": seq, "submission_id": submission_id, "login_id": run.login_id, "saved_at": saved_at}
            run.folder.log_event(
                "submission",
                **common,
                **where,
                event=CSV_EVENT[transition],
                rows=len(rows),
                nav_position=state.position,
                run_complete=state.run_complete,
            )
            if viewer_state:
                run.folder.log_event("viewer_state", **common, **where, viewer_state=viewer_state)
                record = {"seq": seq, **where, "viewer_state": viewer_state}
                if run_entry is not None and view_event_ok(record):
                    run.views.append(ViewRecord(run_entry.instance, seq, tuple(viewer_state["views"])))
            try:  # derived file: a failure never undoes the acknowledged submission
                write_results_xml(run.folder.paths.run_dir)
            except ResponseLogError as exc:
                run.folder.log_event("export_failed", seq=seq, message=str(exc))
            return self._describe(run)
