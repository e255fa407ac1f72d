"""Read the docker-compose files and derive the facts their checks need, without Docker."""

from __future__ import annotations

import ast
import importlib
import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
TEST_COMPOSE_FILE = REPO_ROOT / "docker-compose.test.yml"
DJANGO_SETTINGS_FILE = REPO_ROOT / "services" / "django_project" / "settings.py"
SETTINGS_ROOTS = ("services", "shared")

# A depends_on entry without a condition waits only for the container to start.
DEFAULT_CONDITION = "service_started"
_SETTINGS_CLASS = re.compile(r"^class \w+\((?:\w+\.)?BaseSettings\)", re.MULTILINE)
# A row of the settings docstring's variable table: | `SYNAPSE_...` | default | meaning |
_DOCUMENTED_VARIABLE = re.compile(r"^\| `(SYNAPSE_[A-Z0-9_]+)`", re.MULTILINE)


def load_compose(path: Path) -> dict[str, Any]:
    """Parse a compose file; raise ValueError unless it has a mapping of services."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise ValueError(f"{path.name} has no 'services' mapping")
    return document


def is_one_shot(service: Mapping[str, Any]) -> bool:
    """Return whether a service runs once and exits (an initialiser), by its restart policy."""
    return str(service.get("restart", "")) == "no"


def is_built(service: Mapping[str, Any]) -> bool:
    """Return whether a service's image is built from this repository."""
    return "build" in service


def command_argv(service: Mapping[str, Any]) -> list[str]:
    """Return a service's command as an argument list (a string is split like a shell)."""
    command = service.get("command") or []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    """Return depends_on as {service: condition}, in either compose syntax."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {str(name): DEFAULT_CONDITION for name in depends}
    return {
        str(name): str((options or {}).get("condition", DEFAULT_CONDITION))
        for name, options in depends.items()
    }


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """Return a service's environment as strings, from the mapping or the KEY=VALUE list form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def published_ports(service: Mapping[str, Any]) -> dict[int, int]:
    """Return {host port: container port} for a service's published ports (both syntaxes)."""
    result: dict[int, int] = {}
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                result[int(entry["published"])] = int(entry["target"])
            continue
        parts = str(entry).split("/", 1)[0].split(":")
        if len(parts) >= 2:
            result[int(parts[-2])] = int(parts[-1])
    return result


def named_volumes(service: Mapping[str, Any]) -> dict[str, str]:
    """Return {volume name: container path} for the named volumes a service mounts."""
    mounts: dict[str, str] = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            if entry.get("type", "volume") == "volume" and entry.get("source"):
                mounts[str(entry["source"])] = str(entry["target"])
            continue
        source, _, rest = str(entry).partition(":")
        if rest and not source.startswith((".", "/", "~")):
            mounts[source] = rest.split(":", 1)[0]
    return mounts


def image_tag(image: str) -> tuple[str, str]:
    """Split an image reference into (repository, tag); the tag is "" when absent."""
    name = image.split("@", 1)[0]
    repository, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, ""
    return repository, tag


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """Return one dependency cycle as a path that starts and ends on the same node, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "active"
        stack.append(node)
        for target in graph.get(node, ()):
            if state.get(target) == "active":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def bootstrap_source(root: Path = REPO_ROOT) -> str:
    """Return the source of the shared.bootstrap entry point ("" when it has none)."""
    package = root / "shared" / "bootstrap"
    if (package / "__main__.py").is_file():
        return "\n".join(p.read_text(encoding="utf-8") for p in sorted(package.glob("*.py")))
    module = root / "shared" / "bootstrap.py"
    return module.read_text(encoding="utf-8") if module.is_file() else ""


def reachable(graph: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """Return every node reachable from start along the graph's edges (start excluded)."""
    seen: set[str] = set()
    pending = list(graph.get(start, ()))
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending.extend(graph.get(node, ()))
    seen.discard(start)
    return seen


def _settings_modules(root: Path) -> list[str]:
    """Return the dotted names of modules under SETTINGS_ROOTS that define a BaseSettings."""
    modules = []
    for folder in SETTINGS_ROOTS:
        for path in sorted((root / folder).rglob("*.py")):
            if _SETTINGS_CLASS.search(path.read_text(encoding="utf-8")):
                modules.append(".".join(path.relative_to(root).with_suffix("").parts))
    return modules


def _settings_variables(module_name: str) -> set[str]:
    """Return the environment variables read by the BaseSettings classes of one module."""
    from pydantic_settings import BaseSettings

    module = importlib.import_module(module_name)
    names: set[str] = set()
    for value in vars(module).values():
        is_settings = isinstance(value, type) and issubclass(value, BaseSettings)
        if not is_settings or value is BaseSettings or value.__module__ != module_name:
            continue
        prefix = value.model_config.get("env_prefix", "")
        for field_name, field in value.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            names.add((alias or f"{prefix}{field_name}").upper())
    return names


def _django_variables(settings_file: Path) -> set[str]:
    """Return the variables listed in the variable table of the Django settings docstring."""
    docstring = ast.get_docstring(ast.parse(settings_file.read_text(encoding="utf-8"))) or ""
    return set(_DOCUMENTED_VARIABLE.findall(docstring))


def known_variables(root: Path = REPO_ROOT) -> set[str]:
    """Return every SYNAPSE_* environment variable some part of the platform reads."""
    from services.django_project.databases import DATABASE_ALIASES, env_var_for

    names = {env_var_for(alias) for alias in DATABASE_ALIASES}
    names |= _django_variables(root / DJANGO_SETTINGS_FILE.relative_to(REPO_ROOT))
    for module_name in _settings_modules(root):
        names |= _settings_variables(module_name)
    return names
