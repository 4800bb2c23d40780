"""Authoring commands (issue #16): ``sessionkit fmt`` and ``sessionkit build``.

Registered on the ``sessionkit`` group by :mod:`sessionkit.cli`; thin wrappers like the other
commands (the work happens in :mod:`sessionkit.session.fmt`, :mod:`sessionkit.session.authoring`
and :mod:`sessionkit.io.discover`).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file would change (for CI).")
@click.option(
    "--upgrade",
    is_flag=True,
    help="Also rename the pre-2.0 names SK201/SK202 know (Destination → DefaultDestination, Description → "
    "Descriptor, Page attributes written on an Image moved to the Page).",
)
@click.option(
    "--runs",
    "results_root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sessionkit-runs"),
    show_default=True,
    help="Results root of `serve --out`: fmt warns when a changed session already has runs there.",
)
@click.option("--only-sessions", is_flag=True, help="Skip files whose root element is not <Session> (hooks on *.xml).")
def fmt_command(files: tuple[Path, ...], check: bool, upgrade: bool, results_root: Path, only_sessions: bool) -> None:
    """Rewrite session FILES canonically (indent, attribute and child order) without changing their meaning.

    Exit 0 when nothing changed (or was written), 1 with --check when a file would change, 2 when a file
    cannot be parsed. Formatting changes the file's SHA-256: runs started on the old file keep
    reading their snapshot (SK908), so format before the first reader.
    """
    from sessionkit.errors import ResponseLogError, SessionError
    from sessionkit.responses.export import find_runs
    from sessionkit.session.fmt import format_session
    from sessionkit.session.parse import root_element_name

    if only_sessions:
        files = tuple(file for file in files if root_element_name(file) == "Session")
    changed = failed = 0
    for file in files:
        try:
            result = format_session(file.read_bytes(), str(file), upgrade=upgrade)
        except OSError as exc:
            click.echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
            failed += 1
            continue
        except SessionError as exc:
            click.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        for note in result.upgrades:
            click.echo(f"{file}: {note}")
        if not result.changed:
            continue
        changed += 1
        if check:
            click.echo(f"would reformat {file}")
            continue
        file.write_text(result.text, encoding="utf-8", newline="\n")
        click.echo(f"reformatted {file}")
        try:
            runs = [run for run in find_runs(results_root) if run.name == file.stem] if results_root.is_dir() else []
        except ResponseLogError:
            runs = []
        if runs:
            click.echo(
                f"note: {len(runs)} run(s) of {file.stem} under {results_root} started on the old file; its SHA-256 "
                "changed, so they keep reading their snapshot (SK908). Format before the first reader.",
                err=True,
            )
    if failed:
        raise SystemExit(2)
    if check and changed:
        raise SystemExit(1)


@click.command("build")
@click.argument("cases", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--template",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A <Page> (or a whole <Session>) naming case-list columns as {column}.",
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Session file.")
@click.option(
    "--images-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Image paths are checked in and written relative to it [default: the --discover folder, else the "
    "output's folder].",
)
@click.option(
    "--discover",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Instead of CASES: one case per sub-folder of this folder; each DICOM series, NRRD, NIfTI and "
    "segmentation found is a column (<name>, <name>_type, <name>_dicom).",
)
@click.option("--randomize", is_flag=True, help='One PageGroup per case and RandomizePageGroups="Y".')
@click.option("--shuffle-seed", type=int, default=None, help="Write the cases in an order shuffled with this seed.")
@click.option(
    "--design-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the analysis design table (page_id, case_id, modality, truth…) to this CSV file.",
)
def build_command(
    cases: Path | None,
    template: Path,
    output: Path,
    images_root: Path | None,
    discover: Path | None,
    randomize: bool,
    shuffle_seed: int | None,
    design_out: Path | None,
) -> None:
    """Build a session from CASES (CSV, one row per case, a case_id column) and a page --template.

    Exit 0 when the session was written and validates, 1 when validate reports errors in it (the
    file is written so you can look), 2 when it cannot be built (a column the template names is
    missing, a bad template or case list).
    """
    from sessionkit.errors import SessionKitError
    from sessionkit.scene.probe import probe_image
    from sessionkit.session.authoring import build_session

    if (cases is None) == (discover is None):
        raise click.UsageError("give either CASES (a CSV case list) or --discover DIR")
    try:
        if discover is not None:
            from sessionkit.io.discover import discover_cases

            rows: list[dict[str, str]] = discover_cases(discover)
            for row in rows:
                found = ", ".join(f"{k} ({row[k + '_type']})" for k in row if f"{k}_type" in row)
                click.echo(f"case {row['case_id']}: {found or 'no image found'}", err=True)
            images_root = images_root or discover
        result = build_session(
            rows if discover is not None else cases or Path(),
            template,
            output,
            images_root=images_root,
            randomize=randomize,
            shuffle_seed=shuffle_seed,
            design_out=design_out,
            probe=probe_image,
        )
    except SessionKitError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    except OSError as exc:
        click.echo(f"error: cannot write: {exc}", err=True)
        raise SystemExit(2) from exc
    for problem in result.problems:
        click.echo(problem.format_text(), err=True)
    errors = sum(problem.is_error for problem in result.problems)
    cases_count = len({row["case_id"] for row in result.design})
    click.echo(f"wrote {output}: {result.pages} page(s) for {cases_count} case(s)")
    if design_out is not None:
        click.echo(f"wrote {design_out}: {len(result.design)} design row(s)")
    if images_root is not None and images_root.resolve() != output.resolve().parent:
        click.echo(f"serve and validate it with --images-root {images_root}")
    if errors:
        click.echo(f"{errors} error(s) in {output}: fix the template or the case list and build again", err=True)
        raise SystemExit(1)
