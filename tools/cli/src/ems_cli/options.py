"""Options and paging shared by the command groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

import typer

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer instead of the summary.")
]
PageOption = Annotated[
    str | None,
    typer.Option("--page", metavar="TOKEN", help="Start at this page (a next_page token)."),
]
AllPagesOption = Annotated[
    bool, typer.Option("--all", help="Follow next_page until the last page.")
]


class Paged(Protocol):
    """A page of a listing: where the next one starts (None on the last)."""

    @property
    def next_page(self) -> str | None:
        """The next page's token."""
        ...


def follow_pages[P: Paged](
    fetch: Callable[[str | None], P], start: str | None, *, all_pages: bool
) -> list[P]:
    """The page at `start` and, with `all_pages`, every page after it (a token seen twice
    ends the walk rather than looping)."""
    pages = [fetch(start)]
    seen = {start}
    while all_pages and (token := pages[-1].next_page) is not None and token not in seen:
        seen.add(token)
        pages.append(fetch(token))
    return pages
