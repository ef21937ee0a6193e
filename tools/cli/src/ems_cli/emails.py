"""`ems email ...`: send transactional email with a template, to one address (`send`) or to a
list (`bulk`), and look at one email (`show`).

A bulk list longer than the API takes in one request (MAX_BULK_RECIPIENTS) goes as several
requests, in order; with --idempotency-key KEY each carries `KEY-<n>`, so running the same
command again after a failure replays the requests already answered and sends only the rest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Final

import typer

from ems_cli.client import (
    MAX_BULK_RECIPIENTS,
    ApiError,
    ApiUnreachableError,
    JsonObject,
    Problem,
    SendResult,
)
from ems_cli.options import JsonOption
from ems_cli.render import (
    email_summary,
    make_console,
    print_answer,
    print_json,
    send_rejections_table,
)
from ems_cli.session import (
    EXIT_USAGE,
    fail,
    input_name,
    read_text_input,
    reporting_errors,
    session_of,
)

IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255
RECIPIENT_KEYS: Final = frozenset({"to", "data"})
_RECIPIENT_PATH: Final = re.compile(r"^\$\.recipients\[(\d+)\]")
_IDEMPOTENCY_KEY: Final = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space

app = typer.Typer(
    help="Send templated transactional email, to one address or to a list, and look at one"
    " email's status and events.",
    no_args_is_help=True,
)

TemplateOption = Annotated[
    str,
    typer.Option(
        "--template",
        "-t",
        metavar="NAME",
        help="The template (see `ems template list`).",
        show_default=False,
    ),
]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="ADDR", help="The sender (a verified identity); default: EMS's."
    ),
]
ConfigurationSetOption = Annotated[
    str | None,
    typer.Option(
        "--configuration-set",
        metavar="NAME",
        help="The SES configuration set; default: EMS's (whose events EMS tracks).",
    ),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="NAME=VALUE",
        help="An SES tag for the email(s); repeat for more (at most 10).",
        show_default=False,
    ),
]
IdempotencyKeyOption = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        metavar="KEY",
        help="Sent as the Idempotency-Key header (a UUID, say): for 24 hours the same KEY and"
        " request send nothing again, and answer as the first time.",
    ),
]


@dataclass(frozen=True)
class Batch:
    """One request of a bulk send: its recipients, from `first` (their index in the FILE)."""

    number: int
    first: int
    recipients: list[JsonObject]
    idempotency_key: str | None

    @property
    def last(self) -> int:
        """The FILE index of its last recipient."""
        return self.first + len(self.recipients) - 1


def batches(recipients: list[JsonObject], idempotency_key: str | None) -> list[Batch]:
    """The requests that send `recipients`: MAX_BULK_RECIPIENTS to each, in order; with a key,
    `<key>-<n>` for request n (1, 2, ...) when there are several, the key itself when one."""
    starts = range(0, len(recipients), MAX_BULK_RECIPIENTS)

    def key(number: int) -> str | None:
        if idempotency_key is None or len(starts) == 1:
            return idempotency_key
        return f"{idempotency_key}-{number}"

    return [
        Batch(number, first, recipients[first : first + MAX_BULK_RECIPIENTS], key(number))
        for number, first in enumerate(starts, start=1)
    ]


@app.command()
def send(
    ctx: typer.Context,
    *,
    to: Annotated[
        str,
        typer.Option("--to", metavar="ADDR", help="The recipient's address.", show_default=False),
    ],
    template: TemplateOption,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            metavar="JSON",
            help="The template's fields: a JSON object, or @FILE to read one from a file"
            " (@- reads standard input).",
        ),
    ] = None,
    from_address: FromOption = None,
    configuration_set: ConfigurationSetOption = None,
    tags: TagOption = None,
    idempotency_key: IdempotencyKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send one email with a template, and print its id (follow it with `ems email show`).

    EMS queues it at once (QUEUED) and sends it ahead of campaign email. A suppressed or
    invalid address, or data missing a field the template requires, is refused.

    Examples:

        ems email send --to ann@example.com --template receipt --data '{"fname": "Ann"}'

        ems email send --to ann@example.com -t receipt --data @ann.json --tag kind=receipt

        ems email send --to ann@example.com -t reset --idempotency-key "$(uuidgen)"
    """
    session = session_of(ctx)
    body: JsonObject = {"to": to, "template": template}
    if data is not None:
        body["data"] = _data(data)
    body.update(_options(from_address, configuration_set, tags))
    if idempotency_key is not None:
        _check_key(idempotency_key)
    with reporting_errors(session), session.client() as client:
        result = client.send_email(body, idempotency_key)
    answer = result.answer
    email_id = answer.get("email_id", "?")
    if as_json:
        print_json(answer)
        if result.replayed:
            make_console(stderr=True).print(
                f"Replayed: this Idempotency-Key already queued email {email_id};"
                " nothing was sent again.",
                markup=False,
            )
        return
    console = make_console()
    if result.replayed:
        console.print(
            f"Replayed: this Idempotency-Key already queued email {email_id} to"
            f" {answer.get('to', to)}; nothing was sent again.",
            markup=False,
        )
    else:
        console.print(f"Queued email {email_id} to {answer.get('to', to)}.", markup=False)
    console.print(f"Follow it with `ems email show {email_id}`.", style="dim", markup=False)


