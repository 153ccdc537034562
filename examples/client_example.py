"""The specification's client example (section 4.4), in Python, as PlasmaVMC would call
the NetworkService for a VM's NIC.

    python3 examples/client_example.py [http://127.0.0.1:8081]
"""

import sys

from netc.client import CreatePortRequest, CreateSubnetRequest, CreateVpcRequest, NetworkClient

client = NetworkClient.connect(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8081")
# Create VPC
vpc = client.create_vpc(CreateVpcRequest(
    org_id="org1",
    project_id="proj1",
    name="my-vpc",
    cidr=None,  # Auto-allocate
))
# Create subnet
subnet = client.create_subnet(CreateSubnetRequest(
    org_id="org1",
    project_id="proj1",
    vpc_id=vpc.id,
    name="default",
    cidr="10.1.0.0/24",
    dhcp_enabled=True,
    dns_servers=["8.8.8.8"],
))
# Create port for VM
port = client.create_port(CreatePortRequest(
    org_id="org1",
    project_id="proj1",
    subnet_id=subnet.id,
    vm_id="vm-123",
    mac_address=None,  # Auto-generate
    ip_address=None,  # DHCP
    security_group_ids=["default"],
))
print(f"VPC {vpc.id} {vpc.cidr}; subnet {subnet.id} {subnet.cidr}; port {port.id}: "
      f"MAC {port.mac_address}, IP {port.ip_address}, OVN row {port.ovn_port_uuid}")
