"""Find catalogue leaks in a built tree and hint words in planted lines.

Every shipped text file is scanned (code, tests, ``environment/``, ``pyproject.toml``,
``requirements*.txt`` comments, scenario texts, compose files, ``.dockerignore``, the agent
README): catalogue IDs in prose, words that only a maintainer of planted bugs would write, and
hint words in prose outside the agent README (whose task statement speaks of bugs by design).
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from harness.catalogue import Bug

ID_RE = re.compile(r"(?<![\w.])([LMABCDEFGHIJK]\d{1,2})(?!\w)")
# Ordinary technical terms that look like IDs ("L2 norm", "F1 score", "L1 cache").
TERM_AFTER = re.compile(
    r"\s*[-_ ]?(norm|regulari[sz]|loss|penalty|distance|score|metric|cache|macro|micro|weight"
    r"|error|ratio)",
    re.IGNORECASE,
)
BUG_CONTEXT = re.compile(
    r"\b(bugs?|planted|fix(es|ed)?|issue|catalogue|regression|known[- ]issue)\b", re.IGNORECASE
)
HINT_WORDS = re.compile(
    r"\b(bugs?|buggy|planted|fixme|xxx|todo|hack|intentional(ly)?|deliberate(ly)?)\b",
    re.IGNORECASE,
)
HINT_WORDS_IN_COMMENTS = re.compile(
    r"\b(should|wrong|correct(ly)?|fix(ed)?|broken|off[- ]by[- ]one|mistake|oops)\b",
    re.IGNORECASE,
)
# Words that describe how the environment was made; a leak in any shipped file, README included.
MAINTAINER_WORDS = re.compile(
    r"\b(planted|planting|(bug|defect) catalogue|catalogue of (\w+ ){0,2}(bugs|defects)"
    r"|(injected|seeded|introduced) (bugs?|defects?)|harness|solve\.sh)\b",
    re.IGNORECASE,
)
# IDs that are also everyday ML terms (F1 metric, L1/L2 penalties): flagged only in bug context.
AMBIGUOUS_IDS = {"F1", "L1", "L2"}
# The agent README states the task (find and fix what is broken), so it may speak of bugs.
TASK_STATEMENT = "README.md"
FORBIDDEN_PATHS = ("bugs", "harness", ".git", "docs/ARCHITECTURE.md", "build")


def id_mentions(text: str, known: set[str] | None) -> list[str]:
    """Return bug IDs in ``text`` that are not ordinary technical terms."""
    found = []
    for match in ID_RE.finditer(text):
        if known is not None and match.group(1) not in known:
            continue
        if TERM_AFTER.match(text, match.end()):
            continue
        found.append(match.group(1))
    return found


def _python_prose(source: str) -> list[tuple[int, str, bool]]:
    """Return (line, text, is_prose) for comments, docstrings (prose) and other strings."""
    out: list[tuple[int, str, bool]] = []
    previous = tokenize.NEWLINE
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.string, True))
            elif tok.type == tokenize.STRING:
                statement = previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
                out.append((tok.start[0], tok.string, statement))
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                previous = tok.type
    except (tokenize.TokenError, SyntaxError):
        return [(n, line, False) for n, line in enumerate(source.splitlines(), 1)]
    return out


def _pieces(rel: str, text: str) -> list[tuple[int, str, bool]]:
    """Return (line, text, is_prose) pieces: Python prose and strings, or every other line."""
    if rel.endswith(".py"):
        return _python_prose(text)
    return [(n, line, False) for n, line in enumerate(text.splitlines(), 1)]


def scan_text(rel: str, text: str, known: set[str] | None) -> list[str]:
    """Return catalogue-ID findings of one file's text."""
    findings = []
    for line, piece, prose in _pieces(rel, text):
        ids = id_mentions(piece, known)
        context = BUG_CONTEXT.search(piece) is not None
        if not context:
            ids = [i for i in ids if i not in AMBIGUOUS_IDS]
        if ids and (prose or context):
            findings.append(f"{rel}:{line}: mentions {', '.join(sorted(set(ids)))}")
    return findings


def scan_words(rel: str, text: str) -> list[str]:
    """Return maintainer words anywhere, and hint words in prose (all text outside Python).

    In Python files hint words count only in comments and docstrings, where a reader looks
    for explanations; code and data strings may say ``debug`` or ``TODO`` for their own reasons.
    """
    findings = []
    for line, piece, prose in _pieces(rel, text):
        word = MAINTAINER_WORDS.search(piece)
        if word is None and rel != TASK_STATEMENT and (prose or not rel.endswith(".py")):
            word = HINT_WORDS.search(piece)
        if word is not None:
            findings.append(f"{rel}:{line}: says {word.group(0)!r}")
    return findings


def _text_of(path: Path) -> str | None:
    """Return a file's text, or None for binary content (NUL bytes)."""
    data = path.read_bytes()
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def scan_tree(tree: Path, bugs: list[Bug]) -> list[str]:
    """Return every leak finding of a built tree."""
    findings = [f"{p}: must not ship" for p in FORBIDDEN_PATHS if (tree / p).exists()]
    known = {b.id for b in bugs} or None
    titles = [b.title for b in bugs if len(b.title) >= 12]
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree).as_posix()
        text = _text_of(path) if path.is_file() else None
        if text is None:
            continue
        if "[[edits]]" in text:
            findings.append(f"{rel}: holds catalogue text ([[edits]])")
        findings += [f"{rel}: holds the title {t!r}" for t in titles if t in text]
        findings += scan_text(rel, text, known)
        findings += scan_words(rel, text)
    return findings


def added_lines(before: str, after: str) -> list[str]:
    """Return the lines of ``after`` that ``before`` does not have."""
    old = set(before.splitlines())
    return [line for line in after.splitlines() if line not in old]


def hint_words(bug: Bug) -> list[str]:
    """Return findings for lines a bug adds that hint at the bug."""
    findings = []
    for edit in bug.edits:
        for line in added_lines(edit.before, edit.after):
            comment = line.split("#", 1)[1] if "#" in line else ""
            word = HINT_WORDS.search(line) or HINT_WORDS_IN_COMMENTS.search(comment)
            if word:
                findings.append(f"{bug.id}: {edit.file}: added line hints {word.group(0)!r}")
    return findings
