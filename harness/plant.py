"""Apply catalogue edits to a tree and derive the reverse edits that undo them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Bug, Edit


class PlantError(Exception):
    """An edit's text was not found exactly once where it must apply."""


@dataclass(frozen=True)
class ReverseEdit:
    """A replacement that restores the text one planted edit changed."""

    bug: str
    file: str
    find: str
    replace: str


def occurrences(text: str, needle: str) -> int:
    """Count occurrences of ``needle`` in ``text``, overlapping ones included."""
    if not needle:
        return len(text) + 1
    count, start = 0, text.find(needle)
    while start != -1:
        count += 1
        start = text.find(needle, start + 1)
    return count


def read_text(path: Path) -> str:
    """Read a file as UTF-8 without newline translation."""
    return path.read_bytes().decode("utf-8")


def write_text(path: Path, text: str) -> None:
    """Write a file as UTF-8 without newline translation, keeping its mode."""
    path.write_bytes(text.encode("utf-8"))


def unique_anchor(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) by whole lines until its text occurs exactly once in ``text``."""
    while end <= start or occurrences(text, text[start:end]) != 1:
        if start == 0 and end == len(text):
            break
        if start > 0:
            start = text.rfind("\n", 0, start - 1) + 1
        newline = text.find("\n", end)
        end = len(text) if newline == -1 else newline + 1
    return start, end


def apply_edit(text: str, edit: Edit, bug_id: str) -> tuple[str, ReverseEdit]:
    """Replace ``edit.before`` (found exactly once) and return the new text and its reverse."""
    count = occurrences(text, edit.before)
    if count != 1:
        raise PlantError(
            f"{bug_id}: 'before' text occurs {count} times in {edit.file} (must be exactly once)"
        )
    at = text.find(edit.before)
    new = text[:at] + edit.after + text[at + len(edit.before) :]
    lo, hi = unique_anchor(new, at, at + len(edit.after))
    prefix, suffix = new[lo:at], new[at + len(edit.after) : hi]
    reverse = ReverseEdit(bug_id, edit.file, new[lo:hi], prefix + edit.before + suffix)
    return new, reverse


def apply_reverse(text: str, reverse: ReverseEdit) -> str:
    """Undo one planted edit; its anchor must occur exactly once."""
    count = occurrences(text, reverse.find)
    if count != 1:
        raise PlantError(
            f"{reverse.bug}: planted text occurs {count} times in {reverse.file} "
            "(must be exactly once)"
        )
    return text.replace(reverse.find, reverse.replace, 1)


def plant(tree: Path, bugs: list[Bug]) -> list[ReverseEdit]:
    """Apply the bugs' edits to ``tree`` in the given order; return reverse edits in that order."""
    texts: dict[str, str] = {}
    reverses: list[ReverseEdit] = []
    for bug in bugs:
        for edit in bug.edits:
            if edit.file not in texts:
                path = tree / edit.file
                if not path.is_file():
                    raise PlantError(f"{bug.id}: file {edit.file} does not exist in the tree")
                texts[edit.file] = read_text(path)
            texts[edit.file], reverse = apply_edit(texts[edit.file], edit, bug.id)
            reverses.append(reverse)
    for name, text in texts.items():
        write_text(tree / name, text)
    return reverses


def unplant(tree: Path, reverses: list[ReverseEdit]) -> None:
    """Apply reverse edits to ``tree`` last-first, checking every anchor before writing."""
    texts: dict[str, str] = {}
    for reverse in reversed(reverses):
        if reverse.file not in texts:
            texts[reverse.file] = read_text(tree / reverse.file)
        texts[reverse.file] = apply_reverse(texts[reverse.file], reverse)
    for name, text in texts.items():
        write_text(tree / name, text)
