"""The suppression pages: search and list by scope and reason, add, import a CSV, lift."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from ems_common.suppressions import ALL, LIST_PREFIX, SuppressionReason, scope_problem
from ems_scheduler.api.suppressions import SuppressionView, page_of_suppressions
from ems_scheduler.console import pages
from ems_scheduler.console.common import (
    PAGE_SIZE,
    ConsoleServices,
    local_path,
    page,
    suppression_reason,
)
from ems_scheduler.shared.recipients import ADDRESS_MAX_LENGTH
from ems_scheduler.suppressions.service import MAX_ADDRESSES_PER_REQUEST, InvalidAddressesError


def add_suppression_pages(console: Blueprint, services: ConsoleServices) -> None:  # noqa: PLR0915
    """The suppression pages, on `console` (one nested function per route)."""

    # --- suppressions ------------------------------------------------------------------------

    @console.get("/suppressions")
    def suppressions_page() -> Response:
        address = request.args.get("address", "").strip()
        scope = request.args.get("scope", "").strip() or None
        reason = suppression_reason(request.args.get("reason"))
        if scope is not None and (problem := scope_problem(scope)) is not None:
            flash(problem, "error")
            scope = None
        next_page = None
        if len(address) > ADDRESS_MAX_LENGTH:
            flash(f"An address has at most {ADDRESS_MAX_LENGTH} characters.", "error")
            found = []
        elif address:
            found = services.suppressions.of(address)
        else:
            found, next_page = page_of_suppressions(
                services.suppressions,
                services.page_tokens,
                limit=PAGE_SIZE,
                page=request.args.get("page") or None,
                scope=scope,
                reason=reason.value if reason else None,
            )
        return page(
            "suppressions.html",
            200,
            suppressions=[SuppressionView.of(s) for s in found],
            address=address,
            scope=scope or "",
            reason=reason,
            reasons=list(SuppressionReason),
            next_page=next_page,
            max_addresses=MAX_ADDRESSES_PER_REQUEST,
        )

    @console.post("/suppressions")
    def suppress() -> Response:
        addresses = [a.strip() for a in request.form.get("addresses", "").splitlines()]
        addresses = [a for a in addresses if a]
        scope = _form_scope()
        reason = suppression_reason(request.form.get("reason")) or SuppressionReason.MANUAL
        if scope is None:
            return redirect(url_for("console.suppressions_page"), 303)
        if not addresses or len(addresses) > MAX_ADDRESSES_PER_REQUEST:
            flash(f"Give 1 to {MAX_ADDRESSES_PER_REQUEST:,} addresses, one a line.", "error")
            return redirect(url_for("console.suppressions_page"), 303)
        try:
            added = services.suppressions.add(
                addresses,
                scope=scope,
                reason=reason,
                detail=request.form.get("detail", "").strip()[:500] or None,
                source="console",
            )
        except InvalidAddressesError as invalid:
            flash(
                _address_problems(invalid, [str(n) for n in range(1, len(addresses) + 1)]), "error"
            )
            return redirect(url_for("console.suppressions_page"), 303)
        flash(
            f"Suppressed in {scope}: {added.added} added, {added.already_suppressed} already there."
        )
        return redirect(url_for("console.suppressions_page", scope=scope), 303)

    @console.post("/suppressions/import")
    def import_suppressions() -> Response:
        upload = request.files.get("file")
        scope = _form_scope()
        reason = suppression_reason(request.form.get("reason")) or SuppressionReason.MANUAL
        if upload is None or not upload.filename or scope is None:
            flash("Choose a CSV file to import.", "error")
            return redirect(url_for("console.suppressions_page"), 303)
        try:
            rows = pages.read_import(upload.read().decode("utf-8-sig"))
        except (pages.ImportFileError, UnicodeDecodeError) as error:
            flash(f"Not imported: {error}", "error")
            return redirect(url_for("console.suppressions_page"), 303)
        added = already = 0
        groups: dict[tuple[str, SuppressionReason, str | None], list[pages.ImportRow]] = {}
        for row in rows:
            key = (row.scope or scope, row.reason or reason, row.detail)
            groups.setdefault(key, []).append(row)
        for (group_scope, group_reason, detail), members in groups.items():
            for start in range(0, len(members), MAX_ADDRESSES_PER_REQUEST):
                chunk = members[start : start + MAX_ADDRESSES_PER_REQUEST]
                try:
                    done = services.suppressions.add(
                        [row.address for row in chunk],
                        scope=group_scope,
                        reason=group_reason,
                        detail=detail,
                        source="console import",
                    )
                except InvalidAddressesError as invalid:
                    lines = [str(row.line) for row in chunk]
                    flash(
                        f"Stopped after {added} added: " + _address_problems(invalid, lines),
                        "error",
                    )
                    return redirect(url_for("console.suppressions_page"), 303)
                added += done.added
                already += done.already_suppressed
        flash(f"Imported {len(rows)} addresses: {added} added, {already} already suppressed.")
        return redirect(url_for("console.suppressions_page"), 303)

    @console.post("/suppressions/remove")
    def lift() -> Response:
        address = request.form.get("address", "").strip()
        scope = request.form.get("scope", "").strip() or None
        back = local_path(request.form.get("next")) or url_for(
            "console.suppressions_page", address=address
        )
        if not address or (scope is not None and scope_problem(scope) is not None):
            flash("Give the address and the scope to lift.", "error")
            return redirect(back, 303)
        lifted = services.suppressions.remove(address, scope)
        if lifted:
            flash(f"Lifted the suppression of {address.lower()} in {', '.join(lifted)}.")
        else:
            flash(f"{address.lower()} was not suppressed there: nothing lifted.", "error")
        return redirect(back, 303)

    def _form_scope() -> str | None:
        choice = request.form.get("scope", ALL)
        scope = (
            f"{LIST_PREFIX}{request.form.get('list_name', '').strip()}"
            if choice == "list"
            else choice
        )
        problem = scope_problem(scope)
        if problem is not None:
            flash(f"Not done: {problem}", "error")
            return None
        return scope


def _address_problems(invalid: InvalidAddressesError, labels: list[str]) -> str:
    """The bad addresses by line (the service names them by their place in the request)."""
    shown = []
    for problem in invalid.problems[:5]:
        index = problem["path"].removeprefix("$.addresses[").removesuffix("]")
        label = labels[int(index)] if index.isdigit() and int(index) < len(labels) else "?"
        shown.append(f"line {label}: {problem['message']}")
    more = len(invalid.problems) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "") + ". None was added."