@app.command()
def bulk(
    ctx: typer.Context,
    *,
    template: TemplateOption,
    recipients_file: Annotated[
        str,
        typer.Option(
            "--recipients",
            metavar="FILE",
            help='The recipients: a JSON array of {"to": ..., "data": {...}} objects, or one'
            " such object per line (JSON lines); - reads standard input.",
            show_default=False,
        ),
    ],
    from_address: FromOption = None,
    configuration_set: ConfigurationSetOption = None,
    tags: TagOption = None,
    idempotency_key: IdempotencyKeyOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"accepted", "rejected", "emails", "rejections", "requests"}: the'
            " API's answers merged, each index that of the recipient in FILE, and each"
            " request's request_id and whether it was replayed.",
        ),
    ] = False,
) -> None:
    """Send a template to a list of recipients, each with its own data.

    Recipients EMS cannot send to (invalid, suppressed, missing a field, a duplicate) are
    rejected one by one, listed with their index in FILE; the others are queued. More than
    1,000 recipients go as several requests of 1,000, in order (progress on standard error);
    with --idempotency-key KEY they carry KEY-1, KEY-2, ...

    Examples:

        ems email bulk --template notice --recipients list.json

        jq -c '.[]' list.json | ems email bulk -t notice --recipients - --idempotency-key n-42
    """
    session = session_of(ctx)
    options = {"template": template, **_options(from_address, configuration_set, tags)}
    name = input_name(recipients_file)
    requests = batches(_recipients(recipients_file), idempotency_key)
    if idempotency_key is not None:
        _check_key(idempotency_key, f"-{len(requests)}" if len(requests) > 1 else "")
    progress = make_console(stderr=True) if len(requests) > 1 else None
    sent: list[tuple[Batch, SendResult]] = []
    with reporting_errors(session), session.client() as client:
        for batch in requests:
            try:
                result = client.send_bulk(
                    {**options, "recipients": batch.recipients}, batch.idempotency_key
                )
            except (ApiError, ApiUnreachableError) as error:
                _explain_failure(
                    error,
                    batch,
                    total=len(requests),
                    sent=sent,
                    name=name,
                    idempotency_key=idempotency_key,
                )
                if sent:  # what was queued must not be lost from sight
                    _print_bulk(template, merge_answers(sent), as_json=as_json)
                raise
            sent.append((batch, result))
            if progress is not None:
                answer = result.answer
                progress.print(
                    f"request {batch.number} of {len(requests)}: recipients {batch.first:,} to"
                    f" {batch.last:,}: {_count(answer, 'accepted', 'emails'):,} accepted,"
                    f" {_count(answer, 'rejected', 'rejections'):,} rejected"
                    + (" (replayed)" if result.replayed else ""),
                    markup=False,
                )
    _print_bulk(template, merge_answers(sent), as_json=as_json)


