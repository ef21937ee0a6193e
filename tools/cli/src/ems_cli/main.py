"""`ems`: the command-line client for the EMS API.

The root takes the API's URL and key; each resource is a sub-app (`ems campaign ...`,
`ems template ...`, `ems email ...`, `ems dlq ...`, `ems suppressions ...`), built the same way
on `ems_cli.client.EmsClient`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ems_cli import campaigns, dlq, emails, suppressions, templates
from ems_cli.config import KEY_ENV, URL_ENV
from ems_cli.session import Session

app = typer.Typer(
    name="ems",
    help=(
        "Command-line client for the EMS API (email campaigns and transactional email on"
        " Amazon SES).\n\n"
        f"The API's URL and key come from --api-url/--api-key, else {URL_ENV}/{KEY_ENV}, else"
        " the .ems/local.env that `make up` writes (found from the current directory up).\n\n"
        "Exit codes: 0 done; 1 the API refused or could not be reached; 2 a usage problem."
    ),
    epilog="Example: ems campaign list --status SCHEDULED",
    no_args_is_help=True,
    # A traceback's locals would print the API key.
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.add_typer(campaigns.app, name="campaign")
app.add_typer(templates.app, name="template")
app.add_typer(emails.app, name="email")
app.add_typer(dlq.app, name="dlq")
app.add_typer(suppressions.app, name="suppressions")


@app.callback()
def main(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            envvar=URL_ENV,
            show_envvar=True,
            metavar="URL",
            help="The EMS API, e.g. http://127.0.0.1:8080.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar=KEY_ENV,
            show_envvar=True,
            metavar="KEY",
            help="The API key, sent as the X-Api-Key header.",
        ),
    ] = None,
) -> None:
    """Keep the root options for the command that runs (resolved only when it needs the API)."""
    session = ctx.obj if isinstance(ctx.obj, Session) else Session()
    session.api_url = api_url or None
    session.api_key = api_key or None
    ctx.obj = session
