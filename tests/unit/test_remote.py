"""REMOTE strings: what parses into which endpoints, and what is refused with which hint."""

from __future__ import annotations

import re

import pytest

from netc.backends.ovn_nb.remote import (Endpoint, RemoteError, parse_remote,
                                         resolve_remote)

VALID = [
    ("unix:/run/ovn/ovnnb_db.sock", [Endpoint("unix", path="/run/ovn/ovnnb_db.sock")]),
    ("tcp:127.0.0.1:6641", [Endpoint("tcp", host="127.0.0.1", port=6641)]),
    ("ssl:nb.example.com:6641", [Endpoint("ssl", host="nb.example.com", port=6641)]),
    ("tcp:[::1]:6641", [Endpoint("tcp", host="::1", port=6641)]),
    ("tcp:10.0.0.1:6641,tcp:10.0.0.2:6641, tcp:10.0.0.3:6641",
     [Endpoint("tcp", host=f"10.0.0.{i}", port=6641) for i in (1, 2, 3)]),
    ("unix:/tmp/a.sock,ssl:[fd00::1]:6641",
     [Endpoint("unix", path="/tmp/a.sock"), Endpoint("ssl", host="fd00::1", port=6641)]),
    ("tcp:127.0.0.1:6641,", [Endpoint("tcp", host="127.0.0.1", port=6641)]),
]

INVALID = [
    ("", "empty remote"),
    (" , ", "empty remote"),
    ("127.0.0.1:6641", "expected unix:PATH"),
    ("http://nb:6641", "expected unix:PATH"),
    ("ptcp:6641", "passive remote"),
    ("punix:/run/nb.sock", "passive remote"),
    ("unix:", "needs a socket path"),
    ("tcp:127.0.0.1", "missing port: expected tcp:HOST:PORT"),
    ("tcp::6641", "expected tcp:HOST:PORT"),
    ("tcp:127.0.0.1:0", "port must be a number from 1 to 65535"),
    ("tcp:127.0.0.1:65536", "port must be a number from 1 to 65535"),
    ("ssl:127.0.0.1:http", "port must be a number"),
    ("tcp:::1:6641", "put an IPv6 address in brackets"),
    ("tcp:[::1]6641", "expected tcp:[IPV6]:PORT"),
    ("tcp:10.0.0.1:6641,tcp:10.0.0.2", "'tcp:10.0.0.2': missing port"),
]


@pytest.mark.parametrize(("text", "endpoints"), VALID, ids=[text for text, _ in VALID])
def test_valid_remote_parses_to_its_endpoints(text: str, endpoints: list[Endpoint]) -> None:
    remote = parse_remote(text)
    assert list(remote.endpoints) == endpoints
    assert parse_remote(str(remote)) == remote  # the canonical form parses back


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[text or "empty" for text, _ in INVALID])
def test_invalid_remote_is_refused_with_a_hint(text: str, message: str) -> None:
    with pytest.raises(RemoteError, match=re.escape(message)):
        parse_remote(text)


def test_canonical_form_brackets_ipv6() -> None:
    assert str(parse_remote("tcp:[::1]:6641,unix:/x")) == "tcp:[::1]:6641,unix:/x"
    assert parse_remote("ssl:h:1").uses_ssl and not parse_remote("tcp:h:1").uses_ssl


@pytest.mark.parametrize(("explicit", "environ", "default", "expected"), [
    ("tcp:1.1.1.1:6641", {"OVN_NB_DB": "unix:/env.sock"}, "unix:/default.sock", "tcp:1.1.1.1:6641"),
    (None, {"OVN_NB_DB": "unix:/env.sock"}, "unix:/default.sock", "unix:/env.sock"),
    (None, {"OVN_NB_DB": ""}, "unix:/default.sock", "unix:/default.sock"),
    (None, {}, "unix:/default.sock", "unix:/default.sock"),
])
def test_resolve_prefers_flag_then_environment_then_default(explicit, environ, default,
                                                          expected) -> None:
    assert str(resolve_remote(explicit, environ, default)) == expected


def test_resolve_without_any_remote_says_how_to_give_one() -> None:
    with pytest.raises(RemoteError, match="--nb REMOTE or set OVN_NB_DB"):
        resolve_remote(None, {})
