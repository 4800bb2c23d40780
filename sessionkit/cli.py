"""Command-line interface: ``sessionkit validate | inspect | serve | demo``.

Each command is a thin wrapper: the work happens in the library, the CLI parses options, prints
with rich and maps outcomes to exit codes (0 ok, 1 problems found, 2 usage or unreadable input).
"""

from __future__ import annotations

import click

from sessionkit import __version__


@click.group()
@click.version_option(__version__, prog_name="sessionkit")
def main() -> None:
    """Medical-imaging reading sessions: validate, inspect, serve."""


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
def inspect_command(image: str, as_json: bool, image_type: str | None) -> None:
    """Describe IMAGE: kind, grid (LPS mm), frame of reference and segments."""
    import json

    from rich.console import Console
    from rich.table import Table

    from sessionkit.errors import SessionKitError
    from sessionkit.io import describe, read_image

    try:
        info = describe(read_image(image, image_type=image_type))
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
