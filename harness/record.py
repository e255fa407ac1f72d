"""Rewrite the ``fails = [...]`` array of a bug file, leaving every other byte unchanged."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from harness.catalogue import CatalogueError

_FAILS = re.compile(r"^fails[ \t]*=[ \t]*", re.MULTILINE)
_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)


def _array_end(text: str, start: int) -> int:
    """Return the index just past the TOML array that opens at ``text[start] == '['``."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char in "\"'":
            triple = text[i : i + 3] == char * 3
            close = char * 3 if triple else char
            i += len(close)
            while i < len(text) and not text.startswith(close, i):
                i += 2 if char == '"' and text[i] == "\\" else 1
            i += len(close)
            continue
        if char == "#":
            i = text.find("\n", i)
            i = len(text) if i == -1 else i
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        i += 1
        if depth == 0:
            return i
    raise CatalogueError("unterminated 'fails' array")


def format_fails(tests: list[str]) -> str:
    """Return a sorted TOML array of test IDs, one per line."""
    if not tests:
        return "[]"
    lines = "".join(f"    {json.dumps(t, ensure_ascii=False)},\n" for t in sorted(set(tests)))
    return "[\n" + lines + "]"


def replace_fails(text: str, tests: list[str]) -> str:
    """Return ``text`` with its top-level ``fails`` array replaced (or added)."""
    first_table = _TABLE.search(text)
    limit = first_table.start() if first_table else len(text)
    match = _FAILS.search(text, 0, limit)
    if match is None:
        return text[:limit] + f"fails = {format_fails(tests)}\n" + text[limit:]
    start = match.end()
    if text[start : start + 1] != "[":
        raise CatalogueError("'fails' is not an array")
    return text[:start] + format_fails(tests) + text[_array_end(text, start) :]


def record_fails(path: Path, tests: list[str]) -> bool:
    """Write ``tests`` as the fails array of a bug file; return whether the file changed."""
    text = path.read_bytes().decode("utf-8")
    new = replace_fails(text, tests)
    if tomllib.loads(new).get("fails") != sorted(set(tests)):
        raise CatalogueError(f"{path.name}: rewriting 'fails' did not round-trip")
    if new == text:
        return False
    path.write_bytes(new.encode("utf-8"))
    return True
