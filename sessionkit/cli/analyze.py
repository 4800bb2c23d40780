"""Analysis commands (issue #13): ``sessionkit analyze mrmc | agreement | report`` and the
``export --format answers | imrmc`` formats.

Registered on the ``sessionkit`` group by :mod:`sessionkit.cli`; thin wrappers: the work happens in
:mod:`sessionkit.analysis` (docs/analysis.md). Exit 0 ran, 1 input problems reported, 2 unreadable input.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group("analyze")
def analyze_group() -> None:
    """Statistics of a finished study: MRMC, agreement (docs/analysis.md)."""


def _analysis_failed(exc: Exception) -> None:
    """Print an analysis error and exit 1 (input problems it reports) or 2 (unreadable input)."""
    from sessionkit.errors import AnalysisInputError

    click.echo(f"error: {exc}", err=True)
    raise SystemExit(1 if isinstance(exc, AnalysisInputError) else 2) from exc


@analyze_group.command("mrmc")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option(
    "--design",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="With run folders: design.csv (case_id, modality, truth 0/1 per page).",
)
@click.option("--rating", default=None, help="With run folders: the confidence question (descriptor or PAGE:S.Q).")
@click.option("--include-incomplete", is_flag=True, help="With run folders: also use runs not finished.")
def analyze_mrmc_command(
    inputs: tuple[Path, ...],
    output_format: str,
    alpha: float,
    design: Path | None,
    rating: str | None,
    include_incomplete: bool,
) -> None:
    """Obuchowski-Rockette-Hillis MRMC on a ratings file (.imrmc, or CSV reader,modality,case,truth,rating),
    or on a study's run folders (results roots) with --design and --rating."""
    from sessionkit.analysis.answers import collect_answers, study_ratings
    from sessionkit.analysis.design import read_design
    from sessionkit.analysis.mrmc import format_mrmc_text, or_hillis
    from sessionkit.analysis.output import dumps
    from sessionkit.analysis.ratings import read_mrmc_ratings
    from sessionkit.errors import SessionKitError

    folders = [path for path in inputs if path.is_dir()]
    if folders and (design is None or rating is None):
        click.echo("error: run folders need --design design.csv and --rating QUESTION", err=True)
        raise SystemExit(2)
    if not folders and len(inputs) != 1:
        click.echo("error: give one ratings file, or run folders with --design and --rating", err=True)
        raise SystemExit(2)
    try:
        if folders and design is not None and rating is not None:
            collected = collect_answers(inputs, read_design(design), include_incomplete=include_incomplete)
            table = study_ratings(collected.answers, rating, str(design))
        else:
            table = read_mrmc_ratings(inputs[0])
        result = or_hillis(table, alpha=alpha)
    except SessionKitError as exc:
        _analysis_failed(exc)
        return
    click.echo(dumps(result.to_json()) if output_format == "json" else format_mrmc_text(result))


def export_answers(
    run_dirs: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    design_path: Path | None,
    rating: str | None,
    include_incomplete: bool,
) -> None:
    """``export --format answers|imrmc`` (analysis.md §2, §4): final answers, or one question's ratings."""
    from sessionkit.analysis.answers import answers_csv, collect_answers, imrmc_text, study_ratings
    from sessionkit.analysis.design import read_design
    from sessionkit.errors import SessionKitError
    from sessionkit.responses.export import write_export

    if len(run_dirs) > 1 and output is None:
        click.echo("error: with several RUN_DIRS give the output file with -o", err=True)
        raise SystemExit(2)
    if output_format == "imrmc" and (design_path is None or rating is None):
        click.echo("error: --format imrmc needs --design design.csv and --rating QUESTION", err=True)
        raise SystemExit(2)
    rating = rating if output_format == "imrmc" else None
    target = output or run_dirs[0] / "exports" / ("answers.csv" if output_format == "answers" else "study.imrmc")
    try:
        design = read_design(design_path) if design_path else None
        collected = collect_answers(run_dirs, design, include_incomplete=include_incomplete)
        for run_dir, reason in collected.excluded:
            click.echo(f"excluded {run_dir}: {reason}", err=True)
        if rating is None:
            data = answers_csv(collected.answers)
        else:
            data = imrmc_text(study_ratings(collected.answers, rating, str(design_path))).encode("utf-8")
        write_export(data, target)
    except SessionKitError as exc:
        _analysis_failed(exc)
        return
    click.echo(str(target))


