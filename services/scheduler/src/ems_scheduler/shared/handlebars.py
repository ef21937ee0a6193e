"""Handlebars, the template language SES renders: which recipient fields a template needs.

SES renders stored templates with Handlebars, and an email whose template data lacks a field
the template prints is not sent: SES reports a Rendering Failure event later, long after the
campaign was accepted. So EMS reads the placeholders of each template (HTML part and subject;
the campaign compiler and transactional sends alike) and rejects, up front, every recipient that
lacks one of the fields they need.

Which top-level fields a template *requires* (``TemplateFields.required``):

- ``{{name}}``, ``{{{name}}}``, ``{{&name}}``, ``{{~name~}}``: ``name``.
- ``{{user.name}}``, ``{{user/name}}``, ``{{this.user}}``, ``{{[user].name}}``: ``user`` (the
  first segment of the path; recipients' fields are strings, so only the top level is checked).
- ``{{helper a b key=c}}`` and ``(helper a b)``: ``a``, ``b`` and ``c``; the helper is no field.
- ``{{#each items}}`` / ``{{#with user}}``: ``items`` / ``user``. Inside the block the context
  is the item, so ``{{this}}``, ``{{@index}}``, ``{{name}}`` and block parameters
  (``as |item i|``) are not top-level fields; ``{{../name}}`` and ``{{@root.name}}`` are.
- ``{{> partial}}`` of an inline partial (``{{#*inline "partial"}}...{{/inline}}``): what
  the partial requires where it is used. SES knows no other partials: using one is an error.

Not required (``TemplateFields.conditional``), because that is what conditionals are for:

- fields used only as conditions: ``{{#if x}}``, ``{{#unless x}}``, ``{{else if x}}``,
  sections ``{{#x}}...{{/x}}`` and inverted sections ``{{^x}}...{{/x}}``;
- fields the condition guards: ``{{#if fname}}Hi {{fname}}{{else}}Hi{{/if}}`` prints fname only
  when it is there, so a recipient without fname is fine (likewise the ``{{else}}`` part of
  ``{{#unless x}}``).

Comments (``{{! }}``, ``{{!-- --}}``), escaped mustaches (``\\{{name}}``), raw blocks
(``{{{{raw}}}}...{{{{/raw}}}}``), literals (``"text"``, ``1``, ``true``) and data variables
(``@index``, ``@key``, ``@first``, ``@last``) need no field. Unbalanced blocks, an unclosed
``{{``, a stray ``{{else}}`` or an unknown partial are template errors (TemplateSyntaxError,
with the line).
"""

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

# Handlebars' lexer (handlebars.l): an ID is anything but whitespace and these characters.
_ID = r"""[^\s!"#%-,./;->@\[-\^`{-~]+"""
_SEGMENT = rf"(?:\.\.|\.(?=[=~}}\s/.)|\]])|\[(?:\\\]|[^\]])*\]|{_ID})"
_PATH = re.compile(rf"@?{_SEGMENT}(?:[/.]{_SEGMENT})*")
_LITERAL_END = r"(?=[~}\s)])"
_NUMBER = re.compile(rf"-?[0-9]+(?:\.[0-9]+)?{_LITERAL_END}")
_KEYWORD = re.compile(rf"(?:true|false|null|undefined){_LITERAL_END}")
_SPACE = re.compile(r"\s*")
_COMMENT_END = re.compile(r"~?}}")
_LONG_COMMENT_END = re.compile(r"--~?}}")
_PATH_PARTS = re.compile(_SEGMENT)

_CONDITIONS: Final = frozenset({"if", "unless"})
_CONTEXT_BLOCKS: Final = frozenset({"each", "with"})


class TemplateSyntaxError(ValueError):
    """A template Handlebars (hence SES) cannot render; the message names the line."""

    def __init__(self, message: str, line: int) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class TemplateFields:
    """The top-level fields a template uses: those every recipient needs, and the others."""

    required: frozenset[str] = frozenset()
    conditional: frozenset[str] = frozenset()

    def __or__(self, other: "TemplateFields") -> "TemplateFields":
        required = self.required | other.required
        return TemplateFields(required, (self.conditional | other.conditional) - required)


# --- the parse tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
    data: bool  # @name
    ups: int  # leading ../
    this: bool  # leading this or .
    names: tuple[str, ...]
    original: str


