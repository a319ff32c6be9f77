"""The rule runner: discover files, reuse cached results, check the rest, fold in contracts.

Per file the result is a list of findings; nothing a file contains can stop the run. Every
file is first read and screened (`screening`: size limit, regular file, encoding, `ast` parse
that refuses too-deep code); the `ast` trees build the project index (re-exports, return
types, connector modules), from the cache where possible. Files that pass go to libcst and the
rules in isolated worker processes (`workers`): a worker that crashes or runs past the time
limit yields a CHECK-CRASHED or CHECK-TIMEOUT finding for its file and is replaced. One worker
checks a few files; a pool of them, enough files to pay for its start-up. When paths are given
(pre-commit passes the changed files), only those are checked; the index still covers every
engine and connector file. With no rules (`ibguard check --contracts-only`) nothing is read or
parsed: only the contract findings are folded in. The result counts the files parsed and the
processes that parsed them.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final

from ibguard.rules import reexports, return_types, suppressions
from ibguard.rules.cache import FindingsCache, digest
from ibguard.rules.discovery import SourceFile, discover_all
from ibguard.rules.findings import (
    CHECK_CRASHED,
    CHECK_TIMEOUT,
    IGNORE_NO_REASON,
    NESTED_TOO_DEEP,
    PARSE_ERROR,
    CheckResult,
    Finding,
)
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.registry import RULES, ruleset_version
from ibguard.rules.screening import MAX_FILE_BYTES, Screened, decode, read_source, screen
from ibguard.rules.settings import Settings
from ibguard.rules.workers import Died, Raised, TimedOut, run_isolated

if TYPE_CHECKING:
    from pathlib import Path

    from ibguard.rules.base import Rule

__all__ = [
    "FILE_TIME_LIMIT",
    "PARALLEL_THRESHOLD",
    "check_file",
    "check_project",
    "index_entry",
]

# Below this many files to parse, more than one worker costs more than it saves (measured:
# a worker's start-up ~150 ms with spawn, parsing ~5-10 ms per typical module).
PARALLEL_THRESHOLD: Final = 24
# CPU seconds one file may take (parse, resolve, rules; wall seconds where CPU time cannot be
# read). A 1 MB module takes a few seconds.
FILE_TIME_LIMIT: Final = 60.0


def check_file(
    task: tuple[SourceFile, str],
    index: ProjectIndex,
    rule_set: Sequence[type[Rule]] = RULES,
) -> list[Finding]:
    """Findings of one screened file by the rules of `rule_set` for its target, suppressions
    applied. Runs in the worker processes; never raises for anything the file contains.
    """
    import libcst as cst  # here, so a fully cached run never pays for importing it
    from ibguard.rules.checking import check_source

    source_file, source = task
    relative = source_file.relative
    rules = [rule for rule in rule_set if rule.TARGET is source_file.target]
    # The tree only grows while one file is checked, so the collector's passes over it find
    # nothing (and cost a fifth of a large file's parse); garbage is collected between files.
    try:
        with _collector_paused():
            reports = check_source(
                source,
                module_name=source_file.module,
                is_package=source_file.is_package,
                index=index,
                rules=rules,
            )
    except cst.ParserSyntaxError as error:
        message = f"cannot parse: {error.message}; fix the syntax so the rules can check it"
        return [Finding(relative, error.editor_line, error.editor_column, PARSE_ERROR, message)]
    except cst.CSTValidationError as error:  # the parser built a node libcst then refuses
        message = f"cannot parse: {error}; fix the syntax so the rules can check it"
        return [Finding(relative, 1, 1, PARSE_ERROR, message)]
    except (RecursionError, MemoryError):
        message = "nests too deeply to check safely; split the expression or flatten the code"
        return [Finding(relative, 1, 1, NESTED_TOO_DEEP, message)]
    except ValueError as error:  # e.g. NUL bytes, which libcst refuses this way
        message = f"cannot parse: {error}; fix the file so the rules can check it"
        return [Finding(relative, 1, 1, PARSE_ERROR, message)]
    findings = [Finding(relative, r.line, r.column, r.rule, r.message) for r in reports]
    return suppressions.apply(
        findings,
        suppressions.parse(source),
        path=relative,
        rules_run={rule.id for rule in rules},
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off for a while: parsing builds trees that only grow, so its
    passes find nothing to free and cost up to a third of the parse (`ast` or libcst)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class _Files:
    """Each file read and screened at most once per run, on first need."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.data: dict[str, bytes | Finding] = {}
        self._screened: dict[str, Screened | Finding] = {}

    def read(self, source_file: SourceFile) -> bytes | Finding:
        relative = source_file.relative
        if relative not in self.data:
            self.data[relative] = read_source(source_file.path, relative, self.max_bytes)
        return self.data[relative]

    def screened(self, source_file: SourceFile) -> Screened | Finding:
        relative = source_file.relative
        if relative not in self._screened:
            data = self.read(source_file)
            self._screened[relative] = data if isinstance(data, Finding) else screen(data, relative)
        return self._screened[relative]

    def screened_elsewhere(self, source_file: SourceFile, finding: Finding | None) -> None:
        """Record the screen a worker did: its finding, or none (the text is decoded here
        again, which is cheap; the `ast` tree stayed in the worker)."""
        data = self.read(source_file)
        if finding is None and not isinstance(data, Finding):
            text = decode(data, source_file.relative)
            self._screened[source_file.relative] = (
                text if isinstance(text, Finding) else Screened(text, None)
            )
        elif finding is not None:
            self._screened[source_file.relative] = finding

    def drop_tree(self, source_file: SourceFile) -> None:
        """Forget the `ast` tree once the index has it: only the text is needed later, and
        every tree kept would be memory the forked workers inherit."""
        screened = self._screened.get(source_file.relative)
        if isinstance(screened, Screened):
            self._screened[source_file.relative] = Screened(screened.source, None)


