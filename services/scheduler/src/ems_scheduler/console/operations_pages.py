"""The operators' pages: transactional templates (a preview SES renders, numbers per day) and
the dead-letter queues (peek, redrive)."""

from __future__ import annotations

import re
from typing import Final

import orjson
from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from ems_common.transactional import template_partition
from ems_scheduler.api.transactional import TemplateMetricsView, TemplateView, page_of_templates
from ems_scheduler.console import pages
from ems_scheduler.console.common import PAGE_SIZE, ConsoleServices, page
from ems_scheduler.dead_letters.queues import MAX_PEEK, RedriveRunningError, UnknownQueueError
from ems_scheduler.shared.ses_template_store import TemplateRenderError
from ems_scheduler.transactional.service import TemplateNotFound

# The API's own rule for a template name in a path (`TemplatePath`): another is no page.
_TEMPLATE_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,48}")


def add_operations_pages(console: Blueprint, services: ConsoleServices) -> None:
    """The template and dead-letter pages, on `console`."""

    # --- transactional templates ---------------------------------------------------------------

    @console.get("/templates")
    def templates_page() -> Response:
        records, next_page = page_of_templates(
            services.transactional,
            services.page_tokens,
            limit=PAGE_SIZE,
            page=request.args.get("page") or None,
        )
        return page(
            "templates.html",
            200,
            templates=[TemplateView.of(r) for r in records],
            next_page=next_page,
        )

    @console.route("/templates/<name>", methods=["GET", "POST"])
    def template_page(name: str) -> Response:
        if not _TEMPLATE_NAME.fullmatch(name):
            raise TemplateNotFound(name[:64])
        record = services.transactional.require_template(name)
        fields = [*record.required_fields, *record.conditional_fields]
        sample = {field: f"Sample {field}" for field in fields}
        data_text = (
            request.form.get("data") or orjson.dumps(sample, option=orjson.OPT_INDENT_2).decode()
        )
        rendered = problem = None
        try:
            data = orjson.loads(data_text)
            if not isinstance(data, dict):
                raise TypeError
        except (orjson.JSONDecodeError, TypeError):
            problem = 'The sample data must be a JSON object, like {"name": "Ann"}.'
        else:
            try:
                rendered = pages.rendered_email(services.transactional.preview_template(name, data))
            except TemplateRenderError as error:
                problem = f"SES could not render it with this data: {error}"
        numbers = services.tracking.metrics(template_partition(name))
        return page(
            "template.html",
            200,
            template=TemplateView.of(record),
            data_text=data_text,
            rendered=rendered,
            problem=problem,
            metrics=TemplateMetricsView.of(name, numbers),
        )

    # --- dead-letter queues ------------------------------------------------------------------

    @console.get("/dlq")
    def dlq_page() -> Response:
        return page("dlq.html", 200, counts=services.dead_letters.counts())

    @console.get("/dlq/<queue>")
    def dlq_queue_page(queue: str) -> Response:
        known = services.dead_letters.queue_names()
        if queue not in known:
            raise UnknownQueueError(queue, known)
        letters = services.dead_letters.peek(queue, MAX_PEEK)
        return page(
            "dlq_queue.html",
            200,
            queue=queue,
            letters=letters,
            count=services.dead_letters.counts().get(queue, 0),
        )

    @console.post("/dlq/<queue>/redrive")
    def redrive(queue: str) -> Response:
        known = services.dead_letters.queue_names()
        if queue not in known:
            raise UnknownQueueError(queue, known)
        try:
            task = services.dead_letters.redrive(queue)
        except RedriveRunningError as running:
            flash(str(running), "error")
        else:
            flash(f"Redrive started: about {task.messages_to_move} messages go back to {queue}.")
        return redirect(url_for("console.dlq_queue_page", queue=queue), 303)
