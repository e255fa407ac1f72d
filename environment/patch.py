"""Apply a unified diff to a tree, all files or none, with every path kept inside the tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from environment.paths import ActionError, safe_path

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
DEV_NULL = "/dev/null"


class PatchError(Exception):
    """A well-formed patch does not apply to the tree as it is (an outcome, not a bad action)."""


@dataclass
class Hunk:
    """One ``@@`` block: the old lines it replaces and the new lines it writes."""

    old_start: int
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    new_no_eol: bool = False


@dataclass
class FilePatch:
    """The hunks of one file; ``old`` or ``new`` is None for a created or deleted file."""

    old: str | None
    new: str | None
    hunks: list[Hunk] = field(default_factory=list)


def _name(header: str) -> str | None:
    """Return the path of a ``---``/``+++`` header, without ``a/``/``b/`` or a timestamp."""
    name = header[4:].split("\t", 1)[0].strip()
    if name == DEV_NULL:
        return None
    if name.startswith(("a/", "b/")):
        name = name[2:]
    return name


def _hunk_body(lines: list[str], at: int, hunk: Hunk, sizes: tuple[int, int]) -> int:
    """Read a hunk's lines starting at ``at``; return the index after it."""
    old_left, new_left = sizes
    last = ""
    while old_left > 0 or new_left > 0 or (at < len(lines) and lines[at].startswith("\\ ")):
        if at >= len(lines):
            raise ActionError("patch ends inside a hunk")
        line = lines[at]
        tag, text = (line[:1] or " "), line[1:]
        at += 1
        if tag == "\\":
            # "No newline at end of file" belongs to the line before it.
            hunk.new_no_eol = hunk.new_no_eol or last in " +"
            continue
        if tag not in " -+":
            raise ActionError(f"unexpected line in hunk: {line[:60]!r}")
        if tag in " -":
            hunk.old.append(text)
            old_left -= 1
        if tag in " +":
            hunk.new.append(text)
            new_left -= 1
        last = tag
    if old_left < 0 or new_left < 0:
        raise ActionError("hunk is longer than its header says")
    return at


def parse_patch(text: str) -> list[FilePatch]:
    """Parse a unified diff into file patches; raise ActionError when malformed."""
    lines = text.splitlines()
    patches: list[FilePatch] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        if line.startswith("--- ") and at + 1 < len(lines) and lines[at + 1].startswith("+++ "):
            patches.append(FilePatch(_name(line), _name(lines[at + 1])))
            at += 2
            continue
        match = HUNK_RE.match(line)
        if match:
            if not patches:
                raise ActionError("hunk before any '---'/'+++' file header")
            old_size = int(match.group(2) or "1")
            new_size = int(match.group(4) or "1")
            hunk = Hunk(int(match.group(1)))
            at = _hunk_body(lines, at + 1, hunk, (old_size, new_size))
            patches[-1].hunks.append(hunk)
            continue
        at += 1  # "diff --git", "index ..." and other prose between files
    if not patches or not all(p.hunks for p in patches):
        raise ActionError("no file with hunks found in the patch")
    return patches


def _find(lines: list[str], old: list[str], start: int) -> int:
    """Return where ``old`` occurs in ``lines``, nearest to ``start``; raise if nowhere."""
    span = len(lines) - len(old)
    for distance in range(max(start, span - start) + 1):
        for at in (start - distance, start + distance):
            if 0 <= at <= span and lines[at : at + len(old)] == old:
                return at
    raise PatchError(f"hunk at line {start + 1} does not match the file")


def _apply_hunks(text: str, patch: FilePatch) -> str:
    """Return ``text`` with the patch's hunks applied in order."""
    lines = text.splitlines()
    eol = text.endswith("\n") or not text
    shift = 0
    for hunk in patch.hunks:
        start = max(hunk.old_start - 1, 0) + shift if hunk.old else hunk.old_start + shift
        at = _find(lines, hunk.old, min(start, len(lines)))
        lines[at : at + len(hunk.old)] = hunk.new
        shift += len(hunk.new) - len(hunk.old)
        if at + len(hunk.new) == len(lines):
            eol = not hunk.new_no_eol
    return "\n".join(lines) + ("\n" if eol and lines else "")


def _target(tree: Path, patch: FilePatch) -> tuple[Path, str | None]:
    """Return the file a patch writes and its new text (None: delete it)."""
    name = patch.new if patch.new is not None else patch.old
    if name is None:
        raise ActionError("a file patch needs a path on one side")
    path = safe_path(tree, name)
    if patch.old is None:
        if path.exists():
            raise PatchError(f"{name} already exists; the patch creates it")
        return path, _apply_hunks("", patch)
    source = safe_path(tree, patch.old)
    if not source.is_file():
        raise PatchError(f"{patch.old} does not exist")
    text = _apply_hunks(source.read_text(encoding="utf-8"), patch)
    return path, None if patch.new is None else text


def _renamed(tree: Path, patch: FilePatch) -> Path | None:
    """Return the old path of a patch that moves a file, else None."""
    if patch.old is None or patch.new is None or patch.old == patch.new:
        return None
    return safe_path(tree, patch.old)


def apply_patch(tree: Path, text: str) -> list[str]:
    """Apply a unified diff to ``tree``; return the changed paths. Nothing is written on error.

    Raise ActionError for a malformed patch or a path outside the tree, PatchError when the
    hunks do not match the files.
    """
    patches = parse_patch(text)
    writes = [_target(tree, patch) for patch in patches]
    moved = [old for old in (_renamed(tree, p) for p in patches) if old is not None]
    for path, content in writes:
        if content is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    for old in moved:
        old.unlink(missing_ok=True)
    return [path.relative_to(tree).as_posix() for path, _ in writes]
