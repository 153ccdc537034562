"""What the command line shows a person: diagnostics, progress, the approval prompt.

Habits of black and Terraform: data on stdout, diagnostics and progress on stderr; a
spinner only on a terminal (plain ``netc: ...`` lines in CI logs); ``apply`` asks
before writing and refuses to guess when nobody can answer (stdin not a terminal).
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from netc.diagnostics import Diagnostic, Diagnostics


def _source_line(diagnostic: Diagnostic, cache: dict[str, list[str]]) -> str | None:
    if not diagnostic.line:
        return None
    if diagnostic.file not in cache:
        try:
            cache[diagnostic.file] = Path(diagnostic.file).read_text(
                encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[diagnostic.file] = []
    lines = cache[diagnostic.file]
    return lines[diagnostic.line - 1] if diagnostic.line <= len(lines) else None


_review_format: str | None = None
"""``sarif`` or ``github`` while a command runs with that ``--format``, else None."""
_review_diagnostics: list[Diagnostic] = []


def use_diagnostics_format(fmt: str | None) -> None:
    """Render every later :func:`print_diagnostics` for review tools (``sarif`` or
    ``github``, netc.diagnostics_formats), or as usual again (None). With ``sarif``
    the diagnostics are gathered, for :func:`flush_diagnostics` to print as one log."""
    global _review_format
    _review_format = fmt
    _review_diagnostics.clear()


def flush_diagnostics(stream=None) -> None:
    """Print the SARIF log of everything gathered since ``use_diagnostics_format("sarif")``
    (an empty log when nothing was reported)."""
    if _review_format == "sarif":
        from netc.diagnostics_formats import render_sarif
        unique = sorted(dict.fromkeys(_review_diagnostics), key=Diagnostic.sort_key)
        (stream or sys.stdout).write(render_sarif(unique))
    _review_diagnostics.clear()


def print_diagnostics(diagnostics: Diagnostics, fmt: str = "text", stream=None) -> None:
    """Text on stderr (with the source line and a caret on a terminal), or JSON on stdout;
    for review tools while :func:`use_diagnostics_format` says so."""
    if fmt == "json":
        print(diagnostics.to_json())
        return
    if _review_format is not None:
        _print_for_review(diagnostics)
        return
    stream = stream or sys.stderr
    show_source = stream.isatty()
    cache: dict[str, list[str]] = {}
    errors = warnings = 0
    for diagnostic in diagnostics:
        errors += diagnostic.is_error
        warnings += not diagnostic.is_error
        print(diagnostic.render(), file=stream)
        line = _source_line(diagnostic, cache) if show_source else None
        if line is not None:
            print(f"    {line}\n    {' ' * (diagnostic.column - 1)}^", file=stream)
    if errors or warnings:
        print(f"{errors} error(s), {warnings} warning(s)", file=stream)


def _print_for_review(diagnostics: Diagnostics) -> None:
    items = list(diagnostics)
    if _review_format == "sarif":
        _review_diagnostics.extend(items)
    else:
        from netc.diagnostics_formats import render_github
        sys.stdout.write(render_github(items))
        sys.stdout.flush()
    errors = sum(d.is_error for d in items)
    if items:
        print(f"{errors} error(s), {len(items) - errors} warning(s)", file=sys.stderr)


class Reporter:
    """Progress on stderr: a spinner on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self) -> None:
        self.interactive = sys.stderr.isatty()
        self._status = None
        self._started = time.monotonic()

    @contextmanager
    def running(self) -> Iterator["Reporter"]:
        if self.interactive:
            from rich.console import Console
            with Console(stderr=True).status("netc") as status:
                self._status = status
                yield self
                self._status = None
        else:
            yield self

    def __call__(self, message: str) -> None:
        if self._status is not None:
            self._status.update(f"{message} ({time.monotonic() - self._started:.1f}s)")
        elif not self.interactive:
            print(f"netc: {message}", file=sys.stderr)


def approved(auto_approve: bool) -> bool | None:
    """True to go on, False when the operator said no, None when nobody can be asked."""
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        return None
    print("\nDo you want to perform these actions?\n"
          "  netc will apply them in one transaction. Only 'yes' will be accepted.\n",
          file=sys.stderr)
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"
