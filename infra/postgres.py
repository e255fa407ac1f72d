"""PostgreSQL clusters: binaries, the unprivileged user when run as root, initdb and argv."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from infra.stack import BIND_HOST, PG_PASSWORD, PG_USER, Service, StackError

PG_BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin")
SYSTEM_USER_ENV = "SYNAPSE_INFRA_PG_SYSTEM_USER"
DEFAULT_SYSTEM_USER = "synapse-pg"
SERVER_SETTINGS = {
    "listen_addresses": BIND_HOST,
    # TCP only: unix socket paths are length-limited and the platform never uses them.
    "unix_socket_directories": "",
    # A disposable dev stack trades durability for start time and memory.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "100",
    "log_min_messages": "warning",
}
_user_lock = threading.Lock()


def find_binary(name: str, path: str | None = None) -> str:
    """Return the path of a PostgreSQL 15 program (PATH first, then the Debian folder)."""
    found = shutil.which(name, path=path)
    if found:
        return found
    for folder in PG_BIN_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise StackError(
        f"postgres: {name} not found on PATH nor in {', '.join(PG_BIN_DIRS)} "
        "(install PostgreSQL 15: apt-get install postgresql-15)"
    )


def system_user(env: Mapping[str, str] | None = None) -> str | None:
    """Return the user the clusters run as when we are root (created on demand), else None."""
    if os.geteuid() != 0:
        return None
    if env is None:
        env = os.environ
    name = env.get(SYSTEM_USER_ENV, "").strip() or DEFAULT_SYSTEM_USER
    with _user_lock:
        try:
            pwd.getpwnam(name)
        except KeyError:
            _create_user(name)
    return name


def _create_user(name: str) -> None:
    cmd = ["useradd", "--system", "--user-group", "--no-create-home"]
    cmd += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"postgres: cannot create system user {name}: {result.stderr.strip()}")


def as_user(user: str | None) -> list[str]:
    """Return the command prefix that runs a program as `user` (empty when None)."""
    if user is None:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def data_dir(service: Service) -> Path:
    """Return the cluster's data folder."""
    return service.dir / "data"


def prepare(service: Service, user: str | None) -> None:
    """Create the cluster with its role and database unless it already exists."""
    service.dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _hand_over(service.dir, user)
    if (data_dir(service) / "PG_VERSION").is_file():
        return
    staging = service.dir / "data.init"
    shutil.rmtree(staging, ignore_errors=True)
    pwfile = service.dir / "pwfile"
    pwfile.write_text(PG_PASSWORD + "\n")
    if user is not None:
        shutil.chown(pwfile, user, user)
    try:
        _run(service, as_user(user) + _initdb_argv(staging, pwfile))
    finally:
        pwfile.unlink(missing_ok=True)
    sql = f"CREATE DATABASE {service.spec.database} OWNER {PG_USER};\n"
    single = [
        find_binary("postgres"),
        "--single",
        "-D",
        str(staging),
        "-c",
        "fsync=off",
        "postgres",
    ]
    _run(service, as_user(user) + single, stdin=sql)
    os.replace(staging, data_dir(service))


def _hand_over(folder: Path, user: str) -> None:
    shutil.chown(folder, user, user)
    check = subprocess.run([*as_user(user), "test", "-w", str(folder)], capture_output=True)
    if check.returncode != 0:
        raise StackError(
            f"postgres: user {user} cannot write {folder}; make its parent folders "
            "traversable (chmod o+x) or set SYNAPSE_INFRA_DIR to a folder it can reach"
        )


def _initdb_argv(target: Path, pwfile: Path) -> list[str]:
    return [
        find_binary("initdb"),
        "-D",
        str(target),
        "--username",
        PG_USER,
        f"--pwfile={pwfile}",
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]


def _run(service: Service, argv: Sequence[str], stdin: str | None = None) -> None:
    result = subprocess.run(list(argv), input=stdin, capture_output=True, text=True)
    with open(service.log_file, "a") as log:
        log.write(f"\n=== {' '.join(argv)}\n{result.stdout}{result.stderr}")
    failed = result.returncode != 0 or "ERROR:" in result.stdout + result.stderr
    if failed:
        raise StackError(
            f"{service.name}: {Path(argv[-1]).name} step failed: see {service.log_file}"
        )


def server_argv(service: Service, user: str | None) -> list[str]:
    """Return the command line that runs the cluster in the foreground."""
    argv = [*as_user(user), find_binary("postgres"), "-D", str(data_dir(service))]
    settings = dict(SERVER_SETTINGS, port=str(service.port))
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    return argv
