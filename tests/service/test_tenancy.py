"""Tenancy: bearer tokens map to the projects a caller may touch; everything else is
UNAUTHENTICATED, PERMISSION_DENIED or, for ids of other tenants' objects, NOT_FOUND,
with nothing written. Without tokens the server listens on loopback only."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import grpc
import pytest

from netc.client import NetworkClient, NetworkError
from tests.service.conftest import SERVICE

pytestmark = SERVICE

ACME, GLOBEX = "acme-secret", "globex-secret"


@pytest.fixture(scope="module")
def tenants(service_factory):
    server = service_factory(tokens=[
        {"token": ACME, "projects": ["acme/*"]},
        {"token_sha256": hashlib.sha256(GLOBEX.encode()).hexdigest(), "projects": ["globex/web"]}])
    acme = NetworkClient.connect(server.address, token=ACME)
    globex = NetworkClient.connect(server.address, token=GLOBEX)
    acme.create_vpc(org_id="acme", project_id="web", cidr="10.50.0.0/16")
    globex.create_vpc(org_id="globex", project_id="web", cidr="10.51.0.0/16")
    globex.create_security_group(org_id="globex", project_id="web", name="db")
    port = globex.create_port(org_id="globex", project_id="web")
    yield server, acme, globex, port
    acme.close()
    globex.close()


def refused(call) -> tuple[str, str]:
    with pytest.raises(NetworkError) as error:
        call()
    return error.value.status.name, error.value.code


def test_no_token_and_an_unknown_token_are_unauthenticated(tenants, fingerprint):
    server, *_ = tenants
    before = fingerprint(server)
    for token in (None, "guess", ""):
        with NetworkClient.connect(server.address, token=token) as anonymous:
            assert refused(lambda: anonymous.create_vpc(org_id="acme", project_id="x")) == \
                ("UNAUTHENTICATED", "UNAUTHENTICATED")
            assert refused(lambda: anonymous.list_vpcs(org_id="acme")) == \
                ("UNAUTHENTICATED", "UNAUTHENTICATED")
    assert fingerprint(server) == before


def test_another_tenant_by_name_is_permission_denied(tenants, fingerprint):
    server, acme, globex, port = tenants
    before = fingerprint(server)
    assert refused(lambda: acme.create_port(org_id="globex", project_id="web")) == \
        ("PERMISSION_DENIED", "PERMISSION_DENIED")
    assert refused(lambda: acme.get_port(org_id="globex", project_id="web", id=port.id)) == \
        ("PERMISSION_DENIED", "PERMISSION_DENIED")
    assert refused(lambda: globex.create_vpc(org_id="globex", project_id="ci")) == \
        ("PERMISSION_DENIED", "PERMISSION_DENIED")
    assert refused(lambda: globex.delete_vpc(org_id="acme", project_id="web", id="acme/web")) == \
        ("PERMISSION_DENIED", "PERMISSION_DENIED")
    assert fingerprint(server) == before


def test_another_tenant_by_id_is_not_found(tenants, fingerprint):
    server, acme, globex, port = tenants
    before = fingerprint(server)
    mine = dict(org_id="acme", project_id="web")
    assert refused(lambda: acme.get_port(**mine, id=port.id)) == ("NOT_FOUND", "PORT_NOT_FOUND")
    assert refused(lambda: acme.delete_port(**mine, id=port.id)) == ("NOT_FOUND", "PORT_NOT_FOUND")
    assert refused(lambda: acme.attach_port(**mine, id=port.id, vm_id="vm-9")) == \
        ("NOT_FOUND", "PORT_NOT_FOUND")
    assert refused(lambda: acme.create_port(**mine, security_group_ids=["globex/web/db"])) == \
        ("NOT_FOUND", "SECURITY_GROUP_NOT_FOUND")
    assert refused(lambda: acme.create_port(**mine, subnet_id="globex/web/default")) == \
        ("NOT_FOUND", "SUBNET_NOT_FOUND")
    assert refused(lambda: acme.get_vpc(**mine, id="globex/web")) == ("NOT_FOUND", "VPC_NOT_FOUND")
    assert fingerprint(server) == before


def test_a_listing_shows_only_what_the_token_grants(tenants):
    _, acme, globex, _ = tenants
    assert [v.id for v in acme.list_vpcs(org_id="acme").vpcs] == ["acme/web"]
    assert acme.list_vpcs(org_id="globex").vpcs == []
    assert [v.id for v in globex.list_vpcs(org_id="globex").vpcs] == ["globex/web"]


def test_without_tokens_the_server_refuses_a_non_loopback_address(tmp_path):
    config = tmp_path / "serve.toml"
    config.write_text('[server]\nlisten_addr = "0.0.0.0:18099"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "netc", "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "refusing to listen on 0.0.0.0:18099 without [[auth.tokens]]" in done.stderr
    assert "Traceback" not in done.stderr
