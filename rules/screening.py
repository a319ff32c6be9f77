"""Screening a file before libcst sees it: readable, small enough, decodable, not too deep.

libcst's native parser takes the whole process down on hostile code (5,000 nested parentheses:
SIGSEGV) and is slow and hungry on huge files, so nothing reaches it unscreened. `read_source`
reads a regular file up to a size limit (a FIFO would block, a symlink loop raises); `screen`
decodes it (PEP 263 cookie, BOM) and parses it with the stdlib `ast`, whose C parser is about
ten times faster than libcst and refuses too-deep code cleanly (too many nested parentheses,
RecursionError, MemoryError). The `ast` tree is what the project index is built from, so the
screen costs no extra parse. A problem is a `Finding` with its own id, never an exception.
An ordinary syntax error is left to libcst, which may accept newer syntax than this Python and
otherwise reports it with its own message.
"""

from __future__ import annotations

import ast
import errno
import io
import re
import stat
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ibguard.rules.findings import (
    FILE_TOO_LARGE,
    NESTED_TOO_DEEP,
    PARSE_ERROR,
    READ_ERROR,
    SYMLINK_LOOP,
    Finding,
)

__all__ = ["MAX_FILE_BYTES", "Screened", "decode", "read_error", "read_source", "screen"]

# Larger files are reported, not parsed: 2 MB is ~50k lines, far beyond hand-written modules,
# and libcst needs several hundred bytes of memory per byte of source.
MAX_FILE_BYTES: Final = 2_000_000

_TOO_DEEP: Final = (
    "nests too deeply to check safely ({reason}); split the expression or generate flatter code"
)
# What CPython's parser says when code nests beyond its own limits.
_DEPTH_SYNTAX_ERRORS: Final = ("too many nested parentheses", "too many levels of indentation")


@dataclass(frozen=True, slots=True)
class Screened:
    """A file that passed the screen: its text, and its `ast` tree unless `ast` refused it."""

    source: str
    tree: ast.Module | None


def read_source(path: Path, relative: str, max_bytes: int = MAX_FILE_BYTES) -> bytes | Finding:
    """The bytes of `path`, or the finding that says why it cannot be checked."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return Finding(
                relative, 1, 1, READ_ERROR, "not a regular file; check only .py source files"
            )
        if info.st_size > max_bytes:
            return _too_large(relative, info.st_size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as error:
        return read_error(relative, error)
    except RuntimeError:  # pathlib's "Symlink loop" on some Python versions
        return Finding(relative, 1, 1, SYMLINK_LOOP, _LOOP_MESSAGE)
    if len(data) > max_bytes:
        return _too_large(relative, len(data), max_bytes)
    return data


_LOOP_MESSAGE: Final = "symbolic link loop; point the link at a real file or remove it"


def read_error(relative: str, error: OSError) -> Finding:
    """The finding for a file or folder that the OS refused to read."""
    if error.errno == errno.ELOOP:
        return Finding(relative, 1, 1, SYMLINK_LOOP, _LOOP_MESSAGE)
    reason = error.strerror or type(error).__name__
    return Finding(
        relative, 1, 1, READ_ERROR, f"cannot read it ({reason}); fix its permissions or remove it"
    )


def _too_large(relative: str, size: int, max_bytes: int) -> Finding:
    return Finding(
        relative,
        1,
        1,
        FILE_TOO_LARGE,
        f"{size:,} bytes, over the {max_bytes:,}-byte limit; exclude generated code "
        "from the globs or split the module",
    )


def decode(data: bytes, relative: str) -> str | Finding:
    """Text of `data` per its PEP 263 cookie (UTF-8 by default), without a BOM."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except SyntaxError as error:  # an unknown or conflicting coding cookie
        return Finding(relative, 1, 1, PARSE_ERROR, f"cannot decode it ({error.msg})")
    except (UnicodeDecodeError, LookupError) as error:
        reason = error.reason if isinstance(error, UnicodeDecodeError) else str(error)
        return Finding(relative, 1, 1, PARSE_ERROR, f"not UTF-8 ({reason}); save it as UTF-8")
    return text.removeprefix("\ufeff")


def screen(data: bytes, relative: str) -> Screened | Finding:
    """Decode and `ast`-parse `data`; a finding if it cannot or must not reach libcst."""
    text = decode(data, relative)
    if isinstance(text, Finding):
        return text
    try:
        with warnings.catch_warnings():  # invalid escapes etc. are not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as error:
        if any(reason in (error.msg or "") for reason in _DEPTH_SYNTAX_ERRORS):
            line = error.lineno or 1
            column = error.offset or 1
            return Finding(
                relative, line, column, NESTED_TOO_DEEP, _TOO_DEEP.format(reason=error.msg)
            )
        return Screened(text, None)  # libcst reports it (or parses newer syntax)
    except (RecursionError, MemoryError):
        reason = "the Python parser ran out of stack"
        return Finding(relative, 1, 1, NESTED_TOO_DEEP, _TOO_DEEP.format(reason=reason))
    except ValueError:  # NUL bytes on Python < 3.12: libcst gives the finding
        return Screened(text, None)
    chain = _long_boolean_chain(text, tree)
    if chain is not None:
        reason = f"{len(chain.values):,} operands of one and/or chain"
        return Finding(
            relative,
            chain.lineno,
            chain.col_offset + 1,
            NESTED_TOO_DEEP,
            _TOO_DEEP.format(reason=reason),
        )
    return Screened(text, tree)


# `a and b and ...` is one flat node for `ast` but one nested node per operator for libcst,
# whose parser dies (SIGSEGV) between 6,000 and 12,000 operands; nobody writes a thousand.
MAX_BOOLEAN_OPERANDS: Final = 3_000
_BOOLEAN_KEYWORD: Final = re.compile(r"\b(?:and|or)\b")


def _long_boolean_chain(text: str, tree: ast.Module) -> ast.BoolOp | None:
    """The first and/or chain with more than MAX_BOOLEAN_OPERANDS operands; the tree is only
    walked when the text has that many `and`/`or` words at all (cheap to count)."""
    if len(_BOOLEAN_KEYWORD.findall(text)) < MAX_BOOLEAN_OPERANDS:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and len(node.values) > MAX_BOOLEAN_OPERANDS:
            return node
    return None
