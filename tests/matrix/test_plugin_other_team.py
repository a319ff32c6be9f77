"""Another team's repo: its own subject over its own engine module, nothing installed but
ibguard. The plugin must give 30 items named by case id, the table, the JSON file, and a red
run when the team's engine has a bug."""

from __future__ import annotations

import json

import pytest
from ibguard.kit.matrix.catalog import variant_ids

pytestmark = pytest.mark.untraced  # replays engine lines tests/engine traces (tests/conftest.py)

PYPROJECT = """
[tool.ibguard]
subject = "team_engine.subject:make_subject"
driver = "inprocess"
capabilities = ["flatten", "restart", "health"]

[tool.ibguard.xfail]
"OPS-02" = "health endpoint lands next sprint"
"""

ENGINE = '''
"""The team's engine: the reference core behind their own session class."""
import dataclasses
import logging

from ibguard.engine import Engine, EngineConfig
from ibguard.engine.events import ExecutionReport, Tick
from ibguard.engine.shell.pump import Pump

BUGS = set()


class Session:
    def __init__(self, account, client_id, port, logger, now):
        self.engine = Engine(EngineConfig(account=account, client_id=client_id), logger=logger)
        self.port = port
        self.seen = set()
        self.pump = Pump(self.engine, port)
        self.pump.feed(Tick(now=now))
        port.start(self.receive)  # the connector says ConnectionRestored once connected

    def receive(self, event):
        if "count-duplicates" in BUGS and isinstance(event, ExecutionReport):
            if event.exec_id in self.seen:
                event = dataclasses.replace(event, exec_id=event.exec_id + ".again")
            self.seen.add(event.exec_id)
        self.pump.feed(event)
'''

SUBJECT = """
import logging

from ibguard.engine.events import FlattenAll, RequestCancel, SubmitOrder, Tick
from ibguard.kit.matrix.subject import HealthView, Subject
from team_engine.engine import Session


class Codes(logging.Handler):
    def __init__(self):
        super().__init__()
        self.codes = []

    def emit(self, record):
        code = getattr(record, "code", None)
        if code is not None:
            self.codes.append(code.value)


class TeamSubject(Subject):
    capabilities = frozenset({"flatten", "restart", "health"})

    def start(self, endpoint):
        self.endpoint = endpoint
        self.logger = logging.getLogger(f"team.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.capture = Codes()
        self.logger.addHandler(self.capture)
        self._boot()

    def _boot(self):
        e = self.endpoint
        self.port = e.connector()
        self.session = Session(e.account, e.client_id, self.port, self.logger, e.local_clock())

    def submit(self, oms_id, request):
        self.session.pump.feed(SubmitOrder(oms_id=oms_id, request=request))

    def cancel(self, oms_id):
        self.session.pump.feed(RequestCancel(oms_id=oms_id))

    def flatten(self, reason):
        self.session.pump.feed(FlattenAll(reason=reason))

    def tick(self, local_time):
        engine = self.session.engine
        if not self.port.connected and not engine.halted:
            self.port.reconnect()
        self.session.pump.feed(Tick(now=engine.broker_time(local_time)))

    def restart(self):
        self.port.disconnect()
        self._boot()

    def order(self, oms_id):
        return self.session.engine.order(oms_id)

    def position(self, instrument):
        return self.session.engine.position(instrument)

    @property
    def halted(self):
        return self.session.engine.halted

    def health(self):
        report = self.session.engine.health()
        return HealthView(healthy=report.healthy, reasons=tuple(c.name for c in report.failures))

    def log_codes(self):
        return self.capture.codes

    def stop(self):
        self.port.disconnect()


def make_subject():
    return TeamSubject()
"""


@pytest.fixture
def team_repo(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    package = pytester.mkpydir("team_engine")
    (package / "engine.py").write_text(ENGINE, encoding="utf-8")
    (package / "subject.py").write_text(SUBJECT, encoding="utf-8")
    pytester.makepyfile(test_unit="def test_their_own_unit_test():\n    assert True\n")
    pytester.syspathinsert()
    return pytester


def test_one_item_per_case_variant_named_by_test_id(team_repo: pytest.Pytester) -> None:
    result = team_repo.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    items = [line for line in result.outlines if line.startswith("ibguard-matrix::")]
    assert items == [f"ibguard-matrix::{t}" for t in variant_ids()]
    assert items[0] == "ibguard-matrix::CONN-01[received]"


def test_green_run_table_json_skips_and_strict_xfail(team_repo: pytest.Pytester) -> None:
    result = team_repo.runpytest(
        "-p",
        "no:cacheprovider",
        "-k",
        "not PERF-01",
        "--ibguard-json",
        "out.json",
        "--junitxml",
        "junit.xml",
    )
    tests = len(variant_ids()) - 1  # every test but PERF-01
    result.assert_outcomes(passed=tests - 3, skipped=3, failed=1)  # + their unit test
    data = json.loads((team_repo.path / "out.json").read_text())
    results = {r["id"] + (f"[{r['variant']}]" if "variant" in r else ""): r for r in data}
    assert len(results) == tests
    assert results["OPS-02"]["result"] == "fail"  # strict: the xfail passed, so it is red
    skipped = {k for k, r in results.items() if r["result"] == "skip"}
    assert skipped == {"BOUNDARY-01", "BOUNDARY-02", "OPS-01"}  # capabilities not declared
    assert results["LIFE-05[live]"]["code"] == "FILL_DUPLICATE"
    result.stdout.fnmatch_lines(["*ibguard matrix*", "CONN-02 *PASS*", f"*{tests} cases*"])
    junit = (team_repo.path / "junit.xml").read_text()
    assert '<property name="id" value="LIFE-05"' in junit
    assert '<property name="category" value="LIFE"' in junit


def test_red_run_when_the_engine_has_a_bug(team_repo: pytest.Pytester) -> None:
    team_repo.makeconftest("import team_engine.engine as e\ne.BUGS.add('count-duplicates')\n")
    result = team_repo.runpytest("-p", "no:cacheprovider", "-k", "LIFE", "--ibguard-json", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    failed = {
        r["id"]
        for r in json.loads((team_repo.path / "r.json").read_text())
        if r["result"] == "fail"
    }
    assert failed == {"LIFE-05"}
    result.stdout.fnmatch_lines(["*LIFE-05*FAIL*inflated position*"])


def test_xdist_table_and_json_cover_every_worker(
    team_repo: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(team_repo.path))
    result = team_repo.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "-k", "CONN or LIFE", "--ibguard-json", "x.json"
    )
    assert result.ret == pytest.ExitCode.OK
    results = json.loads((team_repo.path / "x.json").read_text())
    assert [(r["id"], r.get("variant")) for r in results][:3] == [
        ("CONN-01", "received"),
        ("CONN-01", "lost"),
        ("CONN-02", None),
    ]
    # -k matches case-insensitively: RECON-02[reconnect] is in "CONN or LIFE"
    played = len([t for t in variant_ids() if "conn" in t.lower() or "life" in t.lower()])
    assert len(results) == played
    assert {r["result"] for r in results} == {"pass"}
    result.stdout.fnmatch_lines([f"*ibguard matrix: {played} cases: {played} pass*"])
