"""Report where bugs crowd each other: busy files, nearby edits, edits written on other edits."""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Bug
from harness.plant import occurrences, read_text

CROWDED = 5
NEAR = 3


@dataclass(frozen=True)
class Span:
    """Where one edit sits once the bugs before it (catalogue order) are planted."""

    bug: str
    file: str
    first: int
    last: int
    changed: str


def _changed(before: str, after: str) -> str:
    """Return the lines of ``after`` that differ from ``before`` (common lines trimmed)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    while old and new and old[0] == new[0]:
        old, new = old[1:], new[1:]
    while old and new and old[-1] == new[-1]:
        old, new = old[:-1], new[:-1]
    return "".join(new)


def edit_spans(root: Path, catalogue: dict[str, Bug]) -> list[Span]:
    """Locate every edit's lines, planting the catalogue in order.

    Edits that do not apply are left out: gate 1 reports them.
    """
    texts: dict[str, str] = {}
    spans = []
    for bug in catalogue.values():
        for edit in bug.edits:
            path = root / edit.file
            if edit.file not in texts and path.is_file():
                texts[edit.file] = read_text(path)
            text = texts.get(edit.file, "")
            if occurrences(text, edit.before) != 1:
                continue
            at = text.find(edit.before)
            first = text.count("\n", 0, at) + 1
            last = first + max(edit.after.count("\n"), 1) - 1
            spans.append(Span(bug.id, edit.file, first, last, _changed(edit.before, edit.after)))
            texts[edit.file] = text[:at] + edit.after + text[at + len(edit.before) :]
    return spans


def overlap_report(
    catalogue: dict[str, Bug], root: Path | None = None, crowded: int = CROWDED, near: int = NEAR
) -> list[str]:
    """Return one line per crowded file, pair of nearby edits and edit written on another."""
    spans = edit_spans(root, catalogue) if root is not None else []
    lines = []
    by_file: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_file[span.file].append(span)
    for file, found in sorted(by_file.items(), key=lambda item: (-len(item[1]), item[0])):
        bugs = sorted({s.bug for s in found})
        if len(found) >= crowded:
            lines.append(f"crowded: {file} has {len(found)} edits of {len(bugs)} bugs")
    for file, found in sorted(by_file.items()):
        for index, a in enumerate(found):
            for b in found[index + 1 :]:
                if a.bug == b.bug:
                    continue
                gap = max(a.first, b.first) - min(a.last, b.last)
                if gap <= near:
                    where = f"{file} (lines {a.first}, {b.first})"
                    lines.append(f"near: {a.bug} and {b.bug} in {where}")
    lines += _written_on(catalogue)
    return lines


def _written_on(catalogue: dict[str, Bug]) -> list[str]:
    """Return the bugs whose ``before`` contains text another bug's ``after`` introduced."""
    lines = []
    for bug in catalogue.values():
        for edit in bug.edits:
            for other in catalogue.values():
                if other.id == bug.id:
                    continue
                for theirs in other.edits:
                    changed = _changed(theirs.before, theirs.after).strip()
                    if theirs.file == edit.file and changed and changed in edit.before:
                        lines.append(f"on top: {bug.id}'s before overlaps {other.id}'s after")
    return sorted(set(lines))


def overlap_command(args: argparse.Namespace) -> int:
    """Print the overlap report of the catalogue."""
    from harness.catalogue import load_catalogue

    catalogue = load_catalogue(args.root / "bugs")
    report = overlap_report(catalogue, args.root, args.crowded, args.near)
    for line in report:
        print(line)
    print(f"# {len(report)} finding(s) for {len(catalogue)} bugs")
    return 0
