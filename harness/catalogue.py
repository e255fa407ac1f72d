"""Load and validate the bug catalogue (bugs/<ID>.toml) and put it in catalogue order."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORY_ORDER = "LMABCDEFGHIJK"
ID_PATTERN = re.compile(r"^([LMABCDEFGHIJK])(\d{1,2})$")
REQUIRED_KEYS = ("id", "title", "category", "services", "depends_on", "fails", "edits")
EDIT_KEYS = ("file", "before", "after")


class CatalogueError(Exception):
    """A bug file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Edit:
    """One exact text replacement in one file."""

    file: str
    before: str
    after: str

    def unchanged_ends(self) -> tuple[int, int]:
        """Return how many whole lines the edit leaves alone before and after its change."""
        old, new = self.before.splitlines(True), self.after.splitlines(True)
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        return head, tail


@dataclass(frozen=True)
class Bug:
    """One catalogue entry."""

    id: str
    title: str
    category: str
    services: tuple[str, ...]
    depends_on: tuple[str, ...]
    fails: tuple[str, ...]
    edits: tuple[Edit, ...]
    hint: str = ""
    heldout: tuple[str, ...] = ()
    path: Path | None = None


def sort_key(bug_id: str) -> tuple[int, int]:
    """Return the catalogue-order key of a bug ID (category order, then number)."""
    match = ID_PATTERN.match(bug_id)
    if not match:
        raise CatalogueError(f"{bug_id}: not a bug ID (letter {CATEGORY_ORDER} + number)")
    return CATEGORY_ORDER.index(match.group(1)), int(match.group(2))


def _edit(bug_id: str, index: int, raw: object) -> Edit:
    """Validate one [[edits]] table."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{bug_id}: edits[{index}] is not a table")
    for key in EDIT_KEYS:
        if not isinstance(raw.get(key), str):
            raise CatalogueError(f"{bug_id}: edits[{index}] needs string key {key!r}")
    if not raw["before"]:
        raise CatalogueError(f"{bug_id}: edits[{index}] has an empty 'before'")
    if raw["before"] == raw["after"]:
        raise CatalogueError(f"{bug_id}: edits[{index}] changes nothing")
    return Edit(raw["file"], raw["before"], raw["after"])


def _string_list(bug_id: str, data: dict[str, Any], key: str) -> tuple[str, ...]:
    """Return a list-of-strings key as a tuple, or raise."""
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{bug_id}: {key!r} must be a list of strings")
    return tuple(value)


def parse_bug(data: dict[str, Any], path: Path | None = None) -> Bug:
    """Build a Bug from a parsed TOML table, checking keys and types."""
    name = path.name if path else "<bug>"
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise CatalogueError(f"{name}: missing key(s) {', '.join(missing)}")
    bug_id = data["id"]
    if not isinstance(bug_id, str):
        raise CatalogueError(f"{name}: 'id' must be a string")
    sort_key(bug_id)
    if path is not None and path.stem != bug_id:
        raise CatalogueError(f"{name}: file name does not match id {bug_id!r}")
    if data["category"] != bug_id[0]:
        raise CatalogueError(f"{bug_id}: category {data['category']!r} does not match the ID")
    for key in ("title", "hint"):
        if not isinstance(data.get(key, ""), str):
            raise CatalogueError(f"{bug_id}: {key!r} must be a string")
    edits = data["edits"]
    if not isinstance(edits, list) or not edits:
        raise CatalogueError(f"{bug_id}: needs at least one [[edits]] table")
    return Bug(
        id=bug_id,
        title=data["title"],
        category=data["category"],
        services=_string_list(bug_id, data, "services"),
        depends_on=_string_list(bug_id, data, "depends_on"),
        fails=_string_list(bug_id, data, "fails"),
        edits=tuple(_edit(bug_id, i, e) for i, e in enumerate(edits)),
        hint=data.get("hint", ""),
        heldout=_string_list(bug_id, data, "heldout") if "heldout" in data else (),
        path=path,
    )


def load_bug(path: Path) -> Bug:
    """Load one bug file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path.name}: invalid TOML: {exc}") from None
    return parse_bug(data, path)


def load_catalogue(bugs_dir: Path) -> dict[str, Bug]:
    """Load every bugs/<ID>.toml in catalogue order, keyed by ID."""
    bugs = [
        load_bug(p) for p in sorted(Path(bugs_dir).glob("*.toml")) if not p.name.startswith("_")
    ]
    ordered = sorted(bugs, key=lambda b: sort_key(b.id))
    return {bug.id: bug for bug in ordered}


def select(catalogue: dict[str, Bug], spec: str) -> list[Bug]:
    """Return the bugs named by ``all``, ``none`` or ``ID,ID,...`` in catalogue order."""
    spec = spec.strip()
    if spec == "all":
        return list(catalogue.values())
    if spec in ("none", ""):
        return []
    ids = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [i for i in ids if i not in catalogue]
    if unknown:
        raise CatalogueError(f"unknown bug ID(s): {', '.join(unknown)}")
    return sorted({catalogue[i] for i in ids}, key=lambda b: sort_key(b.id))
