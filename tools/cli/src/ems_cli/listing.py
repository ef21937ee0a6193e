"""How a list command runs: its paging options, the walk through the pages, and its output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import RenderableType

from ems_cli.client import EmsClient, JsonObject, Page
from ems_cli.render import make_console, print_json
from ems_cli.session import reporting_errors, session_of

PageOption = Annotated[
    str | None,
    typer.Option("--page", metavar="TOKEN", help="Start at this page (a next_page token)."),
]
AllPagesOption = Annotated[
    bool, typer.Option("--all", help="Follow next_page until the last page.")
]


def iter_pages(fetch: Callable[[str | None], Page], start: str | None = None) -> Iterator[Page]:
    """The page at `start` and every page after it, fetched as they are consumed (a token seen
    twice ends the walk rather than looping)."""
    page = fetch(start)
    yield page
    seen = {start}
    while (token := page.next_page) is not None and token not in seen:
        seen.add(token)
        page = fetch(token)
        yield page


def follow_pages(
    fetch: Callable[[str | None], Page], start: str | None, *, all_pages: bool
) -> list[Page]:
    """The page at `start` and, with `all_pages`, every page after it (as `iter_pages`)."""
    if not all_pages:
        return [fetch(start)]
    return list(iter_pages(fetch, start))


@dataclass(frozen=True)
class Listing:
    """How a listing prints: its items as a `table`, `empty` when there are none, and
    `More <more>: ...` when a page follows."""

    table: Callable[[list[JsonObject]], RenderableType]
    empty: str
    more: str


def list_pages(
    ctx: typer.Context,
    fetch: Callable[[EmsClient, str | None], Page],
    listing: Listing,
    *,
    page: str | None,
    all_pages: bool,
    as_json: bool,
) -> None:
    """Run a list command: `fetch` the page at `page` (with `all_pages`, every page after it
    too) and print its items as `listing` says, then how to get the next page, if any.

    With `as_json` it prints the API's answer instead; with `all_pages` too, the items of every
    page as one answer in the API's shape: `{<key>: [...], "next_page": null}`.
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        pages = follow_pages(lambda token: fetch(client, token), page, all_pages=all_pages)
    current = pages[-1]
    items = [item for p in pages for item in p.items]
    if as_json:
        print_json({current.key: items, "next_page": None} if all_pages else current.raw)
        return
    console = make_console()
    if items:
        console.print(listing.table(items))
    elif not all_pages and current.next_page is not None:
        # A filtered listing may answer an empty page that is not the last.
        console.print(f"No {listing.more} on this page.", markup=False)
    else:
        console.print(listing.empty, markup=False)
    if not all_pages and current.next_page is not None:
        console.print(
            f"More {listing.more}: add --all, or --page {current.next_page}",
            style="dim",
            markup=False,
        )
