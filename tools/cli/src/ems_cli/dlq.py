"""`ems dlq ...`: what is in the dead-letter queues, and moving it back once the cause is fixed."""

from __future__ import annotations

from typing import Annotated, Final

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ems_cli.client import JsonObject
from ems_cli.options import JsonOption, YesOption, confirm_unless
from ems_cli.render import make_console, print_json, when
from ems_cli.session import reporting_errors, session_of

MAX_PEEK: Final = 10
BODY_IN_SUMMARY: Final = 200

app = typer.Typer(
    help="Look at the dead-letter queues (DLQs) and redrive their messages to their queues.",
    no_args_is_help=True,
)

QueueName = Annotated[
    str,
    typer.Argument(
        metavar="QUEUE",
        help="The queue whose DLQ: send, transactional, tracker or compile.",
        show_default=False,
    ),
]


@app.command("list")
def list_dlqs(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show how many messages each queue's DLQ holds (approximate, as SQS counts).

    Example:

        ems dlq list
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        answer = client.list_dlqs()
    if as_json:
        print_json(answer)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Queue", no_wrap=True)
    table.add_column("DLQ messages", justify="right", no_wrap=True)
    for queue in answer.get("queues") or []:
        count = int(queue.get("messages") or 0)
        table.add_row(
            Text(str(queue.get("queue", "?"))),
            Text(f"{count:,}", style="bold red" if count else "green"),
        )
    make_console().print(table)


@app.command()
def show(
    ctx: typer.Context,
    queue: QueueName,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", min=1, max=MAX_PEEK, help="Messages to show (at most 10)."),
    ] = MAX_PEEK,
    as_json: JsonOption = False,
) -> None:
    """Peek at a DLQ's messages and why they are there (they stay on the DLQ).

    Example:

        ems dlq show send --limit 3
    """
    session = session_of(ctx)
    name = queue.lower()
    with reporting_errors(session), session.client() as client:
        answer = client.peek_dlq(name, limit=limit)
    if as_json:
        print_json(answer)
        return
    console = make_console()
    messages = answer.get("messages") or []
    if not messages:
        console.print(f"The {name} DLQ shows no message.", markup=False)
        return
    # One block per message: bodies are long, a table would squeeze them into a thin column.
    for message in messages:
        console.print(_letter(message))
    console.print(
        f"{len(messages)} message(s) shown; the whole bodies are in --json.",
        style="dim",
        markup=False,
    )


@app.command()
def redrive(
    ctx: typer.Context,
    queue: QueueName,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Move every message of a DLQ back to its queue, to be processed again.

    Fix what sent them there first, or they come back. Asks first unless --yes.

    Example:

        ems dlq redrive send --yes
    """
    session = session_of(ctx)
    name = queue.lower()
    confirm_unless(yes, f"Move every message of the {name} DLQ back to the {name} queue?")
    with reporting_errors(session), session.client() as client:
        answer = client.redrive_dlq(name)
    if as_json:
        print_json(answer)
        return
    _redrive_summary(name, answer)


def _letter(message: JsonObject) -> Text:
    """A peeked message: its id, when it was sent, receives, reason and (cut) body."""
    text = Text(str(message.get("message_id", "?")), style="bold")
    text.append("  sent ").append_text(when(message.get("sent_at")))
    text.append(f"  received {message.get('receive_count', '?')}x\n")
    reason = message.get("reason")
    text.append("  reason: ", style="dim")
    text.append(str(reason) if reason else "-", style="red" if reason else "dim")
    body = str(message.get("body", ""))
    if len(body) > BODY_IN_SUMMARY or message.get("body_truncated"):
        body = body[:BODY_IN_SUMMARY] + "..."
    text.append("\n  body: ", style="dim")
    text.append(body)
    text.append("\n")
    return text


def _redrive_summary(name: str, answer: JsonObject) -> None:
    console = make_console()
    console.print(
        f"Redriving about {answer.get('messages_to_move', '?')} message(s) from the {name} DLQ"
        f" back to the {name} queue. Follow it with `ems dlq list`.",
        markup=False,
    )
    console.print(f"Task handle: {answer.get('task_handle', '?')}", style="dim", markup=False)