@dataclass(frozen=True)
class _Literal:
    original: str


@dataclass(frozen=True)
class _Call:
    head: "_Expression"
    params: tuple["_Expression", ...] = ()
    hash_keys: tuple[str, ...] = ()
    hash_values: tuple["_Expression", ...] = ()
    block_params: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.head.original if isinstance(self.head, _Path | _Literal) else ""

    @property
    def arguments(self) -> tuple["_Expression", ...]:
        return self.params + self.hash_values


_Expression = _Path | _Literal | _Call

_TagKind = Literal[
    "mustache",
    "open",
    "open_inverse",
    "inverse",
    "inverse_chain",
    "close",
    "partial",
    "open_partial",
    "open_decorator",
]


@dataclass(frozen=True)
class _Tag:
    kind: _TagKind
    call: _Call
    line: int


@dataclass
class _Block:
    kind: _TagKind
    call: _Call
    line: int
    chained: bool = False
    program: list["_Node"] = field(default_factory=list)
    inverse: list["_Node"] | None = None


_Node = _Tag | _Block


# --- lexing ------------------------------------------------------------------------------------


class _Lines:
    """Line numbers of offsets, for messages."""

    def __init__(self, source: str) -> None:
        self._starts = [index for index, character in enumerate(source) if character == "\n"]

    def of(self, offset: int) -> int:
        return bisect.bisect_left(self._starts, offset) + 1


def _is_escaped(source: str, start: int) -> bool:
    # "\{{" is a literal "{{"; "\\{{" is a literal backslash before a real mustache.
    return (
        start >= 1 and source[start - 1] == "\\" and not (start >= 2 and source[start - 2] == "\\")
    )


def _scan(source: str, lines: _Lines) -> Iterator[_Tag]:  # noqa: PLR0912 - one branch per tag
    position = 0
    while (start := source.find("{{", position)) >= 0:
        line = lines.of(start)
        if _is_escaped(source, start):
            position = start + 2
            continue
        if source.startswith("{{{{", start):
            position = _skip_raw_block(source, start, line)
            continue
        cursor = start + 2
        if source.startswith("~", cursor):
            cursor += 1
        if source.startswith("!--", cursor):
            end = _LONG_COMMENT_END.search(source, cursor + 3)
            if end is None:
                raise TemplateSyntaxError("a {{!-- comment is never closed with --}}", line)
            position = end.end()
            continue
        if source.startswith("!", cursor):
            end = _COMMENT_END.search(source, cursor + 1)
            if end is None:
                raise TemplateSyntaxError("a {{! comment is never closed with }}", line)
            position = end.end()
            continue
        triple = source.startswith("{", cursor)
        if triple:
            cursor += 1
        kind: _TagKind = "mustache"
        marker = "" if triple else source[cursor : cursor + 2]
        if marker in ("#>", "#*"):
            kind = "open_partial" if marker == "#>" else "open_decorator"
            cursor += 2
        elif marker[:1] in ("#", "^", "/", ">", "&", "*"):
            kind = {
                "#": "open",
                "^": "open_inverse",
                "/": "close",
                ">": "partial",
                "&": "mustache",
                "*": "mustache",
            }[marker[0]]  # type: ignore[assignment]
            cursor += 1
        tokens, position = _lex(source, cursor, triple=triple, line=line)
        if kind == "mustache" and marker[:1] == "*":
            continue  # a decorator: nothing to render
        if kind == "open_inverse" and not tokens:
            kind = "inverse"  # {{^}}
        elif kind == "mustache" and tokens[:1] == [("path", "else")]:
            kind = "inverse" if len(tokens) == 1 else "inverse_chain"
            tokens = tokens[1:]
        if kind != "inverse" and not tokens:
            raise TemplateSyntaxError("an empty {{ }}: write a field name inside", line)
        yield _Tag(kind, _parse_call(tokens, line) if tokens else _Call(_Literal("")), line)


def _skip_raw_block(source: str, start: int, line: int) -> int:
    opened = source.find("}}}}", start)
    if opened < 0:
        raise TemplateSyntaxError("a {{{{raw block}}}} tag is never closed", line)
    name = source[start + 4 : opened].strip().split(" ")[0]
    closing = "{{{{/" + name + "}}}}"
    end = source.find(closing, opened)
    if end < 0:
        raise TemplateSyntaxError(f"the raw block {{{{{{{{{name}}}}}}}}} is never closed", line)
    return end + len(closing)


