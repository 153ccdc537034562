"""``netc export``: the projects a ``netc serve`` store holds, as intent YAML.

The service stores each project as the intent model the files use, so the export is
exactly what the service compiles: ``netc check``, ``plan``, ``explain`` and
``verify`` run on it see the service's network. With an output folder, a
``netc.toml`` beside the files carries the service's owner (so ``netc plan`` compares
against the service's rows), pool and external network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from netc.diagnostics import Code, Diagnostics, Location
from netc.intent.yaml_writer import to_yaml
from netc.service import records
from netc.service.changeset import ChangeSet
from netc.service.config import ServiceSettings, load_service_settings
from netc.service.store import StoreUnavailable, open_store


def export_store(url: str, wanted: list[str], out_dir: str | None, diagnostics: Diagnostics,
                 config: str | None = None) -> int | None:
    """Print (or write into ``out_dir``) the projects; how many, or None on errors."""
    settings = load_service_settings(config, {}, {}, diagnostics) if config \
        else ServiceSettings()
    try:
        store = open_store(url)
        stored = sorted(records.projects_in(store.range([f"{records.ROOT}/vpcs/"])))
        keys = {f"{org}/{project}" for org, project in stored}
        for name in wanted:
            if name not in keys:
                diagnostics.error(Code.FILE_ERROR, f"project {name} is not in the store",
                                  Location(url))
        if diagnostics.has_errors:
            return None
        chosen = [(o, p) for o, p in stored if not wanted or f"{o}/{p}" in wanted]
        projects = [records.project_intent(o, p, ChangeSet.load(store, o, p).values())
                    for o, p in chosen]
    except (ValueError, StoreUnavailable) as error:
        diagnostics.error(Code.FILE_ERROR, f"cannot read the store: {error}", Location(url))
        return None
    projects = [p for p in projects if p is not None]
    if out_dir is None:
        sys.stdout.write(to_yaml(projects))
        return len(projects)
    root = Path(out_dir)
    for project in projects:
        path = root / project.org / f"{project.project}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml([project]), encoding="utf-8")
    (root / "netc.toml").write_text(netc_toml(settings), encoding="utf-8")
    return len(projects)


def netc_toml(settings: ServiceSettings) -> str:
    """The netc.toml of contract section 5 for the service's rows."""
    network = settings.network
    lines = ["# written by netc export: the settings of the netc serve whose store this is",
             f"owner = {json.dumps(settings.owner)}", "", "[network]",
             f"cidr_pool = {json.dumps(network.cidr_pool)}",
             f"vpc_prefix = {network.vpc_prefix}",
             f"default_subnet_size = {network.default_subnet_size}",
             f"ovn_northbound_endpoint = {json.dumps(network.ovn_northbound_endpoint)}",
             f"ovn_southbound_endpoint = {json.dumps(network.ovn_southbound_endpoint)}"]
    external = settings.external
    if external is not None:
        lines += ["", "[external]", f"cidr = {json.dumps(external.cidr)}",
                  f"gateway_ip = {json.dumps(external.gateway_ip)}",
                  f"provider_network = {json.dumps(external.provider_network)}",
                  f"gateway_chassis = {json.dumps(list(external.gateway_chassis))}"]
    return "\n".join(lines) + "\n"
