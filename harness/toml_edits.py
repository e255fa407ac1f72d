"""Rewrite the ``[[edits]]`` tables of a bug file, leaving every byte outside them unchanged."""

from __future__ import annotations

import difflib
import json
import re
import tomllib

from harness.catalogue import CatalogueError, Edit

_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)
_EDITS = re.compile(r"^[ \t]*\[\[[ \t]*edits[ \t]*\]\]", re.MULTILINE)


def render_string(text: str) -> str:
    """Return a TOML string literal for ``text``: a multi-line literal when it can be one."""
    plain = "'''" not in text and not text.endswith("'")
    if plain and all(c in "\n\t" or c >= " " for c in text) and "\r" not in text:
        return f"'''\n{text}'''"
    return json.dumps(text, ensure_ascii=False)


def render_block(edit: Edit) -> str:
    """Return a whole ``[[edits]]`` table."""
    return (
        f"[[edits]]\nfile = {json.dumps(edit.file)}\nbefore = {render_string(edit.before)}\n"
        f"after = {render_string(edit.after)}\n"
    )


def edit_blocks(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every ``[[edits]]`` table, up to the next table or the end."""
    spans = []
    for match in _EDITS.finditer(text):
        following = _HEADER.search(text, match.end())
        spans.append((match.start(), following.start() if following else len(text)))
    return spans


def _string_end(text: str, start: int) -> int:
    """Return the index just past the TOML string that opens at ``start``."""
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    i = start + len(delimiter)
    while not text.startswith(delimiter, i):
        if i >= len(text):
            raise CatalogueError("unterminated string in an [[edits]] table")
        i += 2 if quote == '"' and text[i] == "\\" else 1
    end = i + len(delimiter)
    while delimiter != quote and text[end : end + 1] == quote:
        end += 1  # up to two quotes may close a multi-line string
    return end


def _rewrite_block(block: str, edit: Edit) -> str:
    """Replace the ``file``, ``before`` and ``after`` values of one table, keeping the rest."""
    for key, value in (("file", edit.file), ("before", edit.before), ("after", edit.after)):
        match = re.search(rf"^{key}[ \t]*=[ \t]*", block, re.MULTILINE)
        if match is None:
            raise CatalogueError(f"an [[edits]] table has no '{key}' key")
        start = match.end()
        new = json.dumps(value) if key == "file" else render_string(value)
        block = block[:start] + new + block[_string_end(block, start) :]
    return block


def rewrite_edits(text: str, old: list[Edit], new: list[Edit]) -> str:
    """Return ``text`` with its edit tables turned from ``old`` into ``new``.

    Tables whose edit is unchanged keep every byte; a changed one keeps its layout and any
    other keys; tables are dropped or added only where the number of edits changes.
    """
    blocks = edit_blocks(text)
    if len(blocks) != len(old):
        raise CatalogueError(f"found {len(blocks)} [[edits]] tables, expected {len(old)}")
    pieces, cursor = [], 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        at = blocks[i1][0] if i1 < len(blocks) else len(text)
        pieces.append(text[cursor:at])
        if at == len(text) and not text.endswith("\n\n"):
            pieces.append("\n" if text.endswith("\n") else "\n\n")
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            start, end = blocks[i1 + k]
            pieces.append(_rewrite_block(text[start:end], new[j1 + k]))
        pieces += [render_block(e) + "\n" for e in new[j1 + pairs : j2]]
        cursor = blocks[i2 - 1][1] if i2 > i1 else at
    pieces.append(text[cursor:])
    result = "".join(pieces)
    parsed = tomllib.loads(result).get("edits", [])
    if [Edit(e["file"], e["before"], e["after"]) for e in parsed] != new:
        raise CatalogueError("rewriting the [[edits]] tables did not round-trip")
    return result
