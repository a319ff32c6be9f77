"""`ibguard init` on throwaway repositories: the proposal, the files, idempotence, --force,
errors, and the acceptance path (check and the matrix run under what it wrote)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from ibguard.kit.cli import main
from ibguard.kit.init.proposal import propose
from ibguard.kit.matrix.catalog import variant_ids
from ibguard.kit.matrix.subject import Subject, WireEndpoint
from ibguard.rules.discovery import glob_matches

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

GATE = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ibguard-gate.yml"

TRADER = {
    "pyproject.toml": (
        '[project]\nname = "trader"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 99\n'
    ),
    "trader/__init__.py": "",
    "trader/engine/__init__.py": "",
    "trader/engine/sizing.py": "from decimal import Decimal\n\nONE = Decimal(1)\n",
    "trader/engine/connector/__init__.py": "",
    "trader/engine/connector/ib.py": (
        "from ib_async import IB\n\n\ndef connect() -> IB:\n    return IB()\n"
    ),
    "tests/test_fake_broker.py": "import ib_async\n",
}


def repo(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".git").mkdir(exist_ok=True)
    return root


def init(root: Path, *extra: str) -> int:
    return main(["init", str(root), *extra])


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_proposal_comes_from_the_broker_importers(tmp_path: Path) -> None:
    proposal = propose(repo(tmp_path, TRADER))
    assert proposal.libraries == ("ib_async",)
    assert proposal.importers == ("trader/engine/connector/ib.py",)  # tests left out
    assert proposal.connector_globs == ("trader/engine/connector/**/*.py",)
    assert proposal.engine_globs == ("trader/*.py", "trader/engine/*.py")  # connector left out
    assert (proposal.root_package, proposal.connector_module) == (
        "trader",
        "trader.engine.connector",
    )


def test_a_broker_module_among_engine_modules_is_proposed_alone_under_src(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "src/bot/__init__.py": "",
            "src/bot/strategy.py": "X = 1\n",
            "src/bot/broker.py": "import importlib\nib = importlib.import_module('ib_insync')\n",
        },
    )
    proposal = propose(root)
    assert proposal.connector_globs == ("src/bot/broker.py",)
    assert proposal.engine_globs == ("src/bot/__init__.py", "src/bot/strategy.py")
    assert proposal.connector_module == "bot.broker"


def test_init_writes_everything_and_prints_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, TRADER)
    assert init(root) == 0
    out = capsys.readouterr().out
    for name in (
        "pyproject.toml",
        ".pre-commit-config.yaml",
        ".github/workflows/ibguard.yml",
        "ibguard_subject.py",
    ):
        assert f"wrote    {name}" in out
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["name"] == "trader"
    assert config["tool"]["ruff"] == {"line-length": 99}
    table = config["tool"]["ibguard"]
    assert table["engine"] == ["trader/*.py", "trader/engine/*.py"]
    assert table["connector"] == ["trader/engine/connector/**/*.py"]
    assert table["subject"] == "ibguard_subject:make_subject"
    assert table["driver"] == "wire"
    contracts = {c["id"] for c in config["tool"]["importlinter"]["contracts"]}
    assert contracts == {"broker-boundary", "connector-internals", "engine-isolation"}
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks["repos"][0]["hooks"]] == ["ibguard-check", "ibguard-contracts"]


def test_init_is_idempotent_and_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, TRADER)
    init(root)
    first = snapshot(root)
    capsys.readouterr()
    assert init(root) == 0
    assert snapshot(root) == first
    out = capsys.readouterr().out
    assert "wrote" not in out
    assert out.count("kept") == 5


def test_force_replaces_only_what_init_writes(tmp_path: Path) -> None:
    root = repo(tmp_path, TRADER)
    init(root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace("trader/engine/*.py", "elsewhere/*.py")
        + "\n[tool.black]\nline-length = 99\n",
        encoding="utf-8",
    )
    (root / "ibguard_subject.py").write_text("# mine\n", encoding="utf-8")
    assert init(root) == 0
    assert "elsewhere" in pyproject.read_text(encoding="utf-8")
    assert init(root, "--force") == 0
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    assert config["tool"]["ibguard"]["engine"] == ["trader/*.py", "trader/engine/*.py"]
    assert config["tool"]["black"] == {"line-length": 99}
    assert config["tool"]["ruff"] == {"line-length": 99}
    assert "make_subject" in (root / "ibguard_subject.py").read_text(encoding="utf-8")


def test_an_existing_pre_commit_config_gets_the_entry_appended(tmp_path: Path) -> None:
    root = repo(tmp_path, TRADER)
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "- repo: https://github.com/astral-sh/ruff-pre-commit\n"
        "  rev: v0.5.0\n"
        "  hooks:\n"
        "  - id: ruff\n"
        "\n"
        "ci:\n"
        "  autofix_prs: false\n",
        encoding="utf-8",
    )
    init(root)
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [r["repo"].rsplit("/", 1)[1] for r in config["repos"]] == ["ruff-pre-commit", "ibguard"]
    assert config["ci"] == {"autofix_prs": False}
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"app/__init__.py": "", "app/x.py": "import os\n"}, "no module here imports"),
        ({"bot.py": "import ib_async\n"}, "top-level modules or scripts only (bot.py)"),
    ],
)
def test_bad_repositories_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], words: str
) -> None:
    root = repo(tmp_path, files)
    assert init(root) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert words in err
    assert not (root / "pyproject.toml").exists()


def test_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init(tmp_path / "nowhere") == 2
    assert capsys.readouterr().err.startswith("ibguard init: error:")


def test_the_workflow_calls_the_gate_with_inputs_and_permissions_it_declares(
    tmp_path: Path,
) -> None:
    root = repo(tmp_path / "mono", {f"services/trader/{k}": v for k, v in TRADER.items()})
    init(root / "services" / "trader")
    path = root / ".github" / "workflows" / "ibguard.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    job = workflow["jobs"]["ibguard"]
    gate = yaml.safe_load(GATE.read_text(encoding="utf-8"))
    gate_on = gate.get("on", gate.get(True))
    assert job["uses"].startswith("ibguard/ibguard/.github/workflows/ibguard-gate.yml@v")
    assert set(job["with"]) <= set(gate_on["workflow_call"]["inputs"])
    assert job["with"]["working-directory"] == "services/trader"
    for scope, level in gate["jobs"]["gate"]["permissions"].items():
        assert job["permissions"][scope] == level
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_the_skeleton_is_a_complete_subject_that_says_what_to_fill_in(tmp_path: Path) -> None:
    root = repo(tmp_path, TRADER)
    init(root)
    namespace: dict[str, object] = {}
    exec(
        compile((root / "ibguard_subject.py").read_text(), "ibguard_subject.py", "exec"), namespace
    )
    subject = namespace["make_subject"]()  # type: ignore[operator]
    assert isinstance(subject, Subject)  # no abstract method left
    endpoint = WireEndpoint(
        host="127.0.0.1", port=1, client_id=1, account="DU1", local_clock=lambda: None
    )  # type: ignore[arg-type,return-value]
    with pytest.raises(NotImplementedError, match="start"):
        subject.start(endpoint)


FILLED = """

