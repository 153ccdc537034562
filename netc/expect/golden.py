"""The whole verify matrix as a golden file: ``netc test --golden FILE``.

Snapshot testing for a policy: the file holds who may reach whom, and a change of the
intent that changes it shows up as a diff in review, one line per fact. The text is
stable (sorted, no timings) and complete where ``netc verify``'s text shortens: every
class with every port (one per line), then, project pair by project pair, each class
pair with its traffic::

    class acme/web/web@default
      acme/web/web-1
    acme/web -> acme/db: tcp/5432
      acme/web/web@default -> acme/db/pg@default: tcp/5432
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from netc.reach.classes import ClassModel, ClassPair, by_project

HEADER = "# netc verify matrix; rewrite with: netc test PATH... --golden FILE --update\n"


def golden_text(model: ClassModel, matrix: list[ClassPair]) -> str:
    lines = []
    for cls in model.classes:
        lines.append(f"class {cls.id}")
        lines += [f"  {port}" for port in cls.ports]
    for edge in by_project(matrix):
        lines.append(f"{edge.src} -> {edge.dst}: {edge.traffic}")
        lines += [f"  {pair.src.id} -> {pair.dst.id}: {pair.traffic}" for pair in edge.pairs]
    return HEADER + "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class GoldenResult:
    path: str
    matches: bool
    diff: str
    """A unified diff from the file to the matrix (empty when they match)."""
    updated: bool = False
    error: str | None = None
    """The file could not be read or written."""


def compare_golden(path: str, actual: str, update: bool) -> GoldenResult:
    """``actual`` against the file at ``path``; with ``update``, the file rewritten."""
    file = Path(path)
    if update:
        try:
            file.write_text(actual, encoding="utf-8")
        except OSError as error:
            return GoldenResult(path, False, "", error=f"cannot write {path}: {error.strerror}")
        return GoldenResult(path, True, "", updated=True)
    try:
        expected = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return GoldenResult(path, False, "", error=f"{path} does not exist; write it with "
                                                     "--update and review it")
    except (OSError, UnicodeDecodeError) as error:
        return GoldenResult(path, False, "", error=f"cannot read {path}: {error}")
    if expected == actual:
        return GoldenResult(path, True, "")
    diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                        actual.splitlines(keepends=True),
                                        fromfile=path, tofile="the intent now"))
    return GoldenResult(path, False, diff)
