"""``python -m sessionkit``: the command-line interface."""

from sessionkit.cli import main

main()
