"""SES templates: SES's size limit, and the store adapter.

The adapter goes through the SES v1 API (the one LocalStack emulates; SES v2 shares the
templates). Campaigns and transactional email both keep their templates there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

SES_TEMPLATE_MAX_BYTES: Final = 500_000
"""SES: "each template can be up to 500 KB in size, including both the text and HTML parts".

Read as 500,000 bytes (UTF-8) for subject, HTML and text together: the stricter reading of
"KB", so a template EMS accepts is never one SES refuses.
"""


class TemplateRenderError(ValueError):
    """SES could not render the template with the data given (a missing field, bad JSON)."""


class SesTemplates:
    """Creates, replaces and deletes SES templates."""

    def __init__(self, client: SESClient) -> None:
        self._ses = client

    def put(self, name: str, *, subject: str, html: str, text: str | None = None) -> None:
        """Create the template, or replace its content if the name exists (idempotent)."""
        template = {"TemplateName": name, "SubjectPart": subject, "HtmlPart": html}
        if text:
            template["TextPart"] = text
        try:
            self._ses.create_template(Template=template)  # type: ignore[arg-type]
        except self._ses.exceptions.AlreadyExistsException:
            self._ses.update_template(Template=template)  # type: ignore[arg-type]

    def get(self, name: str) -> tuple[str, str, str | None] | None:
        """The template's subject, HTML and text parts; None if SES has no such template."""
        try:
            template = self._ses.get_template(TemplateName=name)["Template"]
        except self._ses.exceptions.TemplateDoesNotExistException:
            return None
        return (
            template.get("SubjectPart", ""),
            template.get("HtmlPart", ""),
            template.get("TextPart"),
        )

    def render(self, name: str, data: str) -> str:
        """The MIME message SES makes of the template with `data` (JSON): SES's own rendering,
        the one every email gets (TestRenderTemplate). TemplateRenderError says what is wrong."""
        try:
            return self._ses.test_render_template(TemplateName=name, TemplateData=data)[
                "RenderedTemplate"
            ]
        except (
            self._ses.exceptions.MissingRenderingAttributeException,
            self._ses.exceptions.InvalidRenderingParameterException,
            self._ses.exceptions.TemplateDoesNotExistException,
        ) as error:
            raise TemplateRenderError(
                str(error.response.get("Error", {}).get("Message"))
            ) from error

    def delete(self, name: str) -> None:
        """Delete the template; a missing one is fine."""
        try:
            self._ses.delete_template(TemplateName=name)
        except self._ses.exceptions.TemplateDoesNotExistException:
            return