@analyze_group.command("agreement")
@click.argument("ratings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--scale",
    type=click.Choice(["nominal", "ordinal", "interval"]),
    default=None,
    help="Scale of the answers [default: integers ordinal, other numbers interval, labels nominal].",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def analyze_agreement_command(ratings: Path, scale: str | None, output_format: str) -> None:
    """Agreement across readers (and across a reader's reads) in RATINGS (CSV reader,case,value)."""
    from typing import cast

    from sessionkit.analysis.agreement import Scale, agreement_table, format_agreement_text, read_agreement_csv
    from sessionkit.analysis.output import dumps
    from sessionkit.errors import SessionKitError

    try:
        results = agreement_table(read_agreement_csv(ratings), cast(Scale | None, scale))
    except SessionKitError as exc:
        _analysis_failed(exc)
        return
    if output_format == "json":
        click.echo(dumps({"questions": [r.to_json() for r in results]}))
    else:
        click.echo(format_agreement_text(results))


@analyze_group.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--design", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="design.csv."
)
@click.option("--rating", default=None, help="The confidence question for ROC and MRMC (descriptor or PAGE:S.Q).")
@click.option("--positive-from", type=float, default=None, help="A rating >= this is a positive call.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sessionkit-report"),
    show_default=True,
    help="Folder for report.html, results.json and tables/.",
)
@click.option("--include-incomplete", is_flag=True, help="Also use runs the reader did not finish.")
@click.option("--pseudonymize", is_flag=True, help="Name readers R1..Rn in the report.")
def analyze_report_command(
    runs: tuple[Path, ...],
    design: Path,
    rating: str | None,
    positive_from: float | None,
    output: Path,
    include_incomplete: bool,
    pseudonymize: bool,
) -> None:
    """Report of a study's RUNS (results roots or run folders): report.html, tables/*.csv, results.json."""
    from sessionkit.analysis.report import build_report, write_report
    from sessionkit.errors import SessionKitError

    try:
        report = build_report(
            runs,
            design,
            rating=rating,
            positive_from=positive_from,
            include_incomplete=include_incomplete,
            anonymous=pseudonymize,
        )
        write_report(report, output)
    except SessionKitError as exc:
        _analysis_failed(exc)
        return
    for run in report.results["study"]["excluded_runs"]:
        click.echo(f"excluded {run['run']}: {run['reason']}", err=True)
    click.echo(str(output / "report.html"))


@analyze_group.command("contours")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--design",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="design.csv (case_id, reference_contour, reference_segment per page).",
)
@click.option(
    "--tolerance-mm", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Surface Dice tolerance."
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
@click.option(
    "--consensus",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for each case's STAPLE consensus (<arm>/<page>_<image>.seg.nrrd).",
)
@click.option("--include-incomplete", is_flag=True, help="Also use runs the reader did not finish.")
def analyze_contours_command(
    runs: tuple[Path, ...],
    design: Path,
    tolerance_mm: float,
    output_format: str,
    consensus: Path | None,
    include_incomplete: bool,
) -> None:
    """Contour metrics of RUNS (results roots or run folders): every reader against the design's reference
    and every pair of readers, per page instance, image and segment (Dice, Jaccard, volumes, HD, HD95,
    MSD, surface Dice; docs/analysis.md)."""
    from rich.console import Console
    from rich.progress import Progress

    from sessionkit.analysis.contours import (
        collect_contours,
        consensus_path,
        contour_counts,
        contours_csv,
        format_contours_text,
        score_contours,
    )
    from sessionkit.analysis.design import read_design
    from sessionkit.analysis.output import dumps
    from sessionkit.analysis.ranking import ranking_table
    from sessionkit.errors import SessionKitError
    from sessionkit.io import write_seg_nrrd

    try:
        study = collect_contours(runs, read_design(design), include_incomplete=include_incomplete)
        for run_dir, reason in study.excluded:
            click.echo(f"excluded {run_dir}: {reason}", err=True)
        with Progress(console=Console(stderr=True), transient=True) as progress:
            tasks = {
                reader: progress.add_task(f"{reader}", total=total) for reader, total in contour_counts(study).items()
            }
            rows, consensus_rows = [], []
            for scores in score_contours(
                study, tolerance_mm, lambda contour: progress.advance(tasks[contour.reader_id])
            ):
                rows += scores.rows
                consensus_rows += scores.consensus_rows
                if consensus is not None and scores.consensus is not None:
                    target = consensus_path(consensus, scores.case)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    write_seg_nrrd(scores.consensus, target)
    except SessionKitError as exc:
        _analysis_failed(exc)
        return
    if output_format == "json":
        click.echo(
            dumps(
                {
                    "tolerance_mm": tolerance_mm,
                    "rows": [row.to_json() for row in rows],
                    "consensus": [row.to_json() for row in consensus_rows],
                    "ranking": ranking_table(rows),
                    "excluded_runs": [{"run": str(run), "reason": reason} for run, reason in study.excluded],
                    "training_pages": study.training_pages,
                }
            )
        )
    elif output_format == "csv":
        click.echo(contours_csv(rows), nl=False)
    else:
        click.echo(format_contours_text(rows))