_Token = tuple[str, str]


def _lex(source: str, cursor: int, *, triple: bool, line: int) -> tuple[list[_Token], int]:
    closers = ("}~}}", "}}}") if triple else ("~}}", "}}")
    tokens: list[_Token] = []
    while True:
        cursor = _SPACE.match(source, cursor).end()  # type: ignore[union-attr]
        for closer in closers:
            if source.startswith(closer, cursor):
                return tokens, cursor + len(closer)
        if cursor >= len(source):
            raise TemplateSyntaxError("a {{ is never closed with }}", line)
        character = source[cursor]
        if character in "\"'":
            end = cursor + 1
            while end < len(source) and source[end] != character:
                end += 2 if source[end] == "\\" else 1
            if end >= len(source):
                raise TemplateSyntaxError("a string inside {{ }} is never closed", line)
            tokens.append(("string", source[cursor + 1 : end]))
            cursor = end + 1
        elif character in "()|=":
            tokens.append((character, character))
            cursor += 1
        elif (match := _NUMBER.match(source, cursor) or _KEYWORD.match(source, cursor)) is not None:
            tokens.append(("literal", match.group()))
            cursor = match.end()
        elif (match := _PATH.match(source, cursor)) is not None:
            tokens.append(("path", match.group()))
            cursor = match.end()
        elif source.find("}}", cursor) < 0:
            raise TemplateSyntaxError("a {{ is never closed with }}", line)
        else:
            raise TemplateSyntaxError(
                f"unexpected {character!r} inside {{{{ }}}}: write a field name, "
                "a helper call or a quoted string",
                line,
            )


# --- parsing -----------------------------------------------------------------------------------


def _parse_path(original: str) -> _Path:
    data = original.startswith("@")
    parts = [
        part[1:-1] if part.startswith("[") else part
        for part in _PATH_PARTS.findall(original[1:] if data else original)
    ]
    ups = 0
    while ups < len(parts) and parts[ups] == "..":
        ups += 1
    rest = parts[ups:]
    this = bool(rest) and rest[0] in ("this", ".")
    names = tuple(rest[1:] if this else rest)
    return _Path(data=data, ups=ups, this=this, names=names, original=original)


def _parse_call(tokens: Sequence[_Token], line: int) -> _Call:
    call, end = _parse_sequence(tokens, 0, line, closing=None)
    if end != len(tokens):
        raise TemplateSyntaxError("unbalanced ')' inside {{ }}", line)
    return call


def _parse_sequence(
    tokens: Sequence[_Token], index: int, line: int, closing: str | None
) -> tuple[_Call, int]:
    expressions: list[_Expression] = []
    hash_keys: list[str] = []
    hash_values: list[_Expression] = []
    block_params: list[str] = []
    while index < len(tokens):
        kind, text = tokens[index]
        if kind == ")":
            if closing != ")":
                raise TemplateSyntaxError("unbalanced ')' inside {{ }}", line)
            break
        if kind == "path" and text == "as" and tokens[index + 1 : index + 2] == [("|", "|")]:
            index += 2
            while index < len(tokens) and tokens[index][0] == "path":
                block_params.append(tokens[index][1])
                index += 1
            if tokens[index : index + 1] != [("|", "|")]:
                raise TemplateSyntaxError("block parameters 'as |a b|' are not closed", line)
            index += 1
            continue
        value: _Expression
        if kind == "path" and tokens[index + 1 : index + 2] == [("=", "=")]:
            if index + 2 >= len(tokens):
                raise TemplateSyntaxError(f"{text}= has no value", line)
            value, index = _parse_value(tokens, index + 2, line)
            hash_keys.append(text)
            hash_values.append(value)
            continue
        value, index = _parse_value(tokens, index, line)
        expressions.append(value)
    else:
        if closing == ")":
            raise TemplateSyntaxError("a '(' subexpression is not closed", line)
    if not expressions:
        raise TemplateSyntaxError("a helper call without a helper name", line)
    call = _Call(
        head=expressions[0],
        params=tuple(expressions[1:]),
        hash_keys=tuple(hash_keys),
        hash_values=tuple(hash_values),
        block_params=tuple(block_params),
    )
    return call, index


