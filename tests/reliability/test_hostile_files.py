"""`ibguard check` on hostile files: every file gets a report, the run never crashes.

A corpus generated here (deep nesting of every bracket kind, of statements and of operator
chains; files over the size limit; NUL bytes, invalid UTF-8, BOM, CRLF and CR line ends,
coding cookies; symlink loops, dangling links, a FIFO; unreadable files and folders) and
1,000+ hypothesis-generated sources go through the real runner and the real command. Each
test prints its counts: inputs, crashes (exceptions or tracebacks out of the run: must be 0),
and findings by kind. Unreadable files need a user the permissions apply to: as root the run
happens in a forked child that drops to `nobody` (root reads everything).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibguard.rules.findings import (
    CHECK_TIMEOUT,
    FILE_TOO_LARGE,
    NESTED_TOO_DEEP,
    PARSE_ERROR,
    READ_ERROR,
    SYMLINK_LOOP,
    CheckResult,
    Finding,
)
from ibguard.rules.runner import check_file, check_project
from ibguard.rules.screening import Screened, screen
from ibguard.rules.settings import load_settings

pytestmark = pytest.mark.untraced  # runs no engine code: nothing to trace (tests/conftest.py)

CONFIG = '[tool.ibguard]\nengine = ["app/**/*.py"]\n'
CLOCK = "import time\nnow = time.time()\n"  # one CLOCK-01 finding, at 2:7

# name -> (source, what the report must say about it: a runner finding id, or a rule id)
Corpus = dict[str, tuple[bytes, str]]


def _chain(n: int) -> dict[str, str]:
    """Code nested `n` deep by each construct that nests without a statement."""
    return {
        "parens": "x = " + "(" * n + "1" + ")" * n,
        "lists": "x = " + "[" * n + "]" * n,
        "braces": "x = " + "{" * n + "}" * n,
        "mixed_brackets": "x = " + "([{" * n + "}])" * n,
        "unary": "x = " + "-" * n + "1",
        "not": "x = " + "not " * n + "a",
        "attributes": "x = a" + ".b" * n,
        "additions": "x = 1" + " + 1" * n,
        "powers": "x = 1" + " ** 1" * n,
        "lambdas": "x = " + "lambda: " * n + "1",
        "conditionals": "x = 1" + " if a else 1" * n,
        "calls": "x = f" + "()" * n,
        "subscripts": "x = a" + "[0]" * n,
    }


def _nested_statements(n: int, opener: Callable[[int], str]) -> str:
    return "".join("    " * i + opener(i) + "\n" for i in range(n)) + "    " * n + "pass\n"


def hostile_corpus() -> Corpus:
    corpus: Corpus = {}
    for depth in (5_000, 100_000):
        for kind, code in _chain(depth).items():
            corpus[f"deep_{kind}_{depth}.py"] = ((code + "\n").encode(), NESTED_TOO_DEEP)
    for kind, opener in {
        "ifs": lambda i: "if a:",
        "defs": lambda i: f"def f{i}():",
        "classes": lambda i: f"class C{i}:",
        "withs": lambda i: "with a:",
    }.items():
        corpus[f"deep_{kind}.py"] = (_nested_statements(150, opener).encode(), NESTED_TOO_DEEP)
        # Deep but within Python's limits: checked like any file.
        corpus[f"nested_{kind}.py"] = (
            (_nested_statements(60, opener) + CLOCK).encode(),
            "CLOCK-01",
        )
    corpus["too_large.py"] = (b"x = 1\n" * 400_000, FILE_TOO_LARGE)
    corpus["nul_byte.py"] = (b"x = 1\0\n", PARSE_ERROR)
    corpus["invalid_utf8.py"] = (b"x = '\xff\xfe'\n", PARSE_ERROR)
    corpus["unknown_cookie.py"] = (b"# -*- coding: klingon -*-\nx = 1\n", PARSE_ERROR)
    corpus["syntax_error.py"] = (b"def broken(:\n", PARSE_ERROR)
    corpus["bom.py"] = (b"\xef\xbb\xbf" + CLOCK.encode(), "CLOCK-01")
    corpus["crlf.py"] = (CLOCK.replace("\n", "\r\n").encode(), "CLOCK-01")
    corpus["cr_only.py"] = (CLOCK.replace("\n", "\r").encode(), "CLOCK-01")
    corpus["latin1_cookie.py"] = (
        ("# -*- coding: latin-1 -*-\nname = 'café'\n" + CLOCK).encode("latin-1"),
        "CLOCK-01",
    )
    # ast keeps an and/or chain flat; libcst nests it per operator and its parser crashes
    corpus["long_and_chain.py"] = (("x = a" + " and a" * 12_000 + "\n").encode(), NESTED_TOO_DEEP)
    short_chain = "x = a" + " or a" * 1_000 + "\n" + CLOCK
    corpus["or_chain_of_1000.py"] = (short_chain.encode(), "CLOCK-01")
    corpus["empty.py"] = (b"", "")
    corpus["long_line.py"] = (
        ("x = [" + ", ".join(["1"] * 20_000) + "]\n" + CLOCK).encode(),
        "CLOCK-01",
    )
    return corpus


def _write(root: Path, corpus: Mapping[str, tuple[bytes, str]]) -> None:
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(CONFIG)
    for name, (data, _) in corpus.items():
        (root / "app" / name).write_bytes(data)


def _special_files(root: Path) -> dict[str, str]:
    """Paths that are not plain files: loops, a dangling link, a FIFO, a folder named .py."""
    app = root / "app"
    (app / "loop_a.py").symlink_to("loop_b.py")
    (app / "loop_b.py").symlink_to("loop_a.py")
    (app / "self_loop.py").symlink_to("self_loop.py")
    (app / "dangling.py").symlink_to("no_such_file.py")
    os.mkfifo(app / "fifo.py")  # reading it would block forever
    (app / "folder.py").mkdir()
    (app / "folder.py" / "inside.py").write_text(CLOCK)
    return {
        "app/loop_a.py": SYMLINK_LOOP,
        "app/loop_b.py": SYMLINK_LOOP,
        "app/self_loop.py": SYMLINK_LOOP,
        "app/dangling.py": READ_ERROR,
        "app/fifo.py": READ_ERROR,
        "app/folder.py/inside.py": "CLOCK-01",
    }


def _by_path(result: CheckResult) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.path, set()).add(finding.rule)
    return found


def _report(title: str, inputs: int, crashes: int, findings: Counter[str]) -> None:
    print(f"\n{title}: {inputs} inputs, {crashes} crashes, 0 tracebacks")
    for rule, count in sorted(findings.items()):
        print(f"  {rule}: {count}")


def test_every_hostile_file_gets_its_own_finding_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = hostile_corpus()
    root = tmp_path / "repo"
    _write(root, corpus)
    expected = {f"app/{name}": rule for name, (_, rule) in corpus.items()}
    expected.update(_special_files(root))

    result = check_project(load_settings(root / "pyproject.toml"), use_cache=False, jobs=2)

    found = _by_path(result)
    wrong = {
        path: (rule, sorted(found.get(path, ())))
        for path, rule in expected.items()
        if (found.get(path, set()) != {rule} if rule else path in found)
    }
    assert wrong == {}
    assert result.files_checked == len(expected)  # the folder named .py is walked, not read
    with capsys.disabled():
        _report("hostile corpus", len(expected), 0, Counter(f.rule for f in result.findings))


def test_the_command_reports_hostile_files_in_one_line_each_without_a_traceback(
    tmp_path: Path,
) -> None:
    corpus = {
        name: entry
        for name, entry in hostile_corpus().items()
        if name.startswith(("deep_parens_5000", "deep_lambdas", "too_large", "nul_byte"))
    }
    root = tmp_path / "repo"
    _write(root, corpus)
    _special_files(root)
    run = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "check", "--no-contracts", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (run.returncode, run.stderr) == (1, "")
    lines = run.stdout.splitlines()
    for rule in (NESTED_TOO_DEEP, FILE_TOO_LARGE, PARSE_ERROR, SYMLINK_LOOP, READ_ERROR):
        assert any(f" {rule} " in line for line in lines), rule
    assert "Traceback" not in run.stdout


def test_a_file_over_the_time_limit_is_a_finding_and_the_others_are_still_checked(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    # ~0.9 MB: libcst alone needs about a second for it, far over the limit here.
    slow = "".join(f"def f{i}(a: int) -> int:\n    return a + {i}\n" for i in range(20_000))
    _write(root, {"slow.py": (slow.encode(), ""), "clock.py": (CLOCK.encode(), "")})
    result = check_project(
        load_settings(root / "pyproject.toml"), use_cache=True, jobs=1, time_limit=0.2
    )
    assert _by_path(result) == {"app/slow.py": {CHECK_TIMEOUT}, "app/clock.py": {"CLOCK-01"}}
    again = check_project(load_settings(root / "pyproject.toml"), jobs=1, time_limit=0.2)
    assert again.files_parsed == 1  # a timed-out file is not cached: the next run tries again


def _unreadable_run(root: Path) -> CheckResult | str:
    """check_project as a user the permissions apply to (root, dropped to nobody, in a fork)."""
    settings = load_settings(root / "pyproject.toml")
    check_project(settings, use_cache=False, jobs=1)  # every import done before dropping
    if os.geteuid() != 0:
        return check_project(settings, use_cache=False, jobs=1)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        os.close(reader)
        try:
            os.setgid(65534)
            os.setuid(65534)
            outcome: object = check_project(settings, use_cache=False, jobs=1)
        except BaseException as error:  # sent to the parent, which fails
            outcome = repr(error)
        os.write(writer, pickle.dumps(outcome))
        os._exit(0)
    os.close(writer)
    data = b"".join(iter(lambda: os.read(reader, 1 << 16), b""))
    os.close(reader)
    os.waitpid(child, 0)
    outcome = pickle.loads(data)
    assert isinstance(outcome, (CheckResult, str))
    return outcome


def test_unreadable_files_and_folders_are_read_errors_not_encoding_errors_or_silence() -> None:
    # Not under tmp_path: nobody must be able to reach the project (pytest's folders are 0700).
    with tempfile.TemporaryDirectory() as temporary:
        Path(temporary).chmod(0o755)
        _check_unreadable(Path(temporary) / "repo")


def _check_unreadable(root: Path) -> None:
    _write(root, {"ok.py": (CLOCK.encode(), ""), "secret.py": (CLOCK.encode(), "")})
    (root / "app" / "hidden").mkdir()
    (root / "app" / "hidden" / "inner.py").write_text(CLOCK)
    for path in (root, root / "app"):
        path.chmod(0o755)
    (root / "app" / "ok.py").chmod(0o644)
    (root / "app" / "secret.py").chmod(0)
    (root / "app" / "hidden").chmod(0)
    try:
        result = _unreadable_run(root)
    finally:
        (root / "app" / "hidden").chmod(0o755)
    assert isinstance(result, CheckResult), result
    denied = "cannot read it (Permission denied); fix its permissions or remove it"
    assert {
        (f.path, f.rule, f.message if f.rule == READ_ERROR else "") for f in result.findings
    } == {
        ("app/ok.py", "CLOCK-01", ""),
        ("app/secret.py", READ_ERROR, denied),
        ("app/hidden", READ_ERROR, denied),
    }


_TOKENS = (
    *"()[]{}:;,.=+-*/%@<>!~^&|\\'\"#",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "    ",
    " ",
    "\0",
    "\ufeff",
    "é",
    "x",
    "ib",
    "self",
    "1",
    "1.5",
    "0x_",
    'f"{',
    '"""',
    "def ",
    "class ",
    "lambda ",
    "if ",
    "else ",
    "import ",
    "from ",
    "await ",
    "async ",
    "yield ",
    "return ",
    "global ",
    "not ",
    "and ",
    "ib_async",
    "time.time()",
    "# ibguard: ignore[CLOCK-01]",
)
_SOURCES = st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=300).map("".join).map(str.encode),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
)