def index_entry(task: tuple[SourceFile, bytes]) -> tuple[Finding | None, _Tables]:
    """What one file adds to the project index (its re-export table and its types), and
    the screen's finding if it has one. Runs in the worker processes, many files at once."""
    source_file, data = task
    screened = screen(data, source_file.relative)
    if isinstance(screened, Finding):
        return screened, ({}, {})
    return None, _tables(screened, source_file)


_Tables = tuple[dict[str, str], dict[str, str]]  # re-exports, return types


def _tables(screened: Screened | Finding, source_file: SourceFile) -> _Tables:
    if not isinstance(screened, Screened) or screened.tree is None:
        return {}, {}
    module, is_package = source_file.module, source_file.is_package
    return (
        reexports.collect_tree(screened.tree, module, is_package),
        return_types.collect_tree(screened.tree, module, is_package),
    )


def _index(
    settings: Settings,
    files: Sequence[SourceFile],
    reads: _Files,
    cache: FindingsCache,
    *,
    processes: int,
    time_limit: float,
) -> ProjectIndex:
    keys: dict[str, str] = {}
    found: dict[str, _Tables] = {}
    missing: list[tuple[SourceFile, bytes]] = []
    for source_file in files:
        data = reads.read(source_file)
        if isinstance(data, Finding):
            continue  # reported when the file is checked
        key = keys[source_file.relative] = (
            f"{digest(data)}:{source_file.module}:{source_file.is_package}"
        )
        table = cache.reexports(key)
        returned = cache.reexports(f"returns:{key}")
        if table is None or returned is None:
            missing.append((source_file, data))
        else:
            found[source_file.relative] = (table, returned)
    if len(missing) >= PARALLEL_THRESHOLD and processes > 1:
        # Parsing with `ast` for the index was a fifth of a cold run, all in this process.
        missing.sort(key=lambda task: len(task[1]), reverse=True)
        outcomes = run_isolated(
            index_entry, missing, (), processes=processes, time_limit=time_limit
        )
        for position, outcome in outcomes:
            if isinstance(outcome, (Died, Raised, TimedOut)):
                continue  # done again below, in this process, as it would have been
            source_file = missing[position][0]
            reads.screened_elsewhere(source_file, outcome[0])
            found[source_file.relative] = outcome[1]
    computed = {source_file.relative for source_file, _ in missing}
    tables: dict[str, dict[str, str]] = {}
    returns: dict[str, str] = {}
    for source_file in files:
        if source_file.relative not in keys:
            continue
        if source_file.relative not in found:
            found[source_file.relative] = _tables(reads.screened(source_file), source_file)
            reads.drop_tree(source_file)
        table, returned = found[source_file.relative]
        if source_file.relative in computed:
            key = keys[source_file.relative]
            cache.store_reexports(key, table)
            cache.store_reexports(f"returns:{key}", returned)
        if table:
            tables[source_file.module] = table
        returns.update(returned)
    connector = frozenset(f.module for f in files if f.target.value == "connector")
    return ProjectIndex(
        broker_libraries=settings.broker_libraries,
        state_types=settings.state_types,
        port_types=settings.port_types,
        connector_modules=connector,
        reexports=tables,
        returns=returns,
    )