def _parse_value(tokens: Sequence[_Token], index: int, line: int) -> tuple[_Expression, int]:
    kind, text = tokens[index]
    if kind == "(":
        call, end = _parse_sequence(tokens, index + 1, line, closing=")")
        return call, end + 1
    if kind == "path":
        return _parse_path(text), index + 1
    if kind in ("string", "literal"):
        return _Literal(text), index + 1
    raise TemplateSyntaxError(f"unexpected {text!r} inside {{{{ }}}}", line)


def _build(  # noqa: PLR0912 - one branch per tag kind
    tags: Iterator[_Tag],
) -> tuple[list[_Node], dict[str, list[_Node]]]:
    root: list[_Node] = []
    stack: list[tuple[_Block | None, list[_Node]]] = [(None, root)]
    inline_partials: dict[str, list[_Node]] = {}
    for tag in tags:
        block, nodes = stack[-1]
        if tag.kind in ("mustache", "partial"):
            nodes.append(tag)
        elif tag.kind in ("open", "open_inverse", "open_partial", "open_decorator"):
            opened = _Block(tag.kind, tag.call, tag.line)
            nodes.append(opened)
            stack.append((opened, opened.program))
        elif tag.kind in ("inverse", "inverse_chain"):
            if block is None or block.inverse is not None:
                where = "outside any block" if block is None else "twice in one block"
                raise TemplateSyntaxError(f"{{{{else}}}} {where}", tag.line)
            block.inverse = []
            stack[-1] = (block, block.inverse)
            if tag.kind == "inverse_chain":
                chained = _Block("open", tag.call, tag.line, chained=True)
                block.inverse.append(chained)
                stack.append((chained, chained.program))
        else:  # close
            while block is not None and block.chained:
                stack.pop()
                block, _ = stack[-1]
            if block is None:
                raise TemplateSyntaxError(f"{{{{/{tag.call.name}}}}} closes no block", tag.line)
            if block.call.name != tag.call.name:
                raise TemplateSyntaxError(
                    f"{{{{/{tag.call.name}}}}} closes {{{{#{block.call.name}}}}} opened on "
                    f"line {block.line}: close the inner block first",
                    tag.line,
                )
            stack.pop()
            partial = block.call.params[0] if block.call.params else None
            if block.kind == "open_decorator" and isinstance(partial, _Path | _Literal):
                inline_partials[partial.original] = block.program
    if len(stack) > 1:
        block = stack[-1][0]
        while block is not None and block.chained:
            stack.pop()
            block = stack[-1][0]
        assert block is not None
        raise TemplateSyntaxError(
            f"{{{{#{block.call.name}}}}} is never closed: add {{{{/{block.call.name}}}}}",
            block.line,
        )
    return root, inline_partials


# --- the walk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    depth: int = 0  # context-changing blocks around (each, with, sections); 0 is the root
    local_names: frozenset[str] = frozenset()  # block parameters, partial hash keys
    guarded: frozenset[str] = frozenset()  # fields an enclosing condition tests
    partials: tuple[str, ...] = ()  # inline partials being expanded (recursion guard)

    def entering(
        self,
        *,
        context: bool = False,
        names: Sequence[str] = (),
        guard: frozenset[str] = frozenset(),
    ) -> "_Scope":
        return _Scope(
            self.depth + context,
            self.local_names | frozenset(names),
            self.guarded | guard,
            self.partials,
        )


