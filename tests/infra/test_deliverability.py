"""The sender domain's DNS records, as the AWS environments' plans print them (`dns_records`).

What a deployer copies to their DNS provider: the SES verification TXT, three DKIM CNAMEs, the
custom MAIL FROM domain's MX and SPF TXT, and a DMARC TXT starting at p=none. The plan knows
every record's name, type and value but the SES tokens, which only SES makes (at apply): for
the verification record and the DKIM CNAMEs these tests check the number, names where known,
types and that the values are left to apply, not the tokens themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.planfile import Plan, Resource

pytestmark = pytest.mark.infra

OUTPUT = "dns_records"
SES_SPF = "v=spf1 include:amazonses.com ~all"
DKIM_RECORDS = 3  # SES's Easy DKIM


def identity(plan: Plan) -> Resource:
    """The SES domain identity (one per environment)."""
    (found,) = plan.managed("aws_ses_domain_identity")
    return found


def records(plan: Plan) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The output's records, each with its known values and its after-apply flags."""
    change = plan.document.get("output_changes", {}).get(OUTPUT)
    assert change is not None, f"{plan.name}: the root has no {OUTPUT} output"
    after, unknown = change.get("after"), change.get("after_unknown")
    assert isinstance(after, list), f"{plan.name}: {OUTPUT} is wholly unknown at plan: {unknown}"
    flags = unknown if isinstance(unknown, list) else [{}] * len(after)
    pairs = zip(after, flags, strict=True)
    return [(record, flag if isinstance(flag, dict) else {}) for record, flag in pairs]


def test_the_domain_gets_a_custom_mail_from_domain(plan: Plan) -> None:
    domain = identity(plan).values["domain"]
    mail_froms = plan.managed("aws_ses_domain_mail_from")
    assert len(mail_froms) == 1, f"{plan.name}: {len(mail_froms)} aws_ses_domain_mail_from"
    values = mail_froms[0].values
    assert values.get("domain") == domain
    assert str(values.get("mail_from_domain")).endswith(f".{domain}"), values
    # A missing MX must not stop the mail: SES falls back to its own MAIL FROM domain.
    assert values.get("behavior_on_mx_failure") == "UseDefaultValue"


def test_dns_records_list_every_record_the_domain_needs(plan: Plan) -> None:
    domain = identity(plan).values["domain"]
    region = plan.document["variables"]["region"]["value"]
    (mail_from,) = plan.managed("aws_ses_domain_mail_from")
    mail_from_domain = mail_from.values["mail_from_domain"]
    listed = records(plan)
    assert all(record.get("purpose") for record, _ in listed), f"{plan.name}: a record says no why"

    def kind(type_: str, name: str | None = None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [
            (record, flags)
            for record, flags in listed
            if record.get("type") == type_ and (name is None or record.get("name") == name)
        ]

    verification = kind("TXT", f"_amazonses.{domain}")
    assert len(verification) == 1, f"{plan.name}: no _amazonses.{domain} TXT"
    assert verification[0][1].get("value") is True  # SES's token, made at apply

    dkim = kind("CNAME")
    assert len(dkim) == DKIM_RECORDS, f"{plan.name}: {len(dkim)} DKIM CNAMEs"
    assert all(flags.get("name") is True and flags.get("value") is True for _, flags in dkim)

    mx = kind("MX", mail_from_domain)
    assert [record["value"] for record, _ in mx] == [f"10 feedback-smtp.{region}.amazonses.com"]
    spf = kind("TXT", mail_from_domain)
    assert [record["value"] for record, _ in spf] == [SES_SPF]

    dmarc = kind("TXT", f"_dmarc.{domain}")
    assert len(dmarc) == 1, f"{plan.name}: no _dmarc.{domain} TXT"
    assert str(dmarc[0][0].get("value")).startswith("v=DMARC1; p=none"), dmarc

    assert len(listed) == 1 + DKIM_RECORDS + 2 + 1, f"{plan.name}: unexpected records {listed}"
