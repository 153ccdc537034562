"""Explain a DSL syntax error in words: what was found, what was expected, and a hint.

Lark reports a parser state and a set of terminal names; people need "expected '{'
after the project name". Common mistakes are recognised with
``UnexpectedInput.match_examples``: each entry of :data:`MISTAKES` lists small inputs
that fail in the same parser state as the mistake, and the hint that fixes it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

KINDS = {
    "NAME": "a name",
    "STRING": 'a "quoted string"',
    "ADDRESS": "an address such as 10.1.0.0/16",
    "MAC": "a MAC address",
    "INT": "a number",
    "RANGE": "a port range such as 8000-8080",
    "$END": "the end of the file",
}


@dataclass(frozen=True)
class Mistake:
    """A common mistake: inputs that fail as it does, the error kind, and the fix."""

    hint: str
    kind: type[UnexpectedInput]
    examples: tuple[str, ...]


MISTAKES: dict[str, Mistake] = {
    "missing-open": Mistake(
        "a '{' must follow the project name: project ORG/NAME { ... }", UnexpectedToken,
        ("project a/b vpc", "project a/b subnet", "project a/b group", "project a/b port",
         "project a/b }", "project a/b project")),
    "range-dots": Mistake(
        "a port range is written low-high, e.g. 8000-8080", UnexpectedCharacters,
        ("project a/b { group g { ingress tcp 8000..", "project a/b { group g { egress udp 1..",
         "project a/b { group g { ingress tcp 1, 8000..")),
    "remote-missing": Mistake(
        "'from' and 'to' need a value: a CIDR such as 0.0.0.0/0, 'group NAME', or a "
        "quoted string; leave out 'from'/'to' altogether for 0.0.0.0/0", UnexpectedToken,
        ("project a/b { group g { ingress tcp 22 from }", "project a/b { group g { egress to }",
         "project a/b { group g { ingress from ingress", "project a/b { group g { egress to egress",
         "project a/b { group g { ingress from", "project a/b { group g { egress to")),
    "remote-bare-name": Mistake(
        "a group is named with the keyword 'group', e.g. 'from group web'", UnexpectedToken,
        ("project a/b { group g { ingress tcp 22 from web", "project a/b { group g { egress to web")),
}

YAML_LOOK = re.compile(r"^(---|[A-Za-z_][\w-]*\s*:(\s|$)|- )", re.MULTILINE)
"""A first statement that reads like YAML: a document marker, a 'key:' or a list item."""

def _word(name: str, parser: Lark) -> str:
    if name in KINDS:
        return KINDS[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name
    return f"'{pattern.value}'" if isinstance(pattern, PatternStr) else name


def _keywords(expected: set[str], parser: Lark) -> list[str]:
    words = []
    for name in expected:
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            continue
        if isinstance(pattern, PatternStr) and pattern.value.isalpha():
            words.append(pattern.value)
    return sorted(words)


def _expected(exc: UnexpectedInput) -> set[str]:
    """What the parser accepts here; the lexer's view of a state is coarser."""
    parser = getattr(exc, "interactive_parser", None)
    if parser is not None:
        return set(parser.accepts())
    if isinstance(exc, UnexpectedCharacters):
        return set(exc.allowed or ())
    return set(getattr(exc, "expected", None) or ())


def _one_of(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return f"one of {', '.join(words[:-1])} or {words[-1]}"


def _found(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "end of file"
        return f"'{exc.token}'"
    if isinstance(exc, UnexpectedCharacters):
        return f"character {exc.char!r}"
    return "end of file"


def _first_statement(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped
    return ""


def _mistake(exc: UnexpectedInput, parser: Lark) -> Mistake | None:
    label = exc.match_examples(parser.parse, [(k, m.examples) for k, m in MISTAKES.items()],
                               token_type_match_fallback=True, use_accepts=True)
    mistake = MISTAKES.get(label) if label is not None else None
    return mistake if mistake is not None and isinstance(exc, mistake.kind) else None


def unclosed_brace(text: str, parser: Lark) -> tuple[int, int] | None:
    """Where the innermost '{' that is never closed was opened, if the text lexes."""
    opened: list[tuple[int, int]] = []
    try:
        for token in parser.lex(text):
            if token.type == "LBRACE":
                opened.append((token.line, token.column))
            elif token.type == "RBRACE" and opened:
                opened.pop()
    except UnexpectedInput:
        return None
    return opened[-1] if opened else None


def end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def explain(exc: UnexpectedInput, text: str, parser: Lark) -> tuple[str, tuple[int, int]]:
    """The message and the (line, column) of a syntax error."""
    at_end = isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END")
    where = end_position(text) if at_end or exc.line < 1 else (exc.line, exc.column)
    expected = _expected(exc)
    words = sorted({_word(name, parser) for name in expected})
    message = f"unexpected {_found(exc)}"
    if words:
        message += f"; expected {_one_of(words)}"

    found_word = exc.token if isinstance(exc, UnexpectedToken) and exc.token.type == "NAME" else None
    mistake = _mistake(exc, parser)
    if where[0] == 1 and YAML_LOOK.match(_first_statement(text)):
        message += (" (this looks like YAML, but a .netc file holds the DSL, "
                    "project ORG/NAME { ... }; rename it to .yaml, or convert it with "
                    "'netc fmt --to dsl')")
    elif mistake is not None:
        message += f" ({mistake.hint})"
    elif at_end and "RBRACE" in expected:
        opened = unclosed_brace(text, parser)
        if opened is not None:
            message += f" (a '}}' is missing: the block opened at line {opened[0]}, " \
                       f"column {opened[1]} is not closed)"
    elif found_word is not None:
        close = difflib.get_close_matches(str(found_word), _keywords(expected, parser), n=1)
        if close:
            message += f" (did you mean '{close[0]}'?)"
    return message, where
