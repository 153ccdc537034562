"""Diagnostics for code review tools: SARIF 2.1.0 and GitHub Actions workflow commands.

Every command that reports diagnostics takes ``--format sarif`` and ``--format
github`` (contract section 4); the rendering lives here, once, and
:func:`netc.terminal.print_diagnostics` sends every collection there while one of
these formats is selected (:func:`netc.terminal.use_diagnostics_format`).

* ``github``: one workflow command per diagnostic on stdout, as it is printed
  (``::error file=F,line=L,col=C::[CODE] message``), so a plan's or a check's log
  carries the annotations; the command's own output is unchanged.
* ``sarif``: one SARIF log on stdout when the command ends, holding every diagnostic
  it reported (one run, tool driver ``netc`` with a rule per diagnostic code). The
  command's own stdout (a plan's text, a matrix) goes to stderr instead, so that
  stdout is exactly the SARIF file: ``netc check --format sarif policies/ > netc.sarif``.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Iterable
from urllib.parse import quote

from netc.diagnostics import WARNING_CODES, Code, Diagnostic, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
DIAGNOSTIC_FORMATS = ("sarif", "github")
"""The ``--format`` values that render diagnostics for review tools."""
DOCS = "docs/diagnostics.md"

RULES: dict[Code, str] = {
    Code.SYNTAX_ERROR: "The file cannot be parsed as YAML or as the netc DSL.",
    Code.SCHEMA_ERROR: "The document parses but is not in the intent format.",
    Code.CONFIG_ERROR: "netc.toml is missing, not TOML, or holds a bad value.",
    Code.FILE_ERROR: "A path given on the command line cannot be read or written.",
    Code.INVALID_CIDR: "A VPC, subnet or rule address block is not an IPv4 CIDR.",
    Code.INVALID_IP: "A port, DNS or NAT address is not an IPv4 address.",
    Code.INVALID_MAC: "A port MAC is not a unicast MAC address.",
    Code.INVALID_PORT_RANGE: "A rule or DNAT port is not a port or range in 1-65535.",
    Code.CIDR_OVERLAP: "Two VPCs share addresses.",
    Code.SUBNET_OUTSIDE_VPC: "A subnet is not inside its VPC.",
    Code.SUBNET_OVERLAP: "Two subnets of one VPC share addresses.",
    Code.SUBNET_NOT_FOUND: "A port names a subnet its project does not declare.",
    Code.IP_OUTSIDE_SUBNET: "A static or NAT address is outside its subnet or network.",
    Code.IP_ALREADY_ALLOCATED: "An address is used twice.",
    Code.RESERVED_IP: "A static address is a subnet's network, gateway or broadcast address.",
    Code.MAC_CONFLICT: "Two ports have the same MAC address.",
    Code.POOL_EXHAUSTED: "The address pool or a subnet has no free address left.",
    Code.DUPLICATE_NAME: "A name or a project is declared twice.",
    Code.SECURITY_GROUP_NOT_FOUND: "A security group that is named is not declared.",
    Code.SG_REFERENCE_CYCLE: "Security groups include each other in a cycle.",
    Code.CROSS_TENANT_REFERENCE: "A rule names a group of a project that does not peer.",
    Code.PEERING_NOT_MUTUAL: "A peering is listed by one side only and has no effect.",
    Code.NO_EXTERNAL_NETWORK: "NAT is used but netc.toml has no external network.",
    Code.DNAT_TARGET_UNKNOWN: "A DNAT forwards to an address that is no port of the project.",
    Code.NO_EGRESS: "A port's groups have no egress rule: it can open no connection.",
    Code.RULE_SHADOWED: "A rule that another rule of the same group already covers.",
    Code.SG_UNUSED: "A declared group with no member ports that no rule names.",
    Code.OPEN_TO_WORLD: "Ingress from 0.0.0.0/0 to SSH, RDP or a database port.",
    Code.PORT_NOT_FOUND: "An expectation names an organization, project or port the intent lacks.",
    Code.EXPECTATION_FAILED: "An expectation of netc test does not hold for the intent.",
    Code.COMMENT_MOVED: "netc fmt kept a comment away from its value, which it does not write.",
    Code.OVN_CONNECTION_FAILED: "The OVN Northbound database cannot be reached.",
    Code.PORT_ALREADY_ATTACHED: "A port is already attached to another VM.",
}
"""One line per code for the SARIF rules; docs/diagnostics.md has trigger, example, fix."""

_WITHOUT_FILE = frozenset({Code.OVN_CONNECTION_FAILED})
"""Codes whose "file" is a remote, not a path: reported without a location."""


def _located(diagnostic: Diagnostic) -> bool:
    return bool(diagnostic.file) and diagnostic.code not in _WITHOUT_FILE


def _message(diagnostic: Diagnostic) -> str:
    if diagnostic.file and not _located(diagnostic):
        return f"{diagnostic.file}: {diagnostic.message}"
    return diagnostic.message


# --- GitHub Actions workflow commands ---------------------------------------------------------

def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(diagnostic: Diagnostic) -> str:
    """``::error file=F,line=L,col=C::[CODE] message`` (``::warning`` for a warning);
    without ``line``/``col`` for what has no position, without ``file`` for a remote."""
    command = "error" if diagnostic.is_error else "warning"
    properties = []
    if _located(diagnostic):
        properties.append(f"file={_escape_property(diagnostic.file)}")
        if diagnostic.line:
            properties.append(f"line={diagnostic.line}")
            if diagnostic.column:
                properties.append(f"col={diagnostic.column}")
    head = f"::{command} {','.join(properties)}" if properties else f"::{command}"
    return f"{head}::{_escape_data(f'[{diagnostic.code}] {_message(diagnostic)}')}"


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    return "".join(github_command(d) + "\n" for d in diagnostics)


# --- SARIF 2.1.0 ------------------------------------------------------------------------------

def _version() -> str:
    try:
        from importlib.metadata import version
        return version("netc")
    except Exception:  # not installed (run from a checkout): still a valid log
        return "0+unknown"


def _artifact(file: str, root: Path) -> dict:
    """A relative path as a URI reference against %SRCROOT% (the current folder), an
    absolute one as a file: URI."""
    path = PurePath(file)
    if path.is_absolute():
        try:
            path = Path(file).relative_to(root)
        except ValueError:
            return {"uri": Path(file).as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": "%SRCROOT%"}


def _rule(code: Code) -> dict:
    anchor = str(code).lower()
    return {
        "id": str(code),
        "name": "".join(part.capitalize() for part in str(code).split("_")),
        "shortDescription": {"text": RULES.get(code, str(code))},
        "help": {"text": f"Trigger, example and fix: {DOCS}#{anchor}",
                 "markdown": f"Trigger, example and fix: [{DOCS}#{anchor}]({DOCS}#{anchor})"},
        "defaultConfiguration": {"level": _default_level(code)},
    }


def _default_level(code: Code) -> str:
    return "warning" if code in WARNING_CODES else "error"


def _result(diagnostic: Diagnostic, index: dict[Code, int], root: Path) -> dict:
    result: dict = {
        "ruleId": str(diagnostic.code),
        "ruleIndex": index[diagnostic.code],
        "level": "error" if diagnostic.severity is Severity.ERROR else "warning",
        "message": {"text": _message(diagnostic)},
    }
    if _located(diagnostic):
        physical: dict = {"artifactLocation": _artifact(diagnostic.file, root)}
        if diagnostic.line:
            region = {"startLine": diagnostic.line}
            if diagnostic.column:
                region["startColumn"] = diagnostic.column
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    return result


def sarif_log(diagnostics: Iterable[Diagnostic], root: Path | None = None) -> dict:
    """The SARIF 2.1.0 log of ``diagnostics``: one run of the tool ``netc``."""
    root = root or Path.cwd()
    codes = list(Code)
    index = {code: position for position, code in enumerate(codes)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "netc",
                "version": _version(),
                "rules": [_rule(code) for code in codes],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index, root) for d in diagnostics],
        }],
    }


def render_sarif(diagnostics: Iterable[Diagnostic], root: Path | None = None) -> str:
    return json.dumps(sarif_log(diagnostics, root), indent=2) + "\n"