# --- filled in: this team's engine is ibguard's reference engine, in-process ---
from ibguard.kit.matrix.reference import ReferenceSubject


class Filled(TraderSubject):
    capabilities = ReferenceSubject.capabilities

    def __init__(self):
        super().__init__()
        self.engine = ReferenceSubject()

    def start(self, endpoint):
        self.engine.start(endpoint)

    def submit(self, oms_id, request):
        self.engine.submit(oms_id, request)

    def cancel(self, oms_id):
        self.engine.cancel(oms_id)

    def tick(self, local_time):
        self.engine.tick(local_time)

    def order(self, oms_id):
        return self.engine.order(oms_id)

    def position(self, instrument):
        return self.engine.position(instrument)

    @property
    def halted(self):
        return self.engine.halted

    def log_codes(self):
        return self.engine.log_codes()

    def stop(self):
        self.engine.stop()

    def flatten(self, reason):
        self.engine.flatten(reason)

    def restart(self):
        self.engine.restart()

    def health(self):
        return self.engine.health()

    def health_url(self):
        return self.engine.health_url()

    def log_to(self, directory, *, max_bytes, backups):
        self.engine.log_to(directory, max_bytes=max_bytes, backups=backups)

    def refresh_contracts(self):
        self.engine.refresh_contracts()

    def source_config(self):
        return self.engine.source_config()


def make_subject():
    return Filled()
