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
