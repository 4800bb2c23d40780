"""Command-line interface: ``sessionkit validate | inspect | serve | demo``.

Each command is a thin wrapper: the work happens in the library, the CLI parses options, prints
with rich and maps outcomes to exit codes (0 ok, 1 problems found, 2 usage or unreadable input).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from sessionkit import __version__
from sessionkit.cli.analyze import analyze_group, export_answers
from sessionkit.cli.authoring import build_command, fmt_command


@click.group()
@click.version_option(__version__, prog_name="sessionkit")
def main() -> None:
    """Medical-imaging reader studies on Image Quizzer session files; every command is listed below.

    ``sessionkit COMMAND --help`` shows a command's options.
    """


# commands kept in their own modules (this one stays under 800 lines)
main.add_command(fmt_command)
main.add_command(build_command)
main.add_command(analyze_group)


@main.command("inspect")
@click.argument("image", type=click.Path(dir_okay=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--type",
    "image_type",
    type=click.Choice(["Volume", "LabelMap", "Segmentation", "RTStruct"]),
    default=None,
    help="Read the file as this session Image Type (e.g. a mask stored as a volume: Segmentation).",
)
@click.option(
    "--reference",
    type=click.Path(exists=True, path_type=str),
    default=None,
    help="RTSTRUCT: the image (file or folder of its DICOM series) to rasterise the contours onto.",
)
def inspect_command(image: str, as_json: bool, image_type: str | None, reference: str | None) -> None:
    """Describe IMAGE: kind, grid (LPS mm), frame of reference and segments."""
    import json

    from rich.console import Console
    from rich.table import Table

    from sessionkit.errors import SessionKitError
    from sessionkit.io import describe, describe_references, read_image

    try:
        info = describe(read_image(image, image_type=image_type, reference=reference))
        info["references"] = describe_references(image, image_type=image_type, reference=reference)
    except SessionKitError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    console = Console()
    grid = Table(title=info["source"], show_header=False)
    for key in ("kind", "spatial_shape", "spacing", "origin", "direction", "frame_of_reference_uid", "dtype"):
        value = info[key]
        if key in ("spacing", "origin", "direction"):
            value = json.loads(json.dumps(value), parse_float=lambda text: round(float(text), 4))
        grid.add_row(key, str(value))
    grid.add_row("value_range", str(info["value_range"]))
    if info["frames"] != 1:
        grid.add_row("frames", str(info["frames"]))
    if info.get("rgb"):
        grid.add_row("rgb", "colour picture: R, G, B channels (uint8)")
    if info["references"]:
        grid.add_row("references", "\n".join(f"{k}: {v}" for k, v in info["references"].items()))
    console.print(grid)
    if info.get("segments"):
        table = Table("label_value", "name", "color", "layer", "voxel_count", "segment_id", title="segments")
        for segment in info["segments"]:
            r, g, b = segment["color"]
            swatch = f"[rgb({r},{g},{b})]██[/] {r},{g},{b}"
            table.add_row(
                str(segment["label_value"]),
                segment["name"],
                swatch,
                str(segment["layer"]),
                str(segment["voxel_count"]),
                segment["segment_id"],
            )
        console.print(table)
    for note in info["notes"]:
        console.print(f"note: {note}")


#: Output formats of ``convert --format`` (a folder of DICOM series).
#: ``--seg-type`` of DICOM SEG output (sessionkit.io.dicom_seg.SEG_TYPES, not imported at start-up).
SEG_TYPES = ("binary", "labelmap", "fractional")
SERIES_FORMATS = ("nii.gz", "nii", "nrrd", "nhdr", "seg.nrrd", "dcm")


@main.command("convert")
@click.argument("source", type=click.Path(exists=True, path_type=str))
@click.argument("output", type=click.Path(path_type=str))
@click.option(
    "--format",
    "series_format",
    type=click.Choice(SERIES_FORMATS),
    default=None,
    help="Convert every DICOM series under the SOURCE folder into the OUTPUT folder, one file per series "
    "in this format (a progress bar per series).",
)
@click.option(
    "--type",
    "image_type",
    type=click.Choice(["Volume", "VolumeSequence", "Vector", "LabelMap", "Segmentation", "RTStruct"]),
    default=None,
    help="Read SOURCE as this session Image Type (e.g. a mask stored as a CT series: Segmentation).",
)
@click.option(
    "--reference",
    type=click.Path(exists=True, path_type=str),
    default=None,
    help="The image series SOURCE lies on: RTSTRUCT/SEG input, and required for DICOM SEG output (.dcm).",
)
@click.option(
    "--seg-type",
    type=click.Choice(SEG_TYPES),
    default="binary",
    show_default=True,
    help="DICOM SEG output: binary, labelmap (one segment per voxel) or fractional (keeps a FRACTIONAL "
    "SEG's probabilities).",
)
def convert_command(
    source: str,
    output: str,
    series_format: str | None,
    image_type: str | None,
    reference: str | None,
    seg_type: str,
) -> None:
    """Convert SOURCE to OUTPUT (.nrrd, .nhdr, .seg.nrrd, .nii, .nii.gz, or DICOM SEG .dcm).

    A DICOM series read as a Segmentation (a mask stored as a fake CT series) is its own
    reference when --reference is not given. With --format, SOURCE is a folder of DICOM series
    (searched recursively) and OUTPUT a folder: one NNN_<SeriesDescription>.<format> per series.
    """
    if series_format is not None:
        _convert_series_folder(Path(source), Path(output), series_format, image_type)
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from sessionkit.errors import SessionKitError
    from sessionkit.io import read_image, sniff_format, write_image

    if reference is None and output.lower().endswith(".dcm") and sniff_format(source) == "dicom":
        reference = source
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    console = Console(stderr=True)
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task(f"reading {source}", total=2)
            image = read_image(source, image_type=image_type, reference=reference)
            progress.update(task, advance=1, description=f"writing {output}")
            write_image(image, output, reference=reference, seg_type=seg_type)
            progress.update(task, advance=1)
    except SessionKitError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    click.echo(f"wrote {output} ({image.kind}, {list(image.grid.spatial_shape)})")


def _convert_series_folder(source: Path, output: Path, series_format: str, image_type: str | None) -> None:
    """``convert --format``: every DICOM image series under ``source`` to ``output/NNN_<name>.<format>``.

    SEG and RTSTRUCT objects are listed as skipped; a series that fails is reported and the others
    go on (exit code 2 when any failed). ``.dcm`` (DICOM SEG) needs ``--type Segmentation``: each
    mask series is its own reference.
    """
    import re

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from sessionkit.errors import SessionKitError
    from sessionkit.io import read_dicom_mask_series, read_dicom_series, write_image
    from sessionkit.io.dicom_seg import SEG_SOP_CLASSES
    from sessionkit.io.dicom_series import group_dicom_series
    from sessionkit.io.rtstruct import RTSTRUCT_SOP_CLASS

    if not source.is_dir():
        raise click.BadParameter(
            f"{source} is not a folder; --format converts a folder of DICOM series", param_hint="SOURCE"
        )
    mask = image_type in ("LabelMap", "Segmentation")
    if series_format == "dcm" and not mask:
        raise click.BadParameter("DICOM SEG output needs --type Segmentation (mask series)", param_hint="--format")
    files = sorted(path for path in source.rglob("*") if path.is_file())
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    failed, used = 0, set()
    output.mkdir(parents=True, exist_ok=True)
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        scan = progress.add_task("scanning", total=len(files))
        series = group_dicom_series(files, on_file=lambda _: progress.advance(scan))
        for entry in sorted(series, key=lambda e: (e.series_number is None, e.series_number or 0, e.description)):
            name = re.sub(r"[^A-Za-z0-9]+", "_", entry.description).strip("_") or entry.series_instance_uid
            stem = f"{entry.series_number or 0:03d}_{name}"
            stem = f"{stem}_{entry.series_instance_uid}" if stem in used else stem
            used.add(stem)
            if entry.sop_class_uid in (*SEG_SOP_CLASSES, RTSTRUCT_SOP_CLASS):
                progress.console.print(f"skipped {stem}: a DICOM SEG/RTSTRUCT (convert it on its own with --reference)")
                continue
            task = progress.add_task(stem, total=len(entry.files))
            target = output / f"{stem}.{series_format}"
            try:

                def advance(_: Path, task: TaskID = task) -> None:
                    progress.advance(task)

                reader = read_dicom_mask_series if mask else read_dicom_series
                image = reader(list(entry.files), on_file=advance)
                write_image(image, target, reference=entry.files[0] if series_format == "dcm" else None)
            except SessionKitError as exc:
                failed += 1
                progress.console.print(f"error: {stem}: {exc}")
                continue
            progress.console.print(f"wrote {target} ({image.kind}, {list(image.grid.spatial_shape)})")
    if failed:
        raise SystemExit(2)


@main.command("serve")
@click.argument("session_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--images-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder image paths are relative to [default: the session file's folder].",
)
@click.option(
    "--out",
    "results_root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sessionkit-runs"),
    show_default=True,
    help="Results root: one run folder per reader under it.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to bind.")
@click.option(
    "--access-token",
    envvar="SESSIONKIT_ACCESS_TOKEN",
    default=None,
    help="Token readers enter with their id; required to bind a non-loopback host (or set SESSIONKIT_ACCESS_TOKEN).",
)
@click.option(
    "--idle-timeout",
    "idle_timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="MINUTES",
    help="Minutes without reader input before the browser autosaves the draft answers (0: never).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Host name readers reach the server by (repeatable), e.g. a reverse proxy's; 127.0.0.1, localhost, "
    "::1 and --host are always allowed, any other Host header is refused.",
)
@click.option(
    "--cache-mb",
    type=click.FloatRange(min=0),
    default=None,
    metavar="MB",
    help="Megabytes of decoded images and encoded volumes kept in memory, least recently used out first "
    "[default: a quarter of the RAM, at most 4096].",
)
def serve_command(
    session_file: Path,
    images_root: Path | None,
    results_root: Path,
    host: str,
    port: int,
    access_token: str | None,
    idle_timeout: float,
    allowed_hosts: tuple[str, ...],
    cache_mb: float | None,
) -> None:
    """Validate SESSION_FILE, then serve it to readers in the browser until Ctrl+C."""
    _validate_and_serve(
        session_file,
        images_root,
        results_root,
        host,
        port,
        access_token,
        open_browser=False,
        idle_timeout=idle_timeout,
        allowed_hosts=allowed_hosts,
        cache_mb=cache_mb,
    )


def _has_display() -> bool:
    """False on a Linux machine without a graphical session (a server, CI): no browser is started there."""
    import os
    import sys

    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _validate_and_serve(
    session_file: Path,
    images_root: Path | None,
    results_root: Path,
    host: str,
    port: int,
    access_token: str | None,
    *,
    open_browser: bool,
    idle_timeout: float = 10.0,
    allowed_hosts: tuple[str, ...] = (),
    cache_mb: float | None = None,
) -> None:
    """Validate (files included), refuse to start on errors (exit 1), then run the server."""
    from sessionkit.errors import ServerConfigError, SessionKitError
    from sessionkit.scene.probe import probe_image
    from sessionkit.server import check_bind, check_port, serve
    from sessionkit.session import validate_session

    problems = validate_session(session_file, images_root=images_root, probe=probe_image)
    for problem in problems:
        click.echo(problem.format_text(), err=True)
    errors = sum(problem.is_error for problem in problems)
    if errors:
        click.echo(f"not serving: {errors} error(s) in {session_file}; fix them and try again", err=True)
        raise SystemExit(1)
    try:
        check_bind(host, access_token)
        check_port(host, port)
    except ServerConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/"
    click.echo(f"sessionkit: serving {session_file} at {url}")
    click.echo(f"sessionkit: responses are written under {results_root.resolve()}")
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        click.echo("sessionkit: only 127.0.0.1/localhost are served: add --allowed-host NAME for the name readers use")
    click.echo("sessionkit: press Ctrl+C to stop")
    if open_browser and _has_display():
        import threading
        import webbrowser

        threading.Timer(1.5, webbrowser.open, args=(url,)).start()
    try:
        serve(
            session_file,
            images_root=images_root,
            results_root=results_root,
            host=host,
            port=port,
            access_token=access_token,
            idle_timeout_minutes=idle_timeout,
            allowed_hosts=allowed_hosts,
            cache_mb=cache_mb,
        )
    except SessionKitError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc


@main.command("demo")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to bind (127.0.0.1)."
)
@click.option("--no-browser", is_flag=True, help="Do not open a web browser; just print the URL.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sessionkit-demo"),
    show_default=True,
    help="Folder for the demo session, its images (images/) and the readers' results (runs/).",
)
def demo_command(port: int, no_browser: bool, out: Path) -> None:
    """Serve a six-page demo session on real images shipped by installed packages.

    Pages 1-3 ask questions over the images; page 4 asks for a contour (a colour-table segment), page 5
    starts from the segmentation as a contour to edit, page 6 asks for a measurement line.

    A web browser is opened on the URL unless --no-browser is given or there is no display.

    Copies slicerio's chest CT and its 7-segment Slicer segmentation and nibabel's T1 MR into
    OUT/images, writes OUT/demo.xml and its colour table (from sample_sessions/), validates it and serves it at
    http://127.0.0.1:PORT/. Nothing is downloaded.
    """
    from sessionkit.io.samples import prepare_demo

    session_file = prepare_demo(out)
    click.echo(f"sessionkit: demo session written to {session_file.resolve()}")
    _validate_and_serve(session_file, None, out / "runs", "127.0.0.1", port, None, open_browser=not no_browser)


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--images-root",
    type=click.Path(exists=True, file_okay=False, readable=True, path_type=str),
    default=None,
    help="Root of image Path values (default: each session file's folder).",
)
@click.option("--no-files", is_flag=True, help="Structure and semantics only: open no colour file, picture or image.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "junit", "github", "sarif"]),
    default="text",
    show_default=True,
    help="Report format (sarif: SARIF 2.1.0 for code scanning).",
)
@click.option("--only-sessions", is_flag=True, help="Skip files whose root element is not <Session> (hooks on *.xml).")
@click.option("--quiet", is_flag=True, help="Report errors only; no summary line when everything is valid.")
@click.option("--warnings-as-errors", is_flag=True, help="Exit 1 when any warning is reported.")
@click.option("--disable", default="", help="Comma-separated warning codes to suppress, e.g. SK415,SK519.")
@click.option(
    "--dialect",
    type=click.Choice(["sessionkit", "iq"]),
    default="sessionkit",
    show_default=True,
    help="iq: also fail where Image Quizzer 3.4.3 refuses the file (SK301, SK505-SK507, SK701, SK707 "
    "become errors; sessionkit extensions are reported as SK211).",
)
def validate_command(
    paths: tuple[str, ...],
    images_root: str | None,
    no_files: bool,
    output_format: str,
    quiet: bool,
    warnings_as_errors: bool,
    disable: str,
    dialect: Literal["sessionkit", "iq"],
    only_sessions: bool,
) -> None:
    """Check session files; exit 0 valid, 1 problems found, 2 usage error or unreadable input."""
    from dataclasses import replace

    from rich.console import Console

    from sessionkit.session import ImageProbe, check_session
    from sessionkit.session.report import format_github, format_json, format_junit, omitted, summary_line

    probe: ImageProbe | None = None
    if not no_files:  # the image readers (nibabel, pydicom, pynrrd…) are imported only to read images
        from sessionkit.scene.probe import probe_image as probe

    if only_sessions:
        from sessionkit.session.parse import root_element_name

        paths = tuple(path for path in paths if root_element_name(path) == "Session")
    disabled = tuple(code.strip().upper() for code in disable.split(",") if code.strip())
    results = [
        check_session(
            path,
            images_root=images_root,
            check_files_on_disk=not no_files,
            disabled=disabled,
            probe=probe,
            dialect=dialect,
        )
        for path in paths
    ]
    if quiet:
        results = [replace(r, problems=[p for p in r.problems if p.is_error]) for r in results]
    if output_format == "json":
        click.echo(format_json(results))
    elif output_format == "junit":
        click.echo(format_junit(results, warnings_as_errors))
    elif output_format == "github":
        for line in format_github(results):
            click.echo(line)
    elif output_format == "sarif":
        from sessionkit.session.sarif import format_sarif

        click.echo(format_sarif(results))
    else:
        console = Console(highlight=False, soft_wrap=True)
        for result in results:
            for problem in result.problems:
                style = "bold red" if problem.is_error else "yellow"
                console.print(problem.format_text(), style=style, markup=False)
            for more in omitted(result):
                console.print(more.format_text(result.file), style="bold", markup=False)
        if not quiet or any(r.problems for r in results):
            console.print(summary_line(results), markup=False)
    codes = {p.code for r in results for p in r.problems}
    if codes & {"SK101", "SK107"}:
        raise SystemExit(2)
    if any(p.is_error or warnings_as_errors for r in results for p in r.problems):
        raise SystemExit(1)


@main.command("export")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["iq-xml", "csv", "json", "lines", "seg.nrrd", "dicom-seg", "nifti", "answers", "imrmc"]),
    required=True,
    help="iq-xml: Image Quizzer results XML per run; csv: all response rows; json: state, logs and events; "
    "lines: every measurement line (LPS mm, length). "
    "With --contours: seg.nrrd, dicom-seg or nifti. answers: final answers of every run; "
    "imrmc: the --rating question's ratings for iMRMC/RJafroc (needs --design).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Output file (folder for iq-xml).")
@click.option("--escape-formulas", is_flag=True, help="csv: prefix values starting with = + - @ with '.")
@click.option("--contours", is_flag=True, help="Export the readers' label maps (per reader and page) into -o DIR.")
@click.option(
    "--images-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="dicom-seg: folder the session's image paths are relative to (the SEG references the series).",
)
@click.option(
    "--seg-type",
    type=click.Choice(SEG_TYPES),
    default="binary",
    show_default=True,
    help="dicom-seg: SegmentationType of the SEG files (labelmap: one segment per voxel).",
)
@click.option(
    "--design",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="answers/imrmc: design.csv mapping pages to case_id, modality and truth.",
)
@click.option("--rating", default=None, help="imrmc: the question whose answer is the rating (descriptor or PAGE:S.Q).")
@click.option("--include-incomplete", is_flag=True, help="answers/imrmc: also use runs the reader did not finish.")
def export_command(
    run_dirs: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    escape_formulas: bool,
    contours: bool,
    images_root: Path | None,
    seg_type: str,
    design: Path | None,
    rating: str | None,
    include_incomplete: bool,
) -> None:
    """Export RUN_DIRS (<results root>/<reader>/<session_stem>, or results roots)."""
    import json

    if output_format in ("answers", "imrmc"):
        export_answers(run_dirs, output_format, output, design, rating, include_incomplete)
        return
    if len(run_dirs) != 1:
        click.echo(f"error: --format {output_format} exports one results root or run folder at a time", err=True)
        raise SystemExit(2)
    run_dir = run_dirs[0]

    if contours or output_format in {"seg.nrrd", "dicom-seg", "nifti"}:
        _export_contours(run_dir, output_format, output, contours, images_root, seg_type)
        return

    from sessionkit.errors import ImageReadError, ResponseLogError
    from sessionkit.responses.export import (
        build_iq_xml,
        export_csv,
        export_json,
        find_runs,
        read_run,
        write_export,
    )

    try:
        runs = [read_run(path) for path in find_runs(run_dir)]
        default_dir = run_dir / "exports"
        if output_format == "iq-xml":
            folder = output or default_dir
            for run in runs:
                name = (
                    f"{run.run_dir.parent.name}_{run.run_dir.name}.xml" if len(runs) > 1 else f"{run.run_dir.name}.xml"
                )
                click.echo(write_export(build_iq_xml(run), folder / name))
        elif output_format == "lines":
            from sessionkit.responses.lines import export_lines

            click.echo(write_export(export_lines(runs), output or default_dir / "lines.csv"))
        elif output_format == "csv":
            click.echo(
                write_export(export_csv(runs, escape_formulas=escape_formulas), output or default_dir / "responses.csv")
            )
        else:
            data = json.dumps(export_json(runs), indent=1).encode("utf-8")
            click.echo(write_export(data, output or default_dir / "runs.json"))
    except (ResponseLogError, ImageReadError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc


def _export_contours(
    run_dir: Path, output_format: str, output: Path | None, contours: bool, images_root: Path | None, seg_type: str
) -> None:
    """``export --contours``: one file per reader label map."""
    from sessionkit.errors import SessionKitError
    from sessionkit.responses.export import find_runs, read_run
    from sessionkit.runner.contour_export import CONTOUR_FORMATS, export_contours

    if not contours or output_format not in CONTOUR_FORMATS:
        click.echo(f"error: use --contours with --format {'|'.join(CONTOUR_FORMATS)}", err=True)
        raise SystemExit(2)
    out_dir = output or run_dir / "exports"
    try:
        written = 0
        for path in find_runs(run_dir):
            for item in export_contours(
                read_run(path), output_format, out_dir, images_root=images_root, seg_type=seg_type
            ):
                click.echo(str(item.output) if item.output else f"skipped {item.source}: {item.note}")
                written += item.output is not None
        click.echo(f"{written} label map(s) exported to {out_dir}")
    except SessionKitError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