@app.command()
def show(
    ctx: typer.Context,
    email_id: Annotated[
        str,
        typer.Argument(
            metavar="EMAIL_ID",
            help="The email's id (tx-...), as `send` printed it.",
            show_default=False,
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Show one transactional email: its status (QUEUED, SENT, DELIVERED, OPENED, BOUNCED ...),
    template and address, when each thing happened, and the SES events behind it.

    Example:

        ems email show tx-20301101-0123456789ab-0
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        answer = client.get_email(email_id)
    print_answer(answer, email_summary, as_json=as_json)


# --- options --------------------------------------------------------------------------------


def _options(
    from_address: str | None, configuration_set: str | None, tags: list[str] | None
) -> JsonObject:
    """The fields a single and a bulk send share, as far as they are given."""
    options: JsonObject = {}
    if from_address is not None:
        options["from"] = from_address
    if configuration_set is not None:
        options["configuration_set"] = configuration_set
    if tags:
        options["tags"] = _tags(tags)
    return options


def _tags(values: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not name:
            fail(
                f"--tag {value!r} is not NAME=VALUE",
                details=["For example: --tag kind=receipt"],
                code=EXIT_USAGE,
            )
        if name in tags:
            fail(f"--tag {name} is given twice", code=EXIT_USAGE)
        tags[name] = text
    return tags


def _data(value: str) -> JsonObject:
    """--data: a JSON object, given inline or as @FILE."""
    if value.startswith("@"):
        file = value[1:]
        if not file:
            fail(
                "--data @ needs a file name: @data.json, or @- for standard input", code=EXIT_USAGE
            )
        text = read_text_input(file, "the --data file")
        what = f"the --data file {input_name(file)}"
    else:
        text, what = value, "--data"
    try:
        document = json.loads(text)
    except ValueError as error:
        fail(f"{what} is not JSON: {error}", code=EXIT_USAGE)
    if not isinstance(document, dict):
        fail(
            f'{what} must be a JSON object of the template\'s fields, such as {{"fname": "Ann"}}',
            code=EXIT_USAGE,
        )
    return document


def _check_key(key: str, suffix: str = "") -> None:
    """The API's rule for an Idempotency-Key (1 to 255 printable ASCII characters, no space),
    for `key` with `suffix` (the longest `-<n>` a bulk send adds) after it."""
    if _IDEMPOTENCY_KEY.fullmatch(key) is None:
        fail(
            "--idempotency-key must be 1 to 255 printable ASCII characters, without spaces",
            code=EXIT_USAGE,
        )
    room = IDEMPOTENCY_KEY_MAX_LENGTH - len(suffix)
    if len(key) > room:
        fail(
            f"--idempotency-key is {len(key)} characters: at most {room}"
            + (f" (each request adds -<n>, up to {suffix})" if suffix else ""),
            code=EXIT_USAGE,
        )


# --- the recipients file --------------------------------------------------------------------


def _recipients(file: str) -> list[JsonObject]:
    """FILE's recipients: a JSON array, or JSON lines (blank lines skipped); exit 2 on the
    first entry that is not a `{"to", "data"?}` object, naming where it is."""
    name = input_name(file)
    text = read_text_input(file, "the recipients")
    entries: list[tuple[Any, str]] = []
    if text.lstrip().startswith("["):
        try:
            document = json.loads(text)
        except ValueError as error:
            fail(f"{name} is not JSON: {error}", code=EXIT_USAGE)
        entries = [(entry, f"recipient {index}") for index, entry in enumerate(document)]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError as error:
                fail(
                    f"{name} line {number} is not JSON: {error}",
                    details=[
                        'FILE holds a JSON array of {"to": ..., "data": {...}} objects,'
                        " or one such object per line."
                    ],
                    code=EXIT_USAGE,
                )
            entries.append((entry, f"line {number} (recipient {len(entries)})"))
    if not entries:
        fail(f"{name} holds no recipient", code=EXIT_USAGE)
    for entry, where in entries:
        problem = _recipient_problem(entry)
        if problem is not None:
            fail(f"{name}, {where}: {problem}", code=EXIT_USAGE)
    return [entry for entry, _ in entries]


def _recipient_problem(entry: object) -> str | None:
    if not isinstance(entry, dict):
        return 'must be a JSON object such as {"to": "ann@example.com", "data": {...}}'
    if not isinstance(entry.get("to"), str) or not entry["to"]:
        return 'needs "to": the address, as a string'
    if "data" in entry and not isinstance(entry["data"], dict):
        return '"data" must be a JSON object (the template\'s fields)'
    others = sorted(entry.keys() - RECIPIENT_KEYS)
    if others:
        return f'holds {", ".join(map(repr, others))}: a recipient has only "to" and "data"'
    return None


# --- answers --------------------------------------------------------------------------------


def merge_answers(sent: list[tuple[Batch, SendResult]]) -> JsonObject:
    """The answers of a bulk send's requests as one, indexes counted in the FILE."""
    emails: list[JsonObject] = []
    rejections: list[JsonObject] = []
    requests: list[JsonObject] = []
    accepted = rejected = 0
    for batch, result in sent:
        answer = result.answer
        emails += [_rebased(email, batch.first) for email in answer.get("emails") or []]
        rejections += [_rebased(r, batch.first) for r in answer.get("rejections") or []]
        accepted += _count(answer, "accepted", "emails")
        rejected += _count(answer, "rejected", "rejections")
        requests.append(
            {
                "request_id": answer.get("request_id"),
                "first_index": batch.first,
                "recipients": len(batch.recipients),
                "replayed": result.replayed,
            }
        )
    return {
        "accepted": accepted,
        "rejected": rejected,
        "emails": emails,
        "rejections": rejections,
        "requests": requests,
    }


def _count(answer: JsonObject, field: str, listed: str) -> int:
    value = answer.get(field)
    return value if isinstance(value, int) else len(answer.get(listed) or [])


def _rebased(item: JsonObject, first: int) -> JsonObject:
    index = item.get("index")
    return {**item, "index": index + first} if isinstance(index, int) else item


def _print_bulk(template: str, merged: JsonObject, *, as_json: bool) -> None:
    if as_json:
        print_json(merged)
        return
    console = make_console()
    requests: list[JsonObject] = merged["requests"]
    accepted, rejected = merged["accepted"], merged["rejected"]
    console.print(
        f"Queued {_emails(accepted)} with template {template}"
        + (f" in {len(requests)} requests" if len(requests) > 1 else "")
        + f"; {rejected:,} recipient{'' if rejected == 1 else 's'} rejected.",
        markup=False,
    )
    replayed = [str(n) for n, request in enumerate(requests, start=1) if request["replayed"]]
    if len(requests) == 1 and replayed:
        console.print(
            "Replayed: this Idempotency-Key was answered before; nothing was sent again.",
            markup=False,
        )
    elif replayed:
        console.print(
            f"Replayed: request(s) {', '.join(replayed)} were answered before under their"
            " Idempotency-Key; nothing was sent again for them.",
            markup=False,
        )
    if merged["rejections"]:
        console.print(send_rejections_table(merged["rejections"]))


def _emails(count: int) -> str:
    return f"{count:,} email{'' if count == 1 else 's'}"


def _explain_failure(
    error: ApiError | ApiUnreachableError,
    batch: Batch,
    *,
    total: int,
    sent: list[tuple[Batch, SendResult]],
    name: str,
    idempotency_key: str | None,
) -> None:
    """Add to `error` which request failed, what was queued before it, and how to go on; its
    problems' paths count recipients in the FILE."""
    if isinstance(error, ApiError) and batch.first:
        error.problems = [
            Problem(_file_path(problem.path, batch.first), problem.message)
            for problem in error.problems
        ]
    if total > 1:
        error.add_note(
            f"Request {batch.number} of {total} failed: recipients {batch.first:,} to"
            f" {batch.last:,} of {name} (paths count recipients from the start of {name})."
        )
    if not sent:
        return
    queued = sum(_count(result.answer, "accepted", "emails") for _, result in sent)
    error.add_note(
        f"Request{'s 1 to' if len(sent) > 1 else ''} {len(sent)} queued {_emails(queued)}"
        " (see standard output)."
    )
    if idempotency_key is not None:
        error.add_note(
            "Run the same command again, with the same --idempotency-key: the requests"
            " answered before replay (nothing is sent twice) and the rest are sent."
        )
    else:
        error.add_note(
            f"Sending all of {name} again would send those emails twice: send its recipients"
            f" from index {batch.first:,} on, or use --idempotency-key next time."
        )


def _file_path(path: str, first: int) -> str:
    """`$.recipients[3].to` of a request starting at FILE index `first`, as the FILE's index."""
    return _RECIPIENT_PATH.sub(lambda m: f"$.recipients[{int(m.group(1)) + first}]", path)
