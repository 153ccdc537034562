"""The raw OVSDB client against real ovsdb-server: reads, writes, typed failures, failover."""

from __future__ import annotations

import signal
import subprocess
import threading

import pytest

from netc.backends.ovn_nb.ovsdb import (ConnectionFailed, ConnectionLost, OvsdbClient,
                                        RpcError, SslFiles, TransactionError, WaitTimedOut)

pytestmark = pytest.mark.ovn


def owned(owner: str) -> list:
    return ["map", [["netc:owner", owner]]]


def insert_switch(name: str) -> dict:
    return {"op": "insert", "table": "Logical_Switch", "row": {"name": name}}


def switch_names(client: OvsdbClient, name: str) -> list[str]:
    return [row["name"] for row in client.select("Logical_Switch", [["name", "==", name]],
                                                 ["name"])]


@pytest.fixture(params=["unix", "tcp"])
def nb(request: pytest.FixtureRequest, ovn_sandbox) -> OvsdbClient:
    remote = ovn_sandbox.nb_remote if request.param == "unix" else ovn_sandbox.nb_tcp_remote
    with OvsdbClient(remote) as client:
        yield client


def test_echo_schema_and_databases(nb: OvsdbClient) -> None:
    assert nb.echo(["ping", 1]) == ["ping", 1]
    assert set(nb.list_dbs()) >= {"OVN_Northbound", "_Server"}
    schema = nb.get_schema()
    assert schema["name"] == "OVN_Northbound" and "ACL" in schema["tables"]


def test_insert_then_select_sees_the_row(nb: OvsdbClient, unique_name) -> None:
    name = unique_name("ls")
    [result] = nb.transact([insert_switch(name)])
    rows = nb.select("Logical_Switch", [["name", "==", name]])
    assert [row["_uuid"] for row in rows] == [result["uuid"]]


def test_dump_tables_reads_several_tables_at_once_with_a_condition(nb: OvsdbClient,
                                                                   unique_name) -> None:
    owner, group, foreign = unique_name("owner"), unique_name("pg"), unique_name("pg")
    nb.transact([
        {"op": "insert", "table": "ACL", "uuid-name": "acl",
         "row": {"priority": 1001, "direction": "to-lport", "match": "tcp.dst == 22",
                 "action": "allow-related", "external_ids": owned(owner)}},
        {"op": "insert", "table": "Port_Group",
         "row": {"name": group.replace("-", "_"), "acls": ["named-uuid", "acl"],
                 "external_ids": owned(owner)}},
        {"op": "insert", "table": "Port_Group",
         "row": {"name": foreign.replace("-", "_"), "external_ids": owned("someone-else")}},
    ])
    tables = nb.dump_tables(["Port_Group", "ACL"],
                            where=[["external_ids", "includes", owned(owner)]])
    assert [row["name"] for row in tables["Port_Group"]] == [group.replace("-", "_")]
    assert [row["match"] for row in tables["ACL"]] == ["tcp.dst == 22"]
    assert tables["Port_Group"][0]["acls"] == tables["ACL"][0]["_uuid"]
    per_table = nb.dump_tables(["Port_Group", "NB_Global"],
                               where={"Port_Group": [["name", "==", foreign.replace("-", "_")]]})
    assert len(per_table["Port_Group"]) == 1 and len(per_table["NB_Global"]) == 1


def test_failing_operation_is_named_and_nothing_is_committed(nb: OvsdbClient,
                                                            unique_name) -> None:
    name = unique_name("ls")
    bad = {"op": "insert", "table": "No_Such_Table", "row": {}}
    with pytest.raises(TransactionError) as raised:
        nb.transact([insert_switch(name), bad])
    error = raised.value
    assert (error.index, error.op, error.error) == (1, bad, "syntax error")
    assert "No_Such_Table" in error.details and "operation 1 (insert No_Such_Table)" in str(error)
    assert error.remote == str(nb.endpoint)
    assert switch_names(nb, name) == []


