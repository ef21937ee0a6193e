"""Handlebars placeholders: the fields a template requires, those it tests for, its errors."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ems_scheduler.shared.handlebars import TemplateFields, TemplateSyntaxError, template_fields


def fields(source: str) -> tuple[set[str], set[str]]:
    found = template_fields(source)
    return set(found.required), set(found.conditional)


@pytest.mark.parametrize(
    ("source", "required", "conditional"),
    [
        pytest.param("<p>no placeholders</p>", set(), set(), id="none"),
        pytest.param("Hi {{fname}}!", {"fname"}, set(), id="plain"),
        pytest.param(
            "{{ fname }} {{{raw_html}}} {{&amp}}",
            {"fname", "raw_html", "amp"},
            set(),
            id="spaces, triple and & unescaped",
        ),
        pytest.param("{{~fname~}} {{~{raw}~}}", {"fname", "raw"}, set(), id="whitespace control"),
        pytest.param(
            "{{user.name}} {{user/email}} {{this.plan}} {{./tier}}",
            {"user", "plan", "tier"},
            set(),
            id="paths: the top-level field",
        ),
        pytest.param(
            "{{[first name]}} {{unsub-link}}",
            {"first name", "unsub-link"},
            set(),
            id="bracketed and dashed names",
        ),
        pytest.param(
            "{{! a comment with {{fname}} }} {{!-- {{lname}} }} --}}", set(), set(), id="comments"
        ),
        pytest.param("\\{{fname}} \\\\{{lname}}", {"lname"}, set(), id="escaped mustache"),
        pytest.param(
            "{{{{raw}}}} {{fname}} {{{{/raw}}}} {{lname}}", {"lname"}, set(), id="raw block"
        ),
        pytest.param(
            "{{#if fname}}Hi {{fname}}{{else}}Hi there{{/if}}",
            set(),
            {"fname"},
            id="if guards its own field",
        ),
        pytest.param(
            "{{#if vip}}{{discount}}{{else}}{{standard}}{{/if}}",
            {"discount", "standard"},
            {"vip"},
            id="if: condition only",
        ),
        pytest.param(
            "{{#unless opted_out}}{{offer}}{{else}}{{opted_out}}{{/unless}}",
            {"offer"},
            {"opted_out"},
            id="unless guards its else",
        ),
        pytest.param(
            "{{#if a}}A{{else if b}}{{b}}{{else}}{{c}}{{/if}}",
            {"c"},
            {"a", "b"},
            id="else if chain",
        ),
        pytest.param(
            "{{#if (eq plan 'pro')}}{{seats}}{{/if}}",
            {"seats"},
            {"plan"},
            id="subexpression condition",
        ),
        pytest.param(
            "{{#each items}}{{this}} {{@index}} {{name}} {{../fname}} "
            "{{@root.lname}}{{else}}{{empty_note}}{{/each}}",
            {"items", "fname", "lname", "empty_note"},
            set(),
            id="each",
        ),
        pytest.param(
            "{{#each items as |item i|}}{{item.name}} {{i}}{{/each}}",
            {"items"},
            set(),
            id="block parameters",
        ),
        pytest.param(
            "{{#with user}}{{name}} {{../fname}}{{/with}}", {"user", "fname"}, set(), id="with"
        ),
        pytest.param(
            "{{#section}}{{inner}}{{/section}}{{^inverted}}{{fallback}}{{/inverted}}",
            {"fallback"},
            {"section", "inverted"},
            id="mustache sections",
        ),
        pytest.param(
            "{{format_date date 'long' tz=zone}} {{lookup prices plan}}",
            {"date", "zone", "prices", "plan"},
            set(),
            id="helper arguments",
        ),
        pytest.param(
            "{{1}} {{true}} {{'text'}} {{null}} {{@index}} {{this}}",
            set(),
            set(),
            id="literals and data",
        ),
        pytest.param(
            '{{#*inline "greeting"}}Hi {{fname}}{{/inline}}{{> greeting}}',
            {"fname"},
            set(),
            id="inline partial",
        ),
        pytest.param(
            '{{#*inline "row"}}{{name}}{{/inline}}{{#each items}}{{> row}}{{/each}}',
            {"items"},
            set(),
            id="inline partial inside each",
        ),
        pytest.param(
            '{{#*inline "p"}}{{> p}}{{x}}{{/inline}}{{> p}}', {"x"}, set(), id="recursive partial"
        ),
    ],
)
def test_template_fields(source: str, required: set[str], conditional: set[str]) -> None:
    assert fields(source) == (required, conditional)


def test_a_field_required_anywhere_is_required() -> None:
    assert fields("{{#if fname}}{{fname}}{{/if}} Dear {{fname}}") == ({"fname"}, set())


def test_fields_of_html_and_subject_combine() -> None:
    combined = template_fields("{{#if a}}{{a}}{{/if}}") | template_fields("Hi {{a}} {{b}}")

    assert combined == TemplateFields(frozenset({"a", "b"}), frozenset())


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("<p>\n{{#if vip}}\n</p>", 2, "{{#if}} is never closed: add {{/if}}"),
        ("{{/if}}", 1, "{{/if}} closes no block"),
        ("{{#each items}}\n{{#if a}}\n{{/each}}", 3, "{{/each}} closes {{#if}} opened on line 2"),
        ("<p>{{fname</p>", 1, "a {{ is never closed"),
        ("{{else}}", 1, "{{else}} outside any block"),
        ("{{#if a}}{{else}}{{else}}{{/if}}", 1, "{{else}} twice"),
        ("{{}}", 1, "an empty {{ }}"),
        ("\n\n{{> footer}}", 3, "the partial 'footer' is not defined"),
        ("{{!-- never closed", 1, "comment is never closed"),
        ("{{{{raw}}}} no end", 1, "never closed"),
        ("{{helper 'unterminated}}", 1, "string inside {{ }} is never closed"),
        ("{{helper (inner a}}", 1, "subexpression is not closed"),
        ("{{a b)}}", 1, "unbalanced ')'"),
        ("{{a <b>}}", 1, "unexpected '<'"),
    ],
)
def test_template_errors_name_the_line(source: str, line: int, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        template_fields(source)

    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"line {line}: ")


@given(st.text(alphabet="{}#/^!~&>*ab .\"'()=|@[]\\\n", max_size=60))
def test_any_text_parses_or_raises_template_syntax_error(source: str) -> None:
    with contextlib.suppress(TemplateSyntaxError):
        template_fields(source)
