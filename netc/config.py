"""netc.toml: the global settings of contract section 5.

Read from ``--config FILE`` or ``./netc.toml``; everything has a default, so a
world without NAT needs no file at all. Problems are CONFIG_ERROR diagnostics.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from netc.diagnostics import Code, Diagnostics, Location

DEFAULT_CONFIG_NAME = "netc.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(_Section):
    cidr_pool: str = "10.0.0.0/8"
    vpc_prefix: int = Field(16, ge=1, le=30, description="Size of a VPC taken from the pool.")
    default_subnet_size: int = Field(24, ge=1, le=30)
    ovn_northbound_endpoint: str = "tcp:127.0.0.1:6641"
    ovn_southbound_endpoint: str = "tcp:127.0.0.1:6642"

    @field_validator("cidr_pool")
    @classmethod
    def _valid_pool(cls, value: str) -> str:
        ipaddress.IPv4Network(value)
        return value

    @property
    def pool(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr_pool)


class ExternalSettings(_Section):
    cidr: str
    gateway_ip: str
    provider_network: str = "physnet1"
    gateway_chassis: list[str] = Field(default_factory=list)

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        ipaddress.IPv4Network(value)
        return value

    @field_validator("gateway_ip")
    @classmethod
    def _valid_ip(cls, value: str) -> str:
        ipaddress.IPv4Address(value)
        return value


class Settings(_Section):
    owner: str = "netc"
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    external: ExternalSettings | None = None


def load_settings(explicit: str | None, diagnostics: Diagnostics) -> Settings:
    """Settings from ``explicit`` or ./netc.toml; defaults (and diagnostics) on error."""
    path = Path(explicit) if explicit else Path(DEFAULT_CONFIG_NAME)
    if not path.exists():
        if explicit:
            diagnostics.error(Code.CONFIG_ERROR, "config file not found", Location(str(path)))
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Settings.model_validate(data)
    except (OSError, UnicodeDecodeError) as exc:
        diagnostics.error(Code.CONFIG_ERROR, f"cannot read config: {exc}", Location(str(path)))
    except tomllib.TOMLDecodeError as exc:
        diagnostics.error(Code.CONFIG_ERROR, f"TOML: {exc}", Location(str(path), 1, 1))
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            field = ".".join(str(p) for p in error["loc"])
            diagnostics.error(Code.CONFIG_ERROR, f"{field}: {error['msg']}", Location(str(path)))
    return Settings()
