"""The rule runner: discover files, reuse cached results, check the rest, fold in contracts.

Per file the result is a list of findings; a file that cannot be read or parsed yields one
PARSE-ERROR finding, never an exception. Files are checked in a process pool only when there
are enough uncached ones to pay for the pool's start-up. When paths are given (pre-commit
passes the changed files), only those are parsed; the project index (re-exports, connector
modules) still covers every engine and connector file, from the cache where possible.
With no rules (`ibguard check --contracts-only`) nothing is read or parsed: only the contract
findings are folded in. The result counts the files parsed and the processes that parsed them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ibguard.rules import reexports, return_types, suppressions
from ibguard.rules.cache import FindingsCache, digest
from ibguard.rules.discovery import SourceFile, discover
from ibguard.rules.findings import IGNORE_NO_REASON, PARSE_ERROR, CheckResult, Finding
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.registry import RULES, ruleset_version
from ibguard.rules.settings import Settings

if TYPE_CHECKING:
    from ibguard.rules.base import Rule

__all__ = ["PARALLEL_THRESHOLD", "check_file", "check_project"]

# Below this many files to parse, a process pool costs more than it saves (measured: pool
# start-up ~150 ms on 2 cores, parsing ~5-10 ms per typical module).
PARALLEL_THRESHOLD: Final = 24


def check_file(
    source_file: SourceFile,
    data: bytes,
    index: ProjectIndex,
    rule_set: Sequence[type[Rule]] = RULES,
) -> list[Finding]:
    """Findings of one file by the rules of `rule_set` for its target, suppressions applied.

    Runs in worker processes too.
    """
    import libcst as cst  # here, so a fully cached run never pays for importing it
    from ibguard.rules.checking import check_source

    relative = source_file.relative
    rules = [rule for rule in rule_set if rule.TARGET is source_file.target]
    try:
        source = data.decode("utf-8")
        reports = check_source(
            source,
            module_name=source_file.module,
            is_package=source_file.is_package,
            index=index,
            rules=rules,
        )
    except UnicodeDecodeError as error:
        return [
            Finding(relative, 1, 1, PARSE_ERROR, f"not UTF-8 ({error.reason}); save it as UTF-8")
        ]
    except cst.ParserSyntaxError as error:
        message = f"cannot parse: {error.message}; fix the syntax so the rules can check it"
        return [Finding(relative, error.editor_line, error.editor_column, PARSE_ERROR, message)]
    except RecursionError:
        return [Finding(relative, 1, 1, PARSE_ERROR, "cannot parse: nested too deeply")]
    findings = [Finding(relative, r.line, r.column, r.rule, r.message) for r in reports]
    return suppressions.apply(
        findings,
        suppressions.parse(source),
        path=relative,
        rules_run={rule.id for rule in rules},
    )


def _index(
    settings: Settings, files: Sequence[SourceFile], blobs: dict[str, bytes], cache: FindingsCache
) -> ProjectIndex:
    tables: dict[str, dict[str, str]] = {}
    returns: dict[str, str] = {}
    for source_file in files:
        key = f"{digest(blobs[source_file.relative])}:{source_file.module}:{source_file.is_package}"
        table = cache.reexports(key)
        returned = cache.reexports(f"returns:{key}")
        if table is None or returned is None:
            text = blobs[source_file.relative].decode("utf-8", errors="replace")
            table = reexports.collect(text, source_file.module, source_file.is_package)
            returned = return_types.collect(text, source_file.module, source_file.is_package)
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


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\xff"  # undecodable: becomes a PARSE-ERROR finding with the reason


def check_project(
    settings: Settings,
    paths: Sequence[Path] = (),
    *,
    rules: Sequence[type[Rule]] = RULES,
    use_cache: bool = True,
    jobs: int | None = None,
    contract_findings: Sequence[Finding] = (),
) -> CheckResult:
    """Run `rules` on the project (or on `paths` only) and return what was found."""
    every_file = discover(settings)
    selected = discover(settings, paths) if paths else every_file
    contracts = _suppressed_contract_findings(
        settings, contract_findings, selected, paths, ruled=every_file
    )
    if not rules:
        return CheckResult(findings=tuple(sorted(set(contracts))), files_checked=len(selected))
    blobs = {f.relative: _read(f.path) for f in {*every_file, *selected}}
    # The key needs the index and the index uses the cache: open unkeyed, key it after.
    cache = FindingsCache(settings.root, "", enabled=use_cache and settings.cache)
    index = _index(settings, every_file, blobs, cache)
    rule_names = sorted(f"{rule.__module__}.{rule.__qualname__}" for rule in rules)
    cache_key = digest(
        repr((ruleset_version(), rule_names, settings.fingerprint(), _index_key(index))).encode()
    )
    cache.set_key(cache_key)

    findings: list[Finding] = []
    todo: list[SourceFile] = []
    for source_file in selected:
        cached = cache.findings(source_file.relative, digest(blobs[source_file.relative]))
        if cached is None:
            todo.append(source_file)
        else:
            findings.extend(cached)

    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    rule_set = tuple(rules)
    if workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(
                pool.map(
                    check_file,
                    todo,
                    [blobs[f.relative] for f in todo],
                    [index] * len(todo),
                    [rule_set] * len(todo),
                    chunksize=8,
                )
            )
    else:
        workers = 1
        results = [check_file(f, blobs[f.relative], index, rule_set) for f in todo]
    for source_file, result in zip(todo, results, strict=True):
        cache.store_findings(source_file.relative, digest(blobs[source_file.relative]), result)
        findings.extend(result)
    cache.save()

    findings.extend(contracts)
    return CheckResult(
        findings=tuple(sorted(set(findings))),
        files_checked=len(selected),
        files_parsed=len(todo),
        workers=workers,
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
