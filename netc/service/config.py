"""Settings of ``netc serve``: the specification's TOML (10.1), environment (10.2) and
flags (10.3), plus the contract's ``owner``, ``[storage]``, ``[server]
http_listen_addr``, ``[external]`` and ``[[auth.tokens]]``.

Precedence, lowest first: defaults, the TOML file, environment variables, flags.
``chainfire_endpoint`` (the specification's distributed store) is read as the etcd
endpoint: etcd stands in for ChainFire. Problems are CONFIG_ERROR diagnostics.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import tomllib
from pathlib import Path
from typing import Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from netc.config import ExternalSettings, NetworkSettings, Settings
from netc.diagnostics import Code, Diagnostics, Location

DEFAULT_OWNER = "netc-service"

ENVIRONMENT = {
    "OVERLAY_NETWORK_OVN_NB_ENDPOINT": ("network", "ovn_northbound_endpoint"),
    "OVERLAY_NETWORK_OVN_SB_ENDPOINT": ("network", "ovn_southbound_endpoint"),
    "OVERLAY_NETWORK_CHAINFIRE_ENDPOINT": ("storage", "etcd_endpoint"),
    "OVERLAY_NETWORK_CIDR_POOL": ("network", "cidr_pool"),
    "OVERLAY_NETWORK_LISTEN_ADDR": ("server", "listen_addr"),
    "OVERLAY_NETWORK_HTTP_ADDR": ("server", "http_listen_addr"),
}
"""Environment variable -> (section, field) it sets."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageSettings(_Section):
    backend: Literal["sqlite", "etcd"] = "sqlite"
    sqlite_path: str = "netc-state.db"
    etcd_endpoint: str = "http://127.0.0.1:2379"
    chainfire_endpoint: str | None = Field(
        None, description="The specification's name for the store: read as etcd_endpoint.")

    @model_validator(mode="after")
    def _chainfire_is_etcd(self) -> "StorageSettings":
        if self.chainfire_endpoint:
            return self.model_copy(update={"etcd_endpoint": self.chainfire_endpoint,
                                           "chainfire_endpoint": None})
        return self

    @property
    def url(self) -> str:
        return f"sqlite:{self.sqlite_path}" if self.backend == "sqlite" \
            else f"etcd:{self.etcd_endpoint}"


class ServerSettings(_Section):
    listen_addr: str = "127.0.0.1:8081"
    http_listen_addr: str = "127.0.0.1:8082"
    reconcile_interval: float = Field(30.0, gt=0, description="Seconds between reconciler runs.")
    workers: int = Field(32, ge=1, le=1024, description="Threads serving requests.")


class Token(_Section):
    token: str | None = None
    token_sha256: str | None = None
    projects: list[str] = Field(default_factory=list,
                                description="ORG/PROJECT patterns: 'acme/*', 'globex/web'.")

    @model_validator(mode="after")
    def _one_secret(self) -> "Token":
        if bool(self.token) == bool(self.token_sha256):
            raise ValueError("give exactly one of token and token_sha256")
        return self

    def matches(self, presented: str) -> bool:
        if self.token is not None:
            return hmac.compare_digest(self.token.encode(), presented.encode())
        digest = hashlib.sha256(presented.encode()).hexdigest()
        return hmac.compare_digest(digest, self.token_sha256.lower())


class AuthSettings(_Section):
    tokens: list[Token] = Field(default_factory=list)


class ServiceSettings(_Section):
    owner: str = DEFAULT_OWNER
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    external: ExternalSettings | None = None
    auth: AuthSettings = Field(default_factory=AuthSettings)

    def compiler_settings(self) -> Settings:
        """The settings the compiler reads (netc.toml's shape), for the service's rows."""
        return Settings(owner=self.owner, network=self.network, external=self.external)


