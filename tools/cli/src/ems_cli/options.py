"""Options and prompts shared by the command groups (a list command's: `ems_cli.listing`)."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer instead of the summary.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def confirm_unless(yes: bool, question: str) -> None:
    """Ask `question` (default no) unless --yes was given; a no aborts the command."""
    if not yes:
        typer.confirm(question, default=False, abort=True)
