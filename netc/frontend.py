"""The front end as one call: files -> documents -> IR -> checks.

The CLI, the compiler and the gRPC service all enter here, so every caller sees
the same diagnostics for the same input.
"""

from __future__ import annotations

from dataclasses import dataclass

from netc.config import Settings
from netc.diagnostics import Diagnostics
from netc.intent.source import Document
from netc.intent.sources import load_documents
from netc.ir.checks import run_checks
from netc.ir.world import World, build_world


@dataclass
class FrontEndResult:
    world: World
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors


def check_documents(documents: list[Document], settings: Settings,
                    diagnostics: Diagnostics) -> FrontEndResult:
    world = build_world(documents, settings)
    run_checks(world, diagnostics)
    return FrontEndResult(world, diagnostics)


def check_paths(paths: list[str], settings: Settings,
                diagnostics: Diagnostics | None = None) -> FrontEndResult:
    """Load and check every intent file under ``paths``."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    documents = load_documents(paths, diagnostics)
    return check_documents(documents, settings, diagnostics)