def load_service_settings(path: str | None, environ: Mapping[str, str],
                          overrides: Mapping[tuple[str, str], str | None],
                          diagnostics: Diagnostics) -> ServiceSettings:
    """Defaults < the TOML at ``path`` < ``environ`` < ``overrides`` ((section, field) ->
    value, from flags; None = not given)."""
    data: dict = {}
    where = path or "(defaults)"
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            diagnostics.error(Code.CONFIG_ERROR, f"cannot read config: {error.strerror}",
                              Location(path))
            return ServiceSettings()
        except tomllib.TOMLDecodeError as error:
            diagnostics.error(Code.CONFIG_ERROR, f"TOML: {error}", Location(path, 1, 1))
            return ServiceSettings()
    layered = {(section, field): environ[name] for name, (section, field) in ENVIRONMENT.items()
               if environ.get(name)}
    layered.update({where_: value for where_, value in overrides.items() if value is not None})
    for (section, field), value in layered.items():
        data.setdefault(section, {})[field] = value
    try:
        return ServiceSettings.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            field = ".".join(str(p) for p in error["loc"])
            diagnostics.error(Code.CONFIG_ERROR, f"{field}: {error['msg']}", Location(where))
    return ServiceSettings()


# -- flags (netc serve and overlay-network-server share them) ---------------------------

FLAGS = (
    ("--ovn-nb-endpoint", ("network", "ovn_northbound_endpoint"), "ENDPOINT",
     "OVN Northbound endpoint (several comma-separated for a RAFT cluster)"),
    ("--ovn-sb-endpoint", ("network", "ovn_southbound_endpoint"), "ENDPOINT",
     "OVN Southbound endpoint"),
    ("--chainfire-endpoint", ("storage", "etcd_endpoint"), "URL",
     "the distributed store (etcd stands in for ChainFire); implies --storage etcd"),
    ("--listen-addr", ("server", "listen_addr"), "ADDR", "gRPC listen address"),
    ("--http-addr", ("server", "http_listen_addr"), "ADDR",
     "HTTP address of /health, /ready and /metrics"),
    ("--storage", ("storage", "backend"), "BACKEND", "sqlite (default) or etcd"),
    ("--sqlite-path", ("storage", "sqlite_path"), "PATH", "the SQLite store's file"),
    ("--reconcile-interval", ("server", "reconcile_interval"), "SECONDS",
     "seconds between reconciler runs (default 30)"),
)

EPILOG = """\
settings, lowest precedence first: defaults, the TOML file (--config), environment
(OVERLAY_NETWORK_OVN_NB_ENDPOINT, OVERLAY_NETWORK_OVN_SB_ENDPOINT,
OVERLAY_NETWORK_CHAINFIRE_ENDPOINT, OVERLAY_NETWORK_CIDR_POOL,
OVERLAY_NETWORK_LISTEN_ADDR, OVERLAY_NETWORK_HTTP_ADDR), then these flags.

examples:
  eval "$(netc sandbox up)"
  netc serve --ovn-nb-endpoint "$OVN_NB_DB" --sqlite-path /tmp/netc-state.db
  grpcurl -plaintext 127.0.0.1:8081 list          (reflection: no .proto needed)
  curl 127.0.0.1:8082/ready ; curl 127.0.0.1:8082/metrics
docs: docs/service.md
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="TOML config file (docs/service.md)")
    for flag, _, metavar, text in FLAGS:
        parser.add_argument(flag, metavar=metavar, help=text)


def settings_from_args(args: argparse.Namespace) -> ServiceSettings:
    overrides = {where: getattr(args, flag[2:].replace("-", "_"))
                 for flag, where, _, _ in FLAGS}
    if args.chainfire_endpoint and not args.storage:
        overrides[("storage", "backend")] = "etcd"
    diagnostics = Diagnostics()
    settings = load_service_settings(args.config, os.environ, overrides, diagnostics)
    if diagnostics.has_errors:
        raise SystemExit("\n".join(f"netc serve: {d.render()}" for d in diagnostics))
    return settings


