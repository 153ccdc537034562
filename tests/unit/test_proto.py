"""The checked-in gRPC modules match proto/overlaynetwork/v1/overlay_network.proto,
and the proto keeps the specification's section 4 (every RPC; the request messages of
4.2 with the same field names and numbers)."""

from __future__ import annotations

import subprocess
import sys

from google.protobuf import descriptor_pb2

from netc.service.api import overlay_network_pb2 as pb
from tests.conftest import REPO

SPEC_RPCS = """CreateVpc GetVpc ListVpcs DeleteVpc CreateSubnet GetSubnet ListSubnets DeleteSubnet
CreatePort GetPort ListPorts DeletePort AttachPort DetachPort CreateSecurityGroup GetSecurityGroup
ListSecurityGroups UpdateSecurityGroup DeleteSecurityGroup CreateSnat DeleteSnat CreateDnat
DeleteDnat""".split()

SPEC_FIELDS = {
    "CreateVpcRequest": ["org_id", "project_id", "name", "cidr"],
    "CreateSubnetRequest": ["org_id", "project_id", "vpc_id", "name", "cidr", "dhcp_enabled",
                            "dns_servers"],
    "CreatePortRequest": ["org_id", "project_id", "subnet_id", "vm_id", "mac_address",
                          "ip_address", "security_group_ids"],
    "CreateSecurityGroupRequest": ["org_id", "project_id", "name", "description",
                                   "ingress_rules", "egress_rules"],
    "SecurityRule": ["protocol", "port_range", "source_type", "source"],
    "PortRange": ["min", "max"],
}


def test_the_generated_modules_are_not_stale(tmp_path):
    out = tmp_path / "descriptor.pb"
    done = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{REPO / 'proto'}",
                           f"--descriptor_set_out={out}",
                           "overlaynetwork/v1/overlay_network.proto"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fresh = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    for message in fresh.message_type:  # protoc's python_out leaves json_name out
        for field in message.field:
            field.ClearField("json_name")
    checked_in = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
    assert fresh == checked_in, "the .proto changed: run python3 scripts/gen_proto.py"


def test_every_rpc_of_the_specification():
    service = pb.DESCRIPTOR.services_by_name["NetworkService"]
    assert pb.DESCRIPTOR.package == "overlaynetwork.v1"
    assert [m.name for m in service.methods] == SPEC_RPCS


def test_the_specifications_messages_keep_their_fields_and_numbers():
    for message, fields in SPEC_FIELDS.items():
        descriptor = pb.DESCRIPTOR.message_types_by_name[message]
        assert [(f.name, f.number) for f in descriptor.fields] == \
            [(name, number) for number, name in enumerate(fields, 1)], message


def test_get_and_delete_requests_carry_org_project_and_id():
    for rpc in pb.DESCRIPTOR.services_by_name["NetworkService"].methods:
        if rpc.name.startswith(("Get", "Delete")):
            names = [f.name for f in rpc.input_type.fields]
            assert names[:3] == ["org_id", "project_id", "id"], rpc.name
        if rpc.name.startswith("List"):
            response = rpc.output_type
            field = response.fields[0]
            assert len(response.fields) == 1 and field.is_repeated, rpc.name
            assert field.name == {"ListVpcs": "vpcs", "ListSubnets": "subnets",
                                  "ListPorts": "ports",
                                  "ListSecurityGroups": "security_groups"}[rpc.name]
