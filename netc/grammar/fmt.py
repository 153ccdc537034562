"""``netc fmt``: one intent file in, its canonical text (in either syntax) out.

A file is read with the loader of its suffix and written back with the canonical
writer of the target syntax, so formatting normalises spelling and order, and
converting changes only the syntax. Comments are not kept: the intent model has no
place for them. Files with syntax or schema errors are not formatted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from netc.diagnostics import Diagnostics
from netc.grammar.formatter import to_dsl
from netc.intent.sources import DSL_SUFFIX, load_text, read_source
from netc.intent.yaml_writer import to_yaml

Syntax = Literal["yaml", "dsl"]
WRITERS = {"yaml": to_yaml, "dsl": to_dsl}
SUFFIXES = {"yaml": ".yaml", "dsl": DSL_SUFFIX}


def syntax_of(path: Path) -> Syntax:
    return "dsl" if path.suffix == DSL_SUFFIX else "yaml"


@dataclass(frozen=True)
class Formatted:
    """A file, its text as read, and its canonical text in the target syntax."""

    path: Path
    original: str
    text: str
    syntax: Syntax

    @property
    def target(self) -> Path:
        """Where the text belongs: the file itself, or beside it with the other suffix."""
        if syntax_of(self.path) == self.syntax:
            return self.path
        return self.path.with_suffix(SUFFIXES[self.syntax])

    @property
    def canonical(self) -> bool:
        return self.target == self.path and self.text == self.original


def format_file(path: Path, to: Syntax | None, diagnostics: Diagnostics) -> Formatted | None:
    """The canonical text of ``path`` in syntax ``to`` (default: its own), or None on errors."""
    found = Diagnostics()
    original = read_source(path, found)
    documents = load_text(original, str(path), found) if original is not None else []
    diagnostics.extend(found.sorted())
    if original is None or found.has_errors:
        return None
    syntax = to or syntax_of(path)
    return Formatted(path, original, WRITERS[syntax]([d.project for d in documents]), syntax)


def joined(results: list[Formatted]) -> str:
    """Several files' texts as one: YAML documents split by ``---``, DSL by a blank line."""
    out = ""
    for result in results:
        if out and result.text:
            out += "---\n" if result.syntax == "yaml" else "\n"
        out += result.text
    return out
