"""Carry every bug's edits across a change of main by a three-way merge of each buggy file.

For a bug whose edits no longer apply to the working tree: take each edited file at the base
commit (the one the edits were written against), plant the bug there, merge the planted
change into the current file (``git merge-file``: base file, current file, planted base file),
and derive new ``before``/``after`` blocks from the merged result against the current file.
Only the affected ``[[edits]]`` values of the TOML change. A bug whose merge conflicts, whose
base is unknown, or whose new blocks would not reproduce the merge is refused and left as is.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Bug, CatalogueError, Edit, load_catalogue, select
from harness.plant import PlantError, apply_edit, occurrences, read_text
from harness.toml_edits import rewrite_edits

HISTORY = 200


class RebaseError(Exception):
    """The rebase cannot start (not a git checkout, unknown base)."""


class Refusal(Exception):
    """One bug cannot be carried over; nothing of it is changed."""


@dataclass
class Git:
    """Read files of past commits of one repository, remembering what it read."""

    root: Path

    def __post_init__(self) -> None:
        self._files: dict[tuple[str, str], str | None] = {}

    def run(self, *args: str) -> str:
        """Run a git command in the repository and return its output."""
        done = subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RebaseError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def show(self, rev: str, file: str) -> str | None:
        """Return a file's text at a commit, or None when it does not exist there."""
        key = (rev, file)
        if key not in self._files:
            done = subprocess.run(
                ["git", "-C", str(self.root), "show", f"{rev}:{file}"],
                capture_output=True,
                check=False,
            )
            self._files[key] = done.stdout.decode("utf-8") if done.returncode == 0 else None
        return self._files[key]

    def history(self) -> list[str]:
        """Return the newest commits of HEAD, newest first."""
        return self.run("rev-list", f"--max-count={HISTORY}", "HEAD").split()

    def renames(self, rev: str) -> dict[str, str]:
        """Return files renamed between ``rev`` and the working tree (old path -> new path)."""
        out = self.run("diff", "-M", "--name-status", rev)
        moved = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if parts[0].startswith("R") and len(parts) == 3:
                moved[parts[1]] = parts[2]
        return moved


def plant_texts(texts: Mapping[str, str | None], bug: Bug) -> dict[str, str]:
    """Apply a bug's edits to the given file texts; raise PlantError when one does not apply."""
    planted: dict[str, str] = {}
    for edit in bug.edits:
        text = planted.get(edit.file, texts.get(edit.file))
        if text is None:
            raise PlantError(f"{bug.id}: {edit.file} does not exist")
        planted[edit.file], _ = apply_edit(text, edit, bug.id)
    return planted


def applies(texts: Mapping[str, str | None], bug: Bug) -> bool:
    """Return whether every edit of a bug applies (exactly once, in order) to the texts."""
    try:
        plant_texts(texts, bug)
    except PlantError:
        return False
    return True


def find_base(git: Git, bug: Bug, revs: list[str]) -> str:
    """Return the newest commit at which the bug's edits all apply."""
    files = {e.file for e in bug.edits}
    for rev in revs:
        if applies({f: git.show(rev, f) for f in files}, bug):
            return rev
    raise Refusal(f"{bug.id}: its edits apply at none of the last {len(revs)} commits; give --base")


def merge(base: str, current: str, planted: str, label: str) -> str:
    """Three-way merge the planted change (base -> planted) into ``current``."""
    with tempfile.TemporaryDirectory(prefix="synapse-rebase-") as scratch:
        paths = [Path(scratch) / name for name in ("current", "base", "planted")]
        for path, text in zip(paths, (current, base, planted), strict=True):
            path.write_bytes(text.encode("utf-8"))
        done = subprocess.run(
            ["git", "merge-file", "-p", "-L", "main now", "-L", "base", "-L", "bug"]
            + [str(p) for p in paths],
            capture_output=True,
            check=False,
        )
    merged = done.stdout.decode("utf-8")
    if done.returncode != 0:
        hunk = merged[merged.find("<<<<<<<") : merged.find(">>>>>>>") + 40].strip()
        raise Refusal(f"{label}: the merge conflicts:\n{hunk}")
    return merged


