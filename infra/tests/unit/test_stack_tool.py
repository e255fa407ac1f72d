"""Pure logic of the local stack tool: ports, waits, pid files, idempotent up, commands."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from infra import cli, health, launch, postgres, processes
from infra.stack import SERVICES, Service, StackError, platform_env, resolve, resolve_port, select

SPEC = {spec.name: spec for spec in SERVICES}


def service(tmp_path: Path, name: str = "redis", port: int = 6379) -> Service:
    return Service(SPEC[name], port, tmp_path / name)


def never_healthy():
    return "connection refused"


def test_port_override_comes_from_the_services_env_var():
    env = {"SYNAPSE_INFRA_POSTGRES_USERS_PORT": "15433"}
    assert resolve_port(SPEC["postgres-users"], env) == 15433
    assert resolve_port(SPEC["postgres-models"], env) == 5432


def test_bad_port_override_names_the_variable():
    with pytest.raises(StackError, match="SYNAPSE_INFRA_KAFKA_PORT='x9092'"):
        resolve_port(SPEC["kafka"], {"SYNAPSE_INFRA_KAFKA_PORT": "x9092"})


def test_platform_env_follows_port_overrides():
    env = {"SYNAPSE_INFRA_REDIS_PORT": "16379", "SYNAPSE_INFRA_POSTGRES_METRICS_PORT": "15435"}
    out = platform_env(env)
    assert out["SYNAPSE_REDIS_URL"] == "redis://localhost:16379/0"
    assert (
        out["SYNAPSE_DB_METRICS_DB_URL"]
        == "postgresql://synapse:synapse@localhost:15435/metrics_db"
    )
    assert out["SYNAPSE_KAFKA_BOOTSTRAP"] == "localhost:9092"
    assert out["SYNAPSE_CONSUL_PORT"] == "8500"


def test_state_lives_under_the_configured_folder(tmp_path):
    [svc] = resolve(select("s3"), {"SYNAPSE_INFRA_DIR": str(tmp_path)})
    assert svc.pid_file == tmp_path / "s3" / "pid.json"
    assert svc.port == 9000


def test_only_refuses_unknown_names():
    with pytest.raises(StackError, match="unknown service.*kafak"):
        select("redis,kafak")


def test_health_wait_timeout_names_the_service_and_last_reason(clock):
    with pytest.raises(health.HealthTimeout) as err:
        health.wait_healthy(
            "elasticsearch", never_healthy, timeout=20, clock=clock, sleep=clock.sleep
        )
    message = str(err.value)
    assert message.startswith("elasticsearch:")
    assert "20s" in message and "connection refused" in message
    assert clock.now == pytest.approx(1020.0)


def test_health_wait_reports_time_to_healthy(clock):
    answers = iter(["refused", "refused", None])
    result = health.wait_healthy(
        "redis", lambda: next(answers), timeout=20, clock=clock, sleep=clock.sleep
    )
    assert result.seconds == pytest.approx(0.2)


def test_health_wait_stops_when_the_process_exits(clock):
    with pytest.raises(health.ServiceExited, match="^kafka: the server process exited"):
        health.wait_healthy(
            "kafka", never_healthy, timeout=20, alive=lambda: False, clock=clock, sleep=clock.sleep
        )
    assert clock.now == 1000.0


def test_a_probe_that_raises_counts_as_unhealthy(clock):
    def broken():
        raise ConnectionResetError("reset by peer")

    with pytest.raises(health.HealthTimeout, match="ConnectionResetError: reset by peer"):
        health.wait_healthy("s3", broken, timeout=1, clock=clock, sleep=clock.sleep)


def own_record(port: int) -> processes.PidRecord:
    marker = processes.cmdline(os.getpid()).split()[0]
    return processes.PidRecord(os.getpid(), port, marker, 0.0)


def test_up_leaves_a_running_service_alone(tmp_path, clock):
    svc = service(tmp_path)
    svc.dir.mkdir()
    processes.write_pid(svc.pid_file, own_record(svc.port))
    started = []
    outcome = cli.bring_up(
        svc, timeout=5, probe=lambda: None, starter=started.append, clock=clock, sleep=clock.sleep
    )
    assert outcome.state == "running"
    assert started == []


def test_stale_pid_file_is_dropped_and_the_service_started(tmp_path, clock, monkeypatch):
    svc = service(tmp_path, port=1)
    svc.dir.mkdir()
    processes.write_pid(svc.pid_file, processes.PidRecord(os.getpid(), 1, "no-such-marker", 0.0))
    monkeypatch.setattr(health, "port_in_use", lambda port: False)
    started = []

    def starter(s):
        started.append(s.name)
        return 4242, lambda: True

    outcome = cli.bring_up(svc, timeout=5, probe=lambda: None, starter=starter, clock=clock)
    assert outcome.state == "started" and started == ["redis"]
    assert not svc.pid_file.exists()  # the starter writes the new one


def test_failed_start_stops_the_process_and_shows_its_latest_log(tmp_path, clock, monkeypatch):
    svc = service(tmp_path, port=1)
    svc.dir.mkdir()
    svc.log_file.write_text("old run\n=== start 2\nFATAL: could not bind\n")
    monkeypatch.setattr(health, "port_in_use", lambda port: False)
    stopped = []
    outcome = cli.bring_up(
        svc,
        timeout=3,
        probe=never_healthy,
        starter=lambda s: (4242, lambda: True),
        stopper=lambda s, pid: stopped.append(pid),
        clock=clock,
        sleep=clock.sleep,
    )
    assert outcome.state == "failed" and stopped == [4242]
    assert outcome.message.startswith("redis: not healthy after 3s")
    assert "FATAL: could not bind" in outcome.message and "old run" not in outcome.message


def test_a_foreign_process_on_the_port_is_reported_not_adopted(tmp_path, clock, monkeypatch):
    svc = service(tmp_path, "consul", 8500)
    monkeypatch.setattr(health, "port_in_use", lambda port: True)
    outcome = cli.bring_up(svc, timeout=3, probe=lambda: None, starter=None, clock=clock)
    assert outcome.state == "failed"
    assert (
        "port 8500 is taken" in outcome.message and "SYNAPSE_INFRA_CONSUL_PORT" in outcome.message
    )


def test_unreadable_pid_file_is_treated_as_absent(tmp_path):
    path = tmp_path / "pid.json"
    path.write_text("{not json")
    assert processes.live_record(path) is None
    assert not path.exists()


def fake_proc(tmp_path: Path, pid: int, stat: str, cmd: bytes) -> Path:
    entry = tmp_path / "proc" / str(pid)
    entry.mkdir(parents=True)
    (entry / "stat").write_text(stat)
    (entry / "cmdline").write_bytes(cmd)
    return tmp_path / "proc"


def test_zombie_processes_are_not_alive(tmp_path):
    proc = fake_proc(tmp_path, 77, "77 (redis (main)) Z 1 77 77", b"redis-server\0")
    assert not processes.is_alive(77, proc)


def test_pid_reused_by_another_program_is_stale(tmp_path):
    proc = fake_proc(tmp_path, 77, "77 (bash) S 1 77 77", b"/bin/bash\0-l\0")
    path = tmp_path / "pid.json"
    processes.write_pid(path, processes.PidRecord(77, 6379, "redis-server", 0.0))
    assert processes.live_record(path, proc) is None


def test_stop_escalates_to_sigkill_after_its_bound(clock):
    sent = []
    forced = processes.stop(
        99,
        signal.SIGINT,
        timeout=10,
        alive=lambda pid: True,
        clock=clock,
        sleep=clock.sleep,
        send=lambda pid, sig: sent.append((sig, clock.now)),
    )
    assert forced is True
    assert [sig for sig, _ in sent] == [signal.SIGINT, signal.SIGKILL]
    assert 1010.0 <= sent[1][1] < 1010.1
    # A group that never goes away is given up on after the kill grace, not waited on forever.
    assert clock.now < 1010.1 + processes.KILL_GRACE


def test_stop_of_a_process_that_exits_sends_one_signal(clock):
    sent = []
    states = iter([True, False])
    forced = processes.stop(
        99, alive=lambda pid: next(states), clock=clock, sleep=clock.sleep,
        send=lambda pid, sig: sent.append(sig),
    )  # fmt: skip
    assert forced is False and sent == [signal.SIGTERM]


def test_a_group_lives_while_any_member_other_than_the_leader_runs(tmp_path):
    proc = fake_proc(tmp_path, 80, "80 (celery) S 40 70 70", b"celery\0worker\0")
    fake_proc(tmp_path, 81, "81 (celery (pool)) Z 80 71 71", b"")
    assert processes.group_alive(70, proc)
    assert not processes.group_alive(71, proc)  # its only member is a zombie
    assert not processes.group_alive(72, proc)


CHILD_IGNORING_SIGTERM = """
import signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
signal.pause()
"""
LEADER = """
import signal, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print(child.pid, flush=True)
signal.pause()
"""


def test_stop_waits_for_group_members_that_outlive_the_leader():
    import subprocess
    import sys

    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER, CHILD_IGNORING_SIGTERM],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        child = int(leader.stdout.readline())  # the child ignores SIGTERM from here on
        forced = processes.stop(leader.pid, timeout=1.0)
        leader.wait(timeout=5)
        assert forced is True
        assert not processes.is_alive(child)
        assert not processes.group_alive(leader.pid)
    finally:
        processes.stop(leader.pid, signal.SIGKILL, timeout=1.0)


def test_process_tree_rss_counts_this_process():
    assert processes.tree_rss(os.getpid()) > 1024 * 1024


def test_health_timeout_env_must_be_a_positive_number():
    assert cli.health_timeout({}) == 20.0
    assert cli.health_timeout({"SYNAPSE_INFRA_HEALTH_TIMEOUT": "5"}) == 5.0
    with pytest.raises(StackError, match="SYNAPSE_INFRA_HEALTH_TIMEOUT"):
        cli.health_timeout({"SYNAPSE_INFRA_HEALTH_TIMEOUT": "soon"})


def test_postgres_listens_on_loopback_tcp_only_as_the_given_user(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "find_binary", lambda name, path=None: f"/pg/{name}")
    svc = service(tmp_path, "postgres-users", 15433)
    argv = postgres.server_argv(svc, "synapse-pg")
    assert argv[:5] == [
        "setpriv",
        "--reuid=synapse-pg",
        "--regid=synapse-pg",
        "--init-groups",
        "--",
    ]
    assert "listen_addresses=127.0.0.1" in argv and "port=15433" in argv
    assert "unix_socket_directories=" in argv
    assert argv[argv.index("-D") + 1] == str(tmp_path / "postgres-users" / "data")
    assert postgres.server_argv(svc, None)[0] == "/pg/postgres"


def test_missing_postgres_binaries_say_what_to_install(monkeypatch):
    monkeypatch.setattr(postgres, "PG_BIN_DIRS", ())
    with pytest.raises(StackError, match="apt-get install postgresql-15"):
        postgres.find_binary("initdb", path="")


def test_redis_keeps_nothing_on_disk_and_binds_loopback(tmp_path, monkeypatch):
    monkeypatch.setattr(launch, "redis_server", lambda: "redis-server")
    argv = launch.server_argv(service(tmp_path, port=16379))
    pairs = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert pairs == {
        "--port": "16379",
        "--bind": "127.0.0.1",
        "--dir": str(tmp_path / "redis"),
        "--daemonize": "no",
        "--save": "",
        "--appendonly": "no",
    }


def test_env_command_prints_exports(capsys, monkeypatch):
    monkeypatch.setenv("SYNAPSE_INFRA_S3_PORT", "19000")
    assert cli.main(["env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "export SYNAPSE_S3_ENDPOINT=localhost:19000" in lines
    assert all(line.startswith("export SYNAPSE_") for line in lines)


def test_unknown_service_exits_two_naming_it(capsys):
    assert cli.main(["status", "--only", "mongo"]) == 2
    assert "mongo" in capsys.readouterr().err


def test_a_program_that_cannot_run_fails_naming_the_service(tmp_path, clock, monkeypatch):
    svc = service(tmp_path, "kafka", 9092)
    monkeypatch.setattr(health, "port_in_use", lambda port: False)

    def starter(s):
        raise PermissionError(13, "Permission denied", "/opt/tansu")

    outcome = cli.bring_up(svc, timeout=3, probe=never_healthy, starter=starter, clock=clock)
    assert outcome.state == "failed"
    assert outcome.message.startswith("kafka: [Errno 13] Permission denied")
