"""`ems template ...`: the templates of transactional email: create, replace, list, show and
delete them, and follow the numbers of the emails sent with each (`metrics`)."""

from __future__ import annotations

from typing import Annotated

import typer

from ems_cli.client import ApiError, EmsClient, JsonObject, Page
from ems_cli.listing import AllPagesOption, Listing, PageOption, list_pages
from ems_cli.options import JsonOption, YesOption, confirm_unless
from ems_cli.render import (
    make_console,
    print_answer,
    print_json,
    template_metrics_report,
    template_summary,
    templates_table,
)
from ems_cli.session import EXIT_USAGE, fail, read_text_input, reporting_errors, session_of

app = typer.Typer(
    help="Create, replace, list, show and delete the templates of transactional email; follow"
    " the numbers of the emails sent with each.",
    no_args_is_help=True,
)

TemplateName = Annotated[
    str,
    typer.Argument(
        metavar="NAME",
        help="The template's name (1-48 of A-Z a-z 0-9 _ -).",
        show_default=False,
    ),
]
SubjectOption = Annotated[
    str,
    typer.Option(
        "--subject",
        metavar="SUBJECT",
        help="The subject line; may hold placeholders such as {{fname}}.",
        show_default=False,
    ),
]
HtmlOption = Annotated[
    str | None,
    typer.Option(
        "--html",
        metavar="FILE",
        help="The HTML part, from this file (- reads standard input).",
        show_default=False,
    ),
]
HtmlS3UriOption = Annotated[
    str | None,
    typer.Option(
        "--html-s3-uri",
        metavar="S3_URI",
        help="Instead of --html: the HTML part already uploaded to a bucket EMS reads.",
        show_default=False,
    ),
]
TextOption = Annotated[
    str | None,
    typer.Option(
        "--text",
        metavar="FILE",
        help="The plain-text part, from this file (- reads standard input).",
        show_default=False,
    ),
]


def _content(
    command: str, subject: str, html: str | None, html_s3_uri: str | None, text: str | None
) -> JsonObject:
    """The template's content as the API takes it: `{"subject", "html" | "htmlS3Uri", "text"?}`."""
    if (html is None) == (html_s3_uri is None):
        fail(
            "give either --html or --html-s3-uri, not both"
            if html is not None
            else "give the HTML part: --html FILE or --html-s3-uri S3_URI",
            details=[f"See `ems template {command} --help`."],
            code=EXIT_USAGE,
        )
    if html == "-" and text == "-":
        fail("--html and --text cannot both read standard input (-)", code=EXIT_USAGE)
    body: JsonObject = {"subject": subject}
    if html is not None:
        body["html"] = read_text_input(html, "the HTML part")
    else:
        body["htmlS3Uri"] = html_s3_uri
    if text is not None:
        body["text"] = read_text_input(text, "the text part")
    return body


@app.command()
def create(
    ctx: typer.Context,
    name: TemplateName,
    *,
    subject: SubjectOption,
    html: HtmlOption = None,
    html_s3_uri: HtmlS3UriOption = None,
    text: TextOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a template from a subject and an HTML part (and a plain-text part).

    EMS reads the placeholders ({{fname}}, {{#if vip}}...{{/if}}) and refuses a template SES
    could not render, naming the line; every email's --data must then hold the required
    fields. A name already taken is refused: `ems template update` replaces a template.

    Examples:

        ems template create receipt --subject "Your receipt, {{fname}}" --html receipt.html

        ems template create notice --subject Notice --html-s3-uri s3://ems-assets/notice.html
    """
    session = session_of(ctx)
    body = {"name": name, **_content("create", subject, html, html_s3_uri, text)}
    with reporting_errors(session), session.client() as client:
        try:
            template = client.create_template(body)
        except ApiError as error:
            if error.status == 409:
                error.add_note(f"`ems template update {name}` (same options) replaces it.")
            raise
    print_answer(template, template_summary, as_json=as_json, headline=f"Created template {name}.")


@app.command()
def update(
    ctx: typer.Context,
    name: TemplateName,
    *,
    subject: SubjectOption,
    html: HtmlOption = None,
    html_s3_uri: HtmlS3UriOption = None,
    text: TextOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a template's subject, HTML and text (or create it if there is none by that name).

    The whole content is replaced: leave out --text and the template has no text part. Emails
    already queued may be sent with the new content.

    Example:

        ems template update receipt --subject "Your receipt" --html receipt.html --text receipt.txt
    """
    session = session_of(ctx)
    body = _content("update", subject, html, html_s3_uri, text)
    with reporting_errors(session), session.client() as client:
        result = client.put_template(name, body)
    done = "Created" if result.created else "Replaced"
    print_answer(
        result.template, template_summary, as_json=as_json, headline=f"{done} template {name}."
    )


@app.command("list")
def list_templates(
    ctx: typer.Context,
    *,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=200, help="Templates per page.")
    ] = 50,
    page: PageOption = None,
    all_pages: AllPagesOption = False,
    as_json: JsonOption = False,
) -> None:
    """List the templates with their subject and required fields, 50 to a page.

    Examples:

        ems template list

        ems template list --all --json
    """

    def fetch(client: EmsClient, token: str | None) -> Page:
        return client.list_templates(limit=limit, page=token)

    listing = Listing(templates_table, empty="No templates.", more="templates")
    list_pages(ctx, fetch, listing, page=page, all_pages=all_pages, as_json=as_json)


@app.command()
def show(
    ctx: typer.Context,
    name: TemplateName,
    *,
    html: Annotated[
        bool,
        typer.Option(
            "--html",
            help="Print only the HTML part, as stored (e.g. to edit it and `update` again).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a template: its subject, the fields its data must hold, its size and times.

    Examples:

        ems template show receipt

        ems template show receipt --html > receipt.html
    """
    session = session_of(ctx)
    if html and as_json:
        fail("give --html or --json, not both", code=EXIT_USAGE)
    with reporting_errors(session), session.client() as client:
        template = client.get_template(name)
    if html:
        print(str(template.get("html") or ""), end="")
        return
    print_answer(template, template_summary, as_json=as_json)


@app.command()
def delete(
    ctx: typer.Context,
    name: TemplateName,
    yes: YesOption = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"template": ..., "deleted": true} (the API answers with no body).',
        ),
    ] = False,
) -> None:
    """Delete a template. Emails still queued for it then fail (FAILED).

    Asks first unless --yes.

    Example:

        ems template delete receipt --yes
    """
    session = session_of(ctx)
    confirm_unless(yes, f"Delete template {name}? Emails still queued for it will fail.")
    with reporting_errors(session), session.client() as client:
        client.delete_template(name)
    if as_json:
        print_json({"template": name, "deleted": True})
    else:
        make_console().print(f"Deleted template {name}.", markup=False)


@app.command()
def metrics(
    ctx: typer.Context,
    name: TemplateName,
    *,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            metavar="N",
            min=1,
            help="Show the newest N days as columns (the total counts them all). Default: as"
            " many as fit the terminal's width.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the numbers of the emails sent with a template as a table: sent, delivered,
    bounced, complained, opened, clicked, failed, suppressed ..., in total and per UTC day
    (the day each email was requested), with rates as percentages.

    Examples:

        ems template metrics receipt

        ems template metrics receipt --days 30
    """
    session = session_of(ctx)
    with reporting_errors(session), session.client() as client:
        answer = client.template_metrics(name)
    if as_json:
        print_json(answer)
        return
    console = make_console()
    console.print(template_metrics_report(answer, days_shown=days, width=console.width))
