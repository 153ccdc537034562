"""The example policies check clean, as CI promises (`netc check policies/`)."""

from __future__ import annotations

import json
from pathlib import Path

from netc.cli import main

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
CONFIG = REPO / "netc.toml"


def test_policies_check_clean(capsys):
    status = main(["check", "--config", str(CONFIG), "--format", "json", str(POLICIES)])
    diagnostics = json.loads(capsys.readouterr().out)
    assert diagnostics == []  # warnings included: the examples should show none
    assert status == 0
