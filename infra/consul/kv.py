"""The key/value store: entries with create/modify indexes, check-and-set and prefixes."""

from __future__ import annotations

import base64
import builtins
from dataclasses import dataclass
from typing import Any

from infra.consul.index import IndexClock


@dataclass
class KVEntry:
    """One stored key."""

    key: str
    value: bytes | None
    flags: int
    create_index: int
    modify_index: int

    def to_json(self) -> dict[str, Any]:
        """Return the entry as Consul's KV API shows it (Value base64, null when empty)."""
        value = base64.b64encode(self.value).decode() if self.value else None
        return {
            "LockIndex": 0,
            "Key": self.key,
            "Flags": self.flags,
            "Value": value,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }


class KVStore:
    """Thread-safe keys sharing the agent's index."""

    def __init__(self, index: IndexClock) -> None:
        self._index = index
        self._entries: dict[str, KVEntry] = {}

    def get(self, key: str) -> KVEntry | None:
        """Return one key's entry."""
        with self._index.lock:
            return self._entries.get(key)

    def list(self, prefix: str) -> list[KVEntry]:
        """Return every entry under a prefix, sorted by key."""
        with self._index.lock:
            return [self._entries[k] for k in sorted(self._entries) if k.startswith(prefix)]

    def keys(self, prefix: str, separator: str | None = None) -> builtins.list[str]:
        """Return key names under a prefix, folded at the first separator after it."""
        names: list[str] = []
        for entry in self.list(prefix):
            name = entry.key
            if separator:
                cut = name.find(separator, len(prefix))
                if cut >= 0:
                    name = name[: cut + len(separator)]
            if not names or names[-1] != name:
                names.append(name)
        return names

    def put(self, key: str, value: bytes | None, flags: int = 0, cas: int | None = None) -> bool:
        """Store a value; with `cas`, only when the key's ModifyIndex equals it (0: absent)."""
        with self._index.lock:
            current = self._entries.get(key)
            if cas is not None:
                held = current.modify_index if current else 0
                if held != cas:
                    return False
            index = self._index.bump()
            created = current.create_index if current else index
            self._entries[key] = KVEntry(key, value or None, flags, created, index)
            return True

    def delete(self, key: str, recurse: bool = False, cas: int | None = None) -> bool:
        """Delete a key (or a prefix); with `cas`, only when the key's ModifyIndex equals it."""
        with self._index.lock:
            if recurse:
                doomed = [k for k in self._entries if k.startswith(key)]
            else:
                current = self._entries.get(key)
                if cas is not None and (current is None or current.modify_index != cas):
                    return False
                doomed = [key] if current else []
            for name in doomed:
                del self._entries[name]
            self._index.bump()
            return True