class _Walker:
    def __init__(self, inline_partials: dict[str, list[_Node]]) -> None:
        self.inline_partials = inline_partials
        self.required: set[str] = set()
        self.conditional: set[str] = set()

    def field(self, path: _Path, scope: _Scope) -> str | None:
        if path.data:
            # @root.name is the top-level name; @index, @key, @first, @last are no fields.
            return path.names[1] if len(path.names) > 1 and path.names[0] == "root" else None
        if not path.names:
            return None
        if not path.this and path.ups == 0 and path.names[0] in scope.local_names:
            return None
        return path.names[0] if scope.depth - path.ups == 0 else None

    def use(self, expression: _Expression, scope: _Scope, *, condition: bool = False) -> None:
        if isinstance(expression, _Path):
            if (name := self.field(expression, scope)) is not None:
                if condition or name in scope.guarded:
                    self.conditional.add(name)
                else:
                    self.required.add(name)
        elif isinstance(expression, _Call):
            for argument in expression.arguments:
                self.use(argument, scope, condition=condition)

    def guard(self, call: _Call, scope: _Scope) -> frozenset[str]:
        head = call.params[0] if call.params else call.head
        name = self.field(head, scope) if isinstance(head, _Path) else None
        return frozenset() if name is None else frozenset({name})

    def walk(self, nodes: Sequence[_Node], scope: _Scope) -> None:
        for node in nodes:
            if isinstance(node, _Block):
                self.block(node, scope)
            elif node.kind == "partial":
                self.partial(node, scope)
            else:
                call = node.call
                if call.params or call.hash_values:
                    condition = call.name in _CONDITIONS
                    for argument in call.arguments:
                        self.use(argument, scope, condition=condition)
                else:
                    self.use(call.head, scope)

    def block(self, block: _Block, scope: _Scope) -> None:
        call, name = block.call, block.call.name
        inverse = block.inverse or []
        simple = not call.params and not call.hash_values
        if block.kind == "open_decorator":
            return  # inline partials are walked where they are used
        if block.kind == "open_partial":
            self.partial(_Tag("partial", call, block.line), scope)
            self.walk(block.program, scope)
        elif block.kind == "open_inverse":  # {{^x}}: rendered when x is falsy
            self.use(call.head, scope, condition=True)
            self.walk(block.program, scope)
            self.walk(inverse, scope.entering(guard=self.guard(call, scope)))
        elif name in _CONDITIONS and call.params:
            for argument in call.arguments:
                self.use(argument, scope, condition=True)
            guarded = scope.entering(guard=self.guard(call, scope))
            self.walk(block.program, guarded if name == "if" else scope)
            self.walk(inverse, scope if name == "if" else guarded)
        elif name in _CONTEXT_BLOCKS and call.params:
            for argument in call.arguments:
                self.use(argument, scope)
            self.walk(block.program, scope.entering(context=True, names=call.block_params))
            self.walk(inverse, scope)
        elif simple:  # a section {{#x}}: rendered with x as the context when x is truthy
            self.use(call.head, scope, condition=True)
            self.walk(
                block.program,
                scope.entering(
                    context=True, names=call.block_params, guard=self.guard(call, scope)
                ),
            )
            self.walk(inverse, scope)
        else:  # another helper: its arguments are data; assume it keeps the context
            for argument in call.arguments:
                self.use(argument, scope)
            self.walk(block.program, scope.entering(names=call.block_params))
            self.walk(inverse, scope)

    def partial(self, tag: _Tag, scope: _Scope) -> None:
        call = tag.call
        if not isinstance(call.head, _Path | _Literal):
            raise TemplateSyntaxError(
                "a dynamic partial {{> (...)}}: SES templates only use inline partials by name",
                tag.line,
            )
        name = call.head.original
        body = self.inline_partials.get(name)
        if body is None:
            raise TemplateSyntaxError(
                f"the partial {name!r} is not defined: SES templates can only use inline "
                f'partials, defined in the template with {{{{#*inline "{name}"}}}}...'
                "{{/inline}}",
                tag.line,
            )
        for argument in call.arguments:
            self.use(argument, scope)
        if name in scope.partials:
            return  # a recursive partial: its fields are already counted
        inner = scope.entering(context=bool(call.params), names=call.hash_keys)
        self.walk(
            body,
            _Scope(inner.depth, inner.local_names, inner.guarded, (*scope.partials, name)),
        )


def template_fields(source: str) -> TemplateFields:
    """The top-level fields a Handlebars template uses (see the module's docstring).

    Raises TemplateSyntaxError, naming the line, for a template Handlebars cannot parse.
    """
    if "{{" not in source:
        return TemplateFields()
    lines = _Lines(source)
    nodes, inline_partials = _build(_scan(source, lines))
    walker = _Walker(inline_partials)
    walker.walk(nodes, _Scope())
    required = frozenset(walker.required)
    return TemplateFields(required, frozenset(walker.conditional) - required)
