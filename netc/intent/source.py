"""Where a value of an intent document was written.

Every later stage names a value by its *path* in the contract's YAML shape, for
example ``("subnets", 1, "cidr")`` or ``("security_groups", 0, "ingress", 2, "from")``.
A :class:`SourceMap` turns such a path into a file position. YAML and DSL documents
answer the same paths, so the checks never need to know which syntax a project was
written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from netc.diagnostics import Location
from netc.intent.model import Project

if TYPE_CHECKING:
    from netc.intent.salvage import Withheld

Path = tuple[str | int, ...]


class SourceMap(Protocol):
    file: str

    def locate(self, path: Path) -> Location:
        """The position of the value at ``path``, or of its nearest written ancestor."""
        ...


@dataclass(frozen=True)
class PositionTable:
    """A source map backed by a table of positions recorded while parsing (the DSL)."""

    file: str
    positions: dict[Path, tuple[int, int]]

    def locate(self, path: Path) -> Location:
        for end in range(len(path), -1, -1):
            hit = self.positions.get(path[:end])
            if hit is not None:
                return Location(self.file, hit[0], hit[1])
        return Location(self.file, 1, 1)


@dataclass(frozen=True)
class Document:
    """One project as written, with the means to point back into its file."""

    project: Project
    source: SourceMap
    withheld: "Withheld | None" = None
    """Set when the document had schema errors: what was cut so that the rest could
    still be checked (:mod:`netc.intent.salvage`). Such a document is never compiled."""

    def locate(self, *path: str | int) -> Location:
        return self.source.locate(path)