def test_random_sources_never_crash_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000+ generated sources: the worker's own function in-process, then one real run."""
    from ibguard.rules.base import Target
    from ibguard.rules.discovery import SourceFile
    from ibguard.rules.project_index import ProjectIndex

    index = ProjectIndex(broker_libraries=("ib_async",))
    seen: list[bytes] = []
    kinds: Counter[str] = Counter()

    @settings(
        max_examples=1_000,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_SOURCES)
    def one(data: bytes) -> None:
        seen.append(data)
        file = SourceFile(tmp_path / "x.py", "app/x.py", Target.ENGINE, "app.x", False)
        screened = screen(data, "app/x.py")
        findings: list[Finding] = (
            check_file((file, screened.source), index)
            if isinstance(screened, Screened)
            else [screened]
        )
        kinds.update(f.rule for f in findings)

    one()
    assert len(seen) >= 1_000

    root = tmp_path / "repo"
    _write(root, {f"random_{i}.py": (data, "") for i, data in enumerate(seen)})
    result = check_project(load_settings(root / "pyproject.toml"), use_cache=False, jobs=2)
    assert result.files_checked == len(seen)
    assert not any(f.rule.startswith("CHECK-") for f in result.findings)
    with capsys.disabled():
        _report("random sources, in-process", len(seen), 0, kinds)
        _report(
            "random sources, one run",
            len(seen),
            0,
            Counter(f.rule for f in result.findings),
        )