def derive_edits(current: str, merged: str, file: str, style: list[Edit]) -> list[Edit]:
    """Return minimal unique before/after blocks turning ``current`` into ``merged``.

    Each change keeps as many unchanged lines around it as the matching old edit had
    (``style``, in order), widened line by line until its ``before`` occurs exactly once.
    """
    old, new = current.splitlines(True), merged.splitlines(True)
    hunks = [
        op
        for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        if op[0] != "equal"
    ]
    edits = []
    for index, (_, i1, i2, j1, j2) in enumerate(hunks):
        head, tail = style[index].unchanged_ends() if len(style) == len(hunks) else (0, 0)
        lo, hi = max(0, i1 - head), min(len(old), i2 + tail)
        while True:
            before = "".join(old[lo:hi])
            if before and occurrences(current, before) == 1:
                break
            if lo == 0 and hi == len(old):
                raise Refusal(f"{file}: no unique text around a change at line {i1 + 1}")
            lo, hi = max(0, lo - 1), min(len(old), hi + 1)
        after = "".join(old[lo:i1] + new[j1:j2] + old[i2:hi])
        edits.append(Edit(file, before, after))
    return edits


def _carry_file(git: Git, bug: Bug, file: str, rev: str, planted: str) -> list[Edit]:
    """Return new edits of one file: merge the planted change into the current file."""
    target = git.renames(rev).get(file, file)
    if not (git.root / target).is_file():
        raise Refusal(f"{bug.id}: {file} no longer exists (and was not renamed)")
    now = read_text(git.root / target)
    label = f"{bug.id} in {target}"
    merged = merge(git.show(rev, file) or "", now, planted, label)
    found = derive_edits(now, merged, target, [e for e in bug.edits if e.file == file])
    if not found:
        raise Refusal(f"{label}: the merge leaves the file unchanged (edit already in main?)")
    probe = Bug(bug.id, "", "", (), (), (), tuple(found))
    try:
        reproduced = plant_texts({target: now}, probe)
    except PlantError as exc:
        raise Refusal(f"{label}: the new blocks do not apply in order ({exc})") from None
    if reproduced != {target: merged}:
        raise Refusal(f"{label}: the new blocks do not reproduce the merge (ambiguous)")
    return found


def rebase_bug(git: Git, bug: Bug, base: str | None, revs: list[str]) -> list[Edit] | None:
    """Return the bug's whole new edit list, or None when its edits still apply.

    Edits of files where they still apply are kept as they are.
    """
    files = list(dict.fromkeys(e.file for e in bug.edits))
    current = {f: read_text(git.root / f) for f in files if (git.root / f).is_file()}
    if applies(current, bug):
        return None
    stale = [f for f in files if not applies(current, _only(bug, f))]
    rev = base or find_base(git, bug, revs)
    try:
        planted = plant_texts({f: git.show(rev, f) for f in files}, bug)
    except PlantError as exc:
        raise Refusal(f"{bug.id}: does not apply at base {rev[:10]}: {exc}") from None
    carried = {f: _carry_file(git, bug, f, rev, planted[f]) for f in stale}
    edits: list[Edit] = []
    for edit in bug.edits:
        if edit.file not in carried:
            edits.append(edit)
        elif edit == next(e for e in bug.edits if e.file == edit.file):
            edits += carried[edit.file]
    return edits


def _only(bug: Bug, file: str) -> Bug:
    """Return the bug restricted to its edits of one file."""
    return Bug(bug.id, "", "", (), (), (), tuple(e for e in bug.edits if e.file == file))


def rebase_command(args: argparse.Namespace) -> int:
    """Rebase the named bugs (default all) and rewrite their edits; return 1 on any refusal."""
    git = Git(args.root)
    try:
        catalogue = load_catalogue(args.root / "bugs")
        bugs = select(catalogue, args.bugs)
    except CatalogueError as exc:
        raise RebaseError(str(exc)) from None
    base = git.run("rev-parse", "--verify", args.base).strip() if args.base else None
    revs = [] if base else git.history()
    status = 0
    for bug in bugs:
        try:
            edits = rebase_bug(git, bug, base, revs)
        except Refusal as exc:
            print(f"{bug.id}: refused, nothing changed: {exc}")
            status = 1
            continue
        if edits is None:
            continue
        if bug.path is None:
            continue
        text = read_text(bug.path)
        new = rewrite_edits(text, list(bug.edits), edits)
        verb = "would rewrite" if args.dry_run else "rewrote"
        print(f"{bug.id}: {verb} {len(edits)} edit(s) in {bug.path.name}")
        if args.dry_run:
            print("".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True))))
        else:
            bug.path.write_bytes(new.encode("utf-8"))
    return status