def test_commit_time_failure_names_no_operation(nb: OvsdbClient, unique_name) -> None:
    name = unique_name("pg").replace("-", "_")
    twice = {"op": "insert", "table": "Port_Group", "row": {"name": name}}
    with pytest.raises(TransactionError) as raised:
        nb.transact([twice, twice])
    assert raised.value.index is None and raised.value.op is None
    assert raised.value.error == "constraint violation" and "at commit" in str(raised.value)
    assert nb.select("Port_Group", [["name", "==", name]]) == []


def test_unknown_database_is_an_rpc_error(nb: OvsdbClient) -> None:
    with pytest.raises(RpcError, match="unknown database") as raised:
        nb.get_schema("No_Such_Db")
    assert raised.value.method == "get_schema" and raised.value.remote == str(nb.endpoint)


def test_unreachable_remote_names_every_member_and_cause(tmp_path) -> None:
    missing = tmp_path / "nothing.sock"
    with pytest.raises(ConnectionFailed) as raised:
        OvsdbClient(f"unix:{missing},tcp:127.0.0.1:1", failover_timeout=0.2).connect()
    failure = raised.value
    assert failure.remote == f"unix:{missing},tcp:127.0.0.1:1"
    assert f"unix:{missing}: No such file or directory" in failure.cause
    assert "tcp:127.0.0.1:1: Connection refused" in failure.cause


def test_member_that_is_down_is_skipped(ovn_sandbox, tmp_path, unique_name) -> None:
    with OvsdbClient(f"unix:{tmp_path / 'down.sock'},{ovn_sandbox.nb_tcp_remote}") as client:
        assert str(client.endpoint) == ovn_sandbox.nb_tcp_remote
        client.transact([insert_switch(unique_name("ls"))])


def test_server_that_serves_another_database_is_refused(ovn_sandbox) -> None:
    with pytest.raises(ConnectionFailed, match="does not serve database OVN_Northbound"):
        OvsdbClient(ovn_sandbox.sb_remote, failover_timeout=0.2).connect()


def test_connection_dropped_while_idle_is_reopened_even_for_a_write(ovn_sandbox,
                                                                     unique_name) -> None:
    with OvsdbClient(ovn_sandbox.nb_tcp_remote) as client:
        first = client.endpoint
        ovn_sandbox.run("ovs-appctl", "-t", str(ovn_sandbox.directory / "nb.ctl"),
                        "ovsdb-server/reconnect")
        name = unique_name("ls")
        client.transact([insert_switch(name)])  # noticed before sending: safe to reconnect
        assert client.endpoint == first and switch_names(client, name) == [name]


def test_write_in_flight_when_the_server_dies_is_reported_not_resent(sandbox_factory) -> None:
    sandbox = sandbox_factory()
    server = next(daemon for daemon in sandbox.daemons() if daemon.name == "nb")
    never = {"op": "wait", "table": "Logical_Switch", "timeout": 20_000,
             "where": [["name", "==", "never-created"]], "columns": ["name"],
             "until": "!=", "rows": []}
    with sandbox.client() as client:
        client.echo()
        killer = threading.Timer(0.3, server.stop, (signal.SIGKILL,))
        killer.start()
        try:
            with pytest.raises(ConnectionLost, match="lost before the reply") as raised:
                client.transact([never, insert_switch("blocked")])
        finally:
            killer.join()
    assert raised.value.remote == sandbox.nb_remote