def check_project(
    settings: Settings,
    paths: Sequence[Path] = (),
    *,
    rules: Sequence[type[Rule]] = RULES,
    use_cache: bool = True,
    jobs: int | None = None,
    contract_findings: Sequence[Finding] = (),
    max_file_bytes: int = MAX_FILE_BYTES,
    time_limit: float = FILE_TIME_LIMIT,
) -> CheckResult:
    """Run `rules` on the project (or on `paths` only) and return what was found.

    A file larger than `max_file_bytes`, or one that takes longer than `time_limit` seconds,
    is a finding, not a stall.
    """
    every_file, folder_problems = discover_all(settings)
    if paths:
        selected, folder_problems = discover_all(settings, paths)
    else:
        selected = every_file
    contracts = _suppressed_contract_findings(
        settings, contract_findings, selected, paths, ruled=every_file
    )
    if not rules:
        return CheckResult(findings=tuple(sorted(set(contracts))), files_checked=len(selected))
    reads = _Files(max_file_bytes)
    # The key needs the index and the index uses the cache: open unkeyed, key it after.
    cache = FindingsCache(settings.root, "", enabled=use_cache and settings.cache)
    processes = jobs if jobs is not None else (os.cpu_count() or 1)
    with _collector_paused():
        index = _index(
            settings, every_file, reads, cache, processes=processes, time_limit=time_limit
        )
    rule_names = sorted(f"{rule.__module__}.{rule.__qualname__}" for rule in rules)
    cache_key = digest(
        repr(
            (
                ruleset_version(),
                rule_names,
                settings.fingerprint(),
                _index_key(index),
                max_file_bytes,
            )
        ).encode()
    )
    cache.set_key(cache_key)

    findings: list[Finding] = [*folder_problems]
    todo: list[tuple[SourceFile, str]] = []
    hashes: dict[str, str] = {}
    for source_file in selected:
        data = reads.read(source_file)
        if isinstance(data, Finding):  # unreadable or too large: nothing to cache by content
            findings.append(data)
            continue
        hashes[source_file.relative] = content_hash = digest(data)
        cached = cache.findings(source_file.relative, content_hash)
        if cached is not None:
            findings.extend(cached)
            continue
        screened = reads.screened(source_file)
        if isinstance(screened, Finding):
            cache.store_findings(source_file.relative, content_hash, [screened])
            findings.append(screened)
        else:
            todo.append((source_file, screened.source))

    workers = processes
    if len(todo) < PARALLEL_THRESHOLD:
        workers = 1
    workers = min(workers, len(todo))
    if todo:
        # The largest files first: a large one started last would leave the other workers idle.
        todo.sort(key=lambda task: len(task[1]), reverse=True)
        import ibguard.rules.checking  # noqa: F401 - imported once here, shared by forked workers

        outcomes = run_isolated(
            check_file, todo, (index, tuple(rules)), processes=workers, time_limit=time_limit
        )
        for position, outcome in outcomes:
            source_file = todo[position][0]
            if isinstance(outcome, (Died, Raised, TimedOut)):
                findings.append(_lost(source_file, outcome))
                continue  # not cached: the next run tries again
            cache.store_findings(source_file.relative, hashes[source_file.relative], outcome)
            findings.extend(outcome)
    cache.save()

    findings.extend(contracts)
    return CheckResult(
        findings=tuple(sorted(set(findings))),
        files_checked=len(selected),
        files_parsed=len(todo),
        workers=max(workers, 1),
    )


def _lost(source_file: SourceFile, outcome: Died | Raised | TimedOut) -> Finding:
    """The finding for a file whose check did not finish."""
    relative = source_file.relative
    if isinstance(outcome, TimedOut):
        return Finding(
            relative,
            1,
            1,
            CHECK_TIMEOUT,
            f"checking it used over {outcome.seconds:g} s of CPU time and was stopped; "
            "exclude generated code from the globs or split the module",
        )
    reason = outcome.reason if isinstance(outcome, Died) else outcome.error
    return Finding(
        relative,
        1,
        1,
        CHECK_CRASHED,
        f"the check of this file failed ({reason}); no rule checked it; please report it",
    )


def _index_key(index: ProjectIndex) -> str:
    return repr(
        (
            sorted(index.connector_modules),
            sorted((m, sorted(t.items())) for m, t in index.reexports.items()),
            sorted(index.returns.items()),
        )
    )


def _suppressed_contract_findings(
    settings: Settings,
    found: Sequence[Finding],
    selected: Sequence[SourceFile],
    paths: Sequence[Path],
    *,
    ruled: Sequence[SourceFile],
) -> list[Finding]:
    """Contract findings, limited to the given files when there are any, minus suppressed ones.

    A suppression without a reason in a file the rules check (`ruled`) is the rules' finding
    (IGNORE-NO-REASON); it is left to them, so a contracts-only run does not report it again.
    """
    owned_by_rules = {f.relative for f in ruled}
    chosen = {f.relative for f in selected}
    kept: list[Finding] = []
    by_path: dict[str, list[Finding]] = {}
    for finding in found:
        if paths and finding.path not in chosen:
            continue
        by_path.setdefault(finding.path, []).append(finding)
    for relative, group in by_path.items():
        try:
            source = (settings.root / relative).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            kept.extend(group)
            continue
        kept.extend(
            finding
            for finding in suppressions.apply(
                group, suppressions.parse(source), path=relative, rules_run=()
            )
            if not (finding.rule == IGNORE_NO_REASON and relative in owned_by_rules)
        )
    return kept
