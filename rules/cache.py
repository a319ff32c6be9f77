"""The content-hash cache under `.ibguard-cache/` in the project root.

One JSON file holds, per checked file, the hash of its content and its findings (after
suppressions), valid only for one key = rule-set version + settings + project index; a
different key drops every entry. Re-export tables are cached by content hash alone, since
they depend on nothing else. A corrupt or unreadable cache is treated as empty.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

from ibguard.rules.findings import Finding

__all__ = ["CACHE_DIR", "FindingsCache", "digest"]

CACHE_DIR: Final = ".ibguard-cache"
_FILE: Final = "rules-v1.json"


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class FindingsCache:
    """Load once, query and fill, save once. `enabled=False` makes every query a miss."""

    def __init__(self, root: Path, key: str, *, enabled: bool = True) -> None:
        self.path = root / CACHE_DIR / _FILE
        self.key = key
        self.enabled = enabled
        self._files: dict[str, Any] = {}
        self._reexports: dict[str, Any] = {}
        self._dirty = False
        self._loaded_key = key
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        self._reexports = (
            data.get("reexports", {}) if isinstance(data.get("reexports"), dict) else {}
        )
        if isinstance(data.get("files"), dict):
            self._loaded_key = str(data.get("key"))
            self._files = data["files"]

    def set_key(self, key: str) -> None:
        """Use `key` from now on; entries stored under another key are dropped."""
        self.key = key
        if self._loaded_key != key:
            self._files = {}
            self._loaded_key = key

    def findings(self, relative: str, content_hash: str) -> list[Finding] | None:
        entry = self._files.get(relative)
        if not self.enabled or not isinstance(entry, dict) or entry.get("hash") != content_hash:
            return None
        try:
            return [Finding.from_dict(item) for item in entry["findings"]]
        except (KeyError, TypeError, ValueError):
            return None

    def store_findings(self, relative: str, content_hash: str, findings: list[Finding]) -> None:
        self._files[relative] = {"hash": content_hash, "findings": [f.to_dict() for f in findings]}
        self._dirty = True

    def reexports(self, content_hash: str) -> dict[str, str] | None:
        entry = self._reexports.get(content_hash)
        return entry if self.enabled and isinstance(entry, dict) else None

    def store_reexports(self, content_hash: str, table: dict[str, str]) -> None:
        self._reexports[content_hash] = table
        self._dirty = True

    def save(self) -> None:
        if not (self.enabled and self._dirty):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gitignore = self.path.parent / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n", encoding="utf-8")
        data = {"key": self.key, "files": self._files, "reexports": self._reexports}
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, self.path)  # atomic: a concurrent run never reads half a file
