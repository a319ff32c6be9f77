"""The content-hash cache under `.ibguard-cache/` in the project root.

One JSON file holds, per checked file, the hash of its content and its findings (after
suppressions), valid only for one key = rule set + settings + project index; a different key
drops every entry. Per-module name tables (re-exports, and return types under a `returns:`
key) are cached by content hash alone, since they depend on nothing else. The file is
validated when loaded: a corrupt or unreadable cache (or a malformed entry) is ignored and
logged as CHECK_CACHE_CORRUPT, never raised; a cache that cannot be saved is logged as
CHECK_CACHE_UNWRITABLE. Either way the check itself goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Final

from ibguard.rules.findings import Finding
from ibguard.rules.logcodes import CheckLogCode

__all__ = ["CACHE_DIR", "FindingsCache", "digest"]

CACHE_DIR: Final = ".ibguard-cache"
_FILE: Final = "rules-v1.json"

_log = logging.getLogger("ibguard.rules.cache")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _Corrupt(ValueError):
    """The cache file does not have the shape this module writes."""


def _files(data: object) -> dict[str, tuple[str, list[Finding]]]:
    if not isinstance(data, dict):
        raise _Corrupt("'files' is not an object")
    files: dict[str, tuple[str, list[Finding]]] = {}
    for relative, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            raise _Corrupt(f"entry {relative!r} has no hash")
        items = entry.get("findings")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _Corrupt(f"entry {relative!r} has no list of findings")
        try:
            files[relative] = (entry["hash"], [Finding.from_dict(i) for i in items])
        except (KeyError, TypeError, ValueError) as error:
            raise _Corrupt(f"entry {relative!r} has a malformed finding") from error
    return files


def _reexports(data: object) -> dict[str, dict[str, str]]:
    if not isinstance(data, dict) or not all(
        isinstance(table, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in table.items())
        for table in data.values()
    ):
        raise _Corrupt("'reexports' is not an object of name tables")
    return data


class FindingsCache:
    """Load once, query and fill, save once. `enabled=False` makes every query a miss."""

    def __init__(self, root: Path, key: str, *, enabled: bool = True) -> None:
        self.path = root / CACHE_DIR / _FILE
        self.key = key
        self.enabled = enabled
        self._files: dict[str, tuple[str, list[Finding]]] = {}
        self._reexports: dict[str, dict[str, str]] = {}
        self._dirty = False
        self._loaded_key = key
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            self._corrupt(f"cannot read it ({error})")
            return
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise _Corrupt("not a JSON object")
            reexports = _reexports(data.get("reexports", {}))
            files = _files(data.get("files", {}))
        except ValueError as error:  # json.JSONDecodeError and _Corrupt
            self._corrupt(str(error))
            return
        self._reexports = reexports
        self._files = files
        self._loaded_key = str(data.get("key"))

    def _corrupt(self, reason: str) -> None:
        self._dirty = True  # the next save replaces the bad file
        _log.warning(
            "ignoring the corrupt check cache %s: %s; it is rebuilt on this run",
            self.path,
            reason,
            extra={"code": CheckLogCode.CACHE_CORRUPT, "path": str(self.path)},
        )

    def set_key(self, key: str) -> None:
        """Use `key` from now on; entries stored under another key are dropped."""
        self.key = key
        if self._loaded_key != key:
            self._files = {}
            self._loaded_key = key

    def findings(self, relative: str, content_hash: str) -> list[Finding] | None:
        entry = self._files.get(relative)
        if not self.enabled or entry is None or entry[0] != content_hash:
            return None
        return list(entry[1])

    def store_findings(self, relative: str, content_hash: str, findings: list[Finding]) -> None:
        self._files[relative] = (content_hash, list(findings))
        self._dirty = True

    def reexports(self, content_hash: str) -> dict[str, str] | None:
        return self._reexports.get(content_hash) if self.enabled else None

    def store_reexports(self, content_hash: str, table: dict[str, str]) -> None:
        self._reexports[content_hash] = table
        self._dirty = True

    def save(self) -> None:
        if not (self.enabled and self._dirty):
            return
        files = {
            relative: {"hash": content_hash, "findings": [f.to_dict() for f in findings]}
            for relative, (content_hash, findings) in self._files.items()
        }
        data = {"key": self.key, "files": files, "reexports": self._reexports}
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.path.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(temporary, self.path)  # atomic: a concurrent run never reads half a file
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            _log.warning(
                "cannot save the check cache %s (%s); the next run checks every file",
                self.path,
                error.strerror or error,
                extra={"code": CheckLogCode.CACHE_UNWRITABLE, "path": str(self.path)},
            )
        else:
            self._dirty = False
