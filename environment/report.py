"""Read the JSON-lines report written by the report plugin and check its signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SuiteReport:
    """What one pytest run reported: collected tests, outcomes and run-level problems."""

    collected: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    collect_errors: dict[str, str] = field(default_factory=dict)
    tampered: list[str] = field(default_factory=list)
    exitstatus: int | None = None
    problems: list[str] = field(default_factory=list)
    tree_changes: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[str]:
        """Return the sorted IDs of tests that ran and did not pass."""
        return sorted(i for i, o in self.outcomes.items() if o != "passed")

    @property
    def passing(self) -> list[str]:
        """Return the sorted IDs of tests that passed."""
        return sorted(i for i, o in self.outcomes.items() if o == "passed")


def _verify(line: str, key: bytes) -> dict[str, Any] | None:
    """Return the record of one signed line, or None if it is malformed or forged."""
    try:
        wrapper = json.loads(line)
        body = wrapper["body"]
        mac = wrapper["mac"]
        record = json.loads(body)
    except (ValueError, KeyError, TypeError):
        return None
    if key:
        expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
        if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
            return None
    return record if isinstance(record, dict) else None


def _apply(report: SuiteReport, record: dict[str, Any]) -> None:
    """Fold one record into the report."""
    kind = record.get("kind")
    if kind == "collected":
        report.collected[record["id"]] = list(record.get("markers", []))
    elif kind == "test":
        if record["id"] in report.outcomes:
            # Each test finishes once: a second outcome is a line written by someone else.
            report.tampered.append(f"test {record['id']} was reported twice")
            return
        report.outcomes[record["id"]] = record["outcome"]
    elif kind == "collect_error":
        report.collect_errors[record["id"]] = record.get("message", "")
    elif kind == "tamper":
        report.tampered.extend(record.get("names", []))
    elif kind == "finish":
        report.exitstatus = record.get("exitstatus")


def read_report(path: Path, key: bytes = b"") -> SuiteReport:
    """Parse a report file; forged or malformed lines are listed as tampering."""
    report = SuiteReport()
    if not path.exists():
        report.problems.append("no report was written")
        return report
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = _verify(line, key)
        if record is None:
            report.tampered.append(f"report line {number} is not signed by the scorer")
            continue
        if report.exitstatus is not None:
            report.tampered.append(f"report line {number} comes after the run finished")
            continue
        try:
            _apply(report, record)
        except (KeyError, TypeError):
            report.tampered.append(f"report line {number} is malformed")
    if report.exitstatus is None:
        report.problems.append("pytest did not finish")
    return report
