"""Graphviz's own ``dot``, for tests that read netc's DOT back."""

from __future__ import annotations

import json
import shutil
import subprocess


def graphviz(text: str) -> dict:
    """``text`` laid out by ``dot -Tjson``: its objects (clusters, nodes) and edges."""
    assert shutil.which("dot"), "Graphviz's dot is needed (Debian graphviz; scripts/setup)"
    done = subprocess.run(["dot", "-Tjson"], input=text, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)