def test_ten_thousand_rows_in_one_transaction_round_trip(sandbox_factory) -> None:
    sandbox = sandbox_factory()
    acls = [{"op": "insert", "table": "ACL", "uuid-name": f"a{i}",
             "row": {"priority": 1000 + i % 1000, "direction": "to-lport",
                     "match": f"ip4.src == 10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                     "action": "allow-related", "external_ids": owned("bulk")}}
            for i in range(10_000)]
    group = {"op": "insert", "table": "Port_Group",
             "row": {"name": "pg_bulk", "acls": ["set", [["named-uuid", f"a{i}"]
                                                          for i in range(10_000)]]}}
    with sandbox.client() as client:
        results = client.transact([*acls, group])
        assert len(results) == 10_001
        rows = client.dump_tables(["ACL"])["ACL"]
    assert sorted(row["match"] for row in rows) == sorted(op["row"]["match"] for op in acls)


def test_bump_nb_cfg_waits_for_northd(ovn_sandbox) -> None:
    with ovn_sandbox.client() as client:
        first = client.bump_nb_cfg_and_wait("sb", timeout=30)
        second = client.bump_nb_cfg_and_wait("sb", timeout=30)
        [row] = client.select("NB_Global", columns=["nb_cfg", "sb_cfg"])
    assert second == first + 1 and row["sb_cfg"] >= second


def test_wait_without_northd_times_out_with_a_clear_error(sandbox_factory) -> None:
    sandbox = sandbox_factory()
    next(daemon for daemon in sandbox.daemons() if daemon.name == "northd").stop()
    with sandbox.client() as client:
        with pytest.raises(WaitTimedOut, match="ovn-northd did not reach nb_cfg"):
            client.bump_nb_cfg_and_wait("sb", timeout=0.5)


def test_writes_go_to_the_leader_and_survive_its_death(cluster_sandbox, unique_name) -> None:
    sandbox = cluster_sandbox
    with sandbox.client() as client:
        leader = sandbox.wait_for_leader()
        assert str(client.endpoint) == sandbox.member_remote(leader)
        before = unique_name("ls")
        client.transact([insert_switch(before)])

        sandbox.kill_member(leader)
        after = unique_name("ls")
        try:
            client.transact([insert_switch(after)])  # reconnects to the newly elected leader
        except ConnectionLost:
            # The write left just as the dying leader's connection reset: whether it
            # committed is unknown, so do what netc apply does: look, then re-send.
            if switch_names(client, after) != [after]:
                client.transact([insert_switch(after)])

        new_leader = sandbox.wait_for_leader()
        assert new_leader != leader
        assert str(client.endpoint) == sandbox.member_remote(new_leader)
        assert switch_names(client, before) == [before]
        assert switch_names(client, after) == [after]

    sandbox.start_member(leader)
    with OvsdbClient(sandbox.member_remote(leader), leader_only=False,
                     failover_timeout=15) as rejoined:  # the member may still be starting
        rejoined.transact([{"op": "wait", "table": "Logical_Switch", "timeout": 30_000,
                            "where": [["name", "==", after]], "columns": ["name"],
                            "until": "==", "rows": [{"name": after}]}])
    sandbox.check_cluster()


def test_follower_serves_reads_only_when_asked(cluster_sandbox) -> None:
    sandbox = cluster_sandbox
    follower = next(m for m in range(1, 4) if m != sandbox.wait_for_leader())
    with pytest.raises(ConnectionFailed, match="not the cluster leader"):
        OvsdbClient(sandbox.member_remote(follower), failover_timeout=0.3).connect()
    with OvsdbClient(sandbox.member_remote(follower), leader_only=False) as client:
        assert client.select("NB_Global", columns=["nb_cfg"])


def test_ovn_nbctl_sees_what_the_client_wrote(ovn_sandbox, unique_name) -> None:
    name = unique_name("ls")
    with ovn_sandbox.client() as client:
        client.transact([insert_switch(name)])
    shown = subprocess.run(["ovn-nbctl", f"--db={ovn_sandbox.nb_remote}", "ls-list"],
                           capture_output=True, text=True, check=True).stdout
    assert f"({name})" in shown


def test_ssl_remote_with_the_sandbox_certificates(sandbox_factory, unique_name) -> None:
    sandbox = sandbox_factory(ssl=True)
    with OvsdbClient(sandbox.nb_ssl_remote, ssl_files=sandbox.ssl_files) as client:
        name = unique_name("ls")
        client.transact([insert_switch(name)])
        assert switch_names(client, name) == [name]
    with pytest.raises(ConnectionFailed, match="needs a private key, a certificate and a CA"):
        OvsdbClient(sandbox.nb_ssl_remote, failover_timeout=0.2).connect()
    untrusted = SslFiles(sandbox.ssl_files.private_key, sandbox.ssl_files.certificate,
                         sandbox.ssl_files.certificate)  # not the CA that signed the server
    with pytest.raises(ConnectionFailed, match="certificate verify failed"):
        OvsdbClient(sandbox.nb_ssl_remote, ssl_files=untrusted, failover_timeout=0.2).connect()