"""


def test_check_and_the_matrix_run_under_what_init_wrote(tmp_path: Path) -> None:
    root = repo(tmp_path, TRADER)
    assert init(root) == 0
    assert main(["check", "--config", str(root / "pyproject.toml"), "--no-cache"]) == 0
    subject = root / "ibguard_subject.py"
    subject.write_text(subject.read_text(encoding="utf-8") + textwrap.dedent(FILLED))
    # driver "wire" is what an ib_async engine needs; the filled-in engine here is in-process.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-k",
            "not PERF-01",
            "--ibguard-driver",
            "inprocess",
            "--ibguard-json",
            "matrix.json",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    results = json.loads((root / "matrix.json").read_text(encoding="utf-8"))
    assert len(results) == len(variant_ids()) - 1  # every test of the catalog but PERF-01
    assert {r["result"] for r in results} == {"pass"}


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# A realistic src layout: two packages, a connector subpackage, an asyncio entry point and
# service (the shell), scripts and tests that import the broker library too.
ACME = {
    "pyproject.toml": _code(
        """
        [project]
        name = "acme"
        version = "1.0"

        [tool.setuptools.packages.find]
        where = ["src"]
        """
    ),
    "src/acme/__init__.py": '"""Acme trading."""\n',
    "src/acme/__main__.py": _code(
        """
        import asyncio

        from acme.service import serve

        asyncio.run(serve())
        """
    ),
    "src/acme/service.py": _code(
        """
        import asyncio

        from acme.broker.client import connect
        from acme.engine.book import Book


        async def serve() -> None:
            client = await connect("127.0.0.1", 4002)
            book = Book()
            while True:
                await asyncio.sleep(1)
                client.pump(book)
        """
    ),
    "src/acme/engine/__init__.py": "",
    "src/acme/engine/book.py": _code(
        """
        from decimal import Decimal

        from acme_risk.limits import MAX_QTY


        class Book:
            def __init__(self) -> None:
                self.orders: dict[str, Decimal] = {}

            def add(self, oms_id: str, qty: Decimal) -> None:
                if qty > MAX_QTY:
                    raise ValueError(oms_id)
                self.orders[oms_id] = qty
        """
    ),
    "src/acme/broker/__init__.py": "from acme.broker.client import connect\n",
    "src/acme/broker/client.py": _code(
        """
        from ib_async import IB


        class Client:
            def __init__(self, ib: IB) -> None:
                self.ib = ib

            def pump(self, book: object) -> None:
                self.ib.sleep(0)


        async def connect(host: str, port: int) -> Client:
            ib = IB()
            await ib.connectAsync(host, port, clientId=1)
            return Client(ib)
        """
    ),
    "src/acme/broker/contracts.py": _code(
        """
        from ib_async import Stock


        def stock(symbol: str) -> Stock:
            return Stock(symbol, "SMART", "USD")
        """
    ),
    "src/acme_risk/__init__.py": "",
    "src/acme_risk/limits.py": "from decimal import Decimal\n\nMAX_QTY = Decimal(100)\n",
    "scripts/flatten.py": _code(
        """
        from ib_async import IB

        ib = IB()
        ib.connect("127.0.0.1", 4002, clientId=9)
        ib.reqGlobalCancel()
        """
    ),
    "scripts/version.py": "import ib_async\n\nprint(ib_async.__version__)\n",
    "tests/conftest.py": _code(
        """
        import pytest
        from ib_async import IB


        @pytest.fixture
        def ib():
            return IB()
        """
    ),
    "tests/test_client.py": "import ib_async\n\n\ndef test_ib():\n    assert ib_async.IB\n",
}


def test_a_src_layout_service_passes_check_right_after_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, ACME)
    assert init(root) == 0
    table = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ibguard"]
    engine, connector = table["engine"], table["connector"]
    assert connector == ["src/acme/broker/**/*.py"]
    assert table["exclude"] == ["scripts/**"]
    for relative in ACME:
        assert not (glob_matches(relative, engine) and glob_matches(relative, connector))
        if relative.startswith(("scripts/", "tests/")):
            assert not glob_matches(relative, engine), relative
    assert glob_matches("src/acme/engine/book.py", engine)
    assert glob_matches("src/acme/__main__.py", engine)  # the rules still see the shell
    contracts = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert '"acme.__main__",  # imports asyncio' in contracts
    assert '"acme.service",  # imports asyncio' in contracts
    first = snapshot(root)
    assert init(root) == 0
    assert snapshot(root) == first
    capsys.readouterr()
    config = str(root / "pyproject.toml")
    assert main(["check", "--config", config, "--no-cache"]) == 0, capsys.readouterr().out
    book = root / "src/acme/engine/book.py"
    book.write_text(
        book.read_text(encoding="utf-8")
        + "\n\ndef panic() -> None:\n    from ib_async import IB\n\n    IB().reqGlobalCancel()\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["check", "--config", config, "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert "src/acme/engine/book.py" in out
    assert "BOUNDARY-02" in out
