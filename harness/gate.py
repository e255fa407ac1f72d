"""The verdict of one catalogue quality gate."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Gate:
    """One gate's verdict."""

    name: str
    problems: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether the gate holds."""
        return not self.problems
