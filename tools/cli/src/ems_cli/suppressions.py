"""`ems suppressions ...`: the addresses EMS does not send to, and lifting a suppression.

EMS suppresses an address on a hard bounce or a complaint (and when it unsubscribes from
everything); campaigns then reject it and senders skip it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ems_cli.client import EmsClient, Page
from ems_cli.listing import AllPagesOption, Listing, PageOption, list_pages
from ems_cli.options import JsonOption, YesOption, confirm_unless
from ems_cli.render import make_console, print_json, suppressions_table
from ems_cli.session import reporting_errors, session_of

app = typer.Typer(
    help="List the suppressed addresses (hard bounces, complaints) and lift a suppression.",
    no_args_is_help=True,
)


@app.command("list")
def list_suppressions(
    ctx: typer.Context,
    *,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=200, help="Addresses per page.")
    ] = 50,
    page: PageOption = None,
    all_pages: AllPagesOption = False,
    as_json: JsonOption = False,
) -> None:
    """List suppressed addresses with why, by what and since when, 50 to a page.

    Examples:

        ems suppressions list

        ems suppressions list --all --json
    """

    def fetch(client: EmsClient, token: str | None) -> Page:
        return client.list_suppressions(limit=limit, page=token)

    listing = Listing(suppressions_table, empty="No suppressed addresses.", more="addresses")
    list_pages(ctx, fetch, listing, page=page, all_pages=all_pages, as_json=as_json)


@app.command()
def remove(
    ctx: typer.Context,
    address: Annotated[
        str, typer.Argument(help="The suppressed email address.", show_default=False)
    ],
    yes: YesOption = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"address": ..., "removed": true} (the API answers with no body).',
        ),
    ] = False,
) -> None:
    """Lift a suppression: EMS may send to the address again (new campaigns accept it).

    Do it only when the address works again or its owner asked: a complaint or hard bounce
    that comes back hurts the sender's reputation. Asks first unless --yes.

    Example:

        ems suppressions remove ann@example.com --yes
    """
    session = session_of(ctx)
    confirm_unless(yes, f"Lift the suppression of {address}? EMS may send to it again.")
    with reporting_errors(session), session.client() as client:
        client.remove_suppression(address)
    if as_json:
        print_json({"address": address, "removed": True})
    else:
        make_console().print(
            f"Lifted the suppression of {address}: EMS may send to it again.", markup=False
        )
