"""pytest11 entry point `ibguard`: the execution matrix and the coverage gate, configured in
`[tool.ibguard]`.

The matrix is opt-in: it runs when `--ibguard-matrix` is given, or when `[tool.ibguard]`
sets `matrix = true` or a `subject` and pytest was started without explicit paths (so
`pytest` runs it, `pytest tests/unit` does not). The coverage gate runs whenever
`[tool.ibguard.coverage]` is set and pytest-cov measured the session; it reads the data
pytest-cov saved through coverage's own API (same configuration file, same data file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ibguard.kit.matrix.settings import MatrixSettings

# Nothing of ibguard is imported at module level: pytest loads entry-point plugins before
# pytest-cov starts measuring, so an import here would hide the module-level lines of the
# very engine package whose coverage the gate checks (ours and every team's).

__all__ = ["pytest_addoption", "pytest_configure"]

_WORKER_FLAG = "ibguard_matrix"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ibguard", "ibguard execution matrix")
    group.addoption(
        "--ibguard-matrix",
        action="store_true",
        default=False,
        help="run the execution matrix against the configured subject",
    )
    group.addoption(
        "--ibguard-subject",
        default=None,
        metavar="MODULE:FACTORY",
        help="the subject to test (default: [tool.ibguard] subject, else the "
        "reference engine); implies --ibguard-matrix",
    )
    group.addoption(
        "--ibguard-driver",
        default=None,
        choices=("inprocess", "wire"),
        help="how the simulated broker reaches the subject",
    )
    group.addoption(
        "--ibguard-config",
        default=None,
        metavar="FILE",
        help="read [tool.ibguard] from FILE instead of the project's pyproject.toml",
    )
    group.addoption(
        "--ibguard-json",
        default=None,
        metavar="FILE",
        help="write the matrix results as JSON to FILE",
    )


def _config_file(config: pytest.Config) -> Path | None:
    explicit = config.getoption("ibguard_config")
    if explicit:
        return Path(explicit)
    inipath = config.inipath
    if inipath is not None and inipath.name == "pyproject.toml":
        return inipath
    candidate = config.rootpath / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _wanted(config: pytest.Config, settings: MatrixSettings) -> bool:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        return bool(workerinput.get(_WORKER_FLAG))
    if config.getoption("ibguard_matrix") or config.getoption("ibguard_subject"):
        return True
    return settings.enabled and config.args_source != pytest.Config.ArgsSource.ARGS


def pytest_configure(config: pytest.Config) -> None:
    from ibguard.errors import ConfigError
    from ibguard.kit.matrix.drivers import UnknownDriver, make_driver
    from ibguard.kit.matrix.pytest_items import MatrixPlugin, MatrixRun
    from ibguard.kit.matrix.settings import load_matrix_settings, load_subject_factory

    config_file = _config_file(config)
    try:
        settings = load_matrix_settings(config_file)
    except ConfigError as error:
        raise pytest.UsageError(f"ibguard: {error}") from None
    run = None
    if _wanted(config, settings):
        spec = config.getoption("ibguard_subject") or settings.subject
        driver = config.getoption("ibguard_driver") or settings.driver
        try:
            factory = load_subject_factory(spec, config_file.parent if config_file else None)
            make_driver(driver).close()
        except (ConfigError, UnknownDriver) as error:
            raise pytest.UsageError(f"ibguard: {error}") from None
        run = MatrixRun(
            factory,
            lambda: make_driver(driver),
            settings.capabilities,
            dict(settings.xfail),
            cases=settings.cases,
            case_timeout=settings.case_timeout,
        )
    json_option = config.getoption("ibguard_json")
    plugin = MatrixPlugin(run, Path(json_option) if json_option else None)
    config.pluginmanager.register(plugin, "ibguard-matrix")
    if run is not None and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistBridge(), "ibguard-matrix-xdist")
    if settings.coverage and not hasattr(config, "workerinput"):
        config.pluginmanager.register(CoverageGatePlugin(settings.coverage), "ibguard-coverage")


class _XdistBridge:
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[_WORKER_FLAG] = True


def _partial_run(config: pytest.Config) -> bool:
    option = config.option
    return bool(
        getattr(option, "file_or_dir", None)
        or getattr(option, "keyword", "")
        or getattr(option, "markexpr", "")
        or getattr(option, "lf", False)
    )


def _coverage_measured(config: pytest.Config) -> bool:
    """pytest-cov measured this session: `--cov` given and not `--no-cov` (its options)."""
    sources = config.getoption("cov_source", default=None)
    return bool(sources) and not config.getoption("no_cov", default=False)


def _saved_coverage(config: pytest.Config) -> Any:
    """The coverage data pytest-cov saved, loaded by a Coverage built from the same
    configuration file (so the same data file, paths and branch setting)."""
    import coverage

    rcfile = config.getoption("cov_config", default=True)
    cov = coverage.Coverage(config_file=rcfile if rcfile else True)
    cov.load()
    return cov


class CoverageGatePlugin:
    """Fails the session when a configured package is below its minimum."""

    def __init__(self, minimums: dict[str, float] | Any) -> None:
        self.minimums = dict(minimums)
        self.lines: list[str] = []
        self.failed = False

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield  # pytest-cov's wrapper, inside this one, has saved its data now
        if not _coverage_measured(session.config):
            self.lines = ["coverage gate not checked: no coverage measured (run with --cov)"]
            return result
        if _partial_run(session.config):
            # a developer's `pytest tests/rules` or `-k X` measures a slice; only the
            # whole suite can vouch for a package's coverage
            self.lines = ["coverage gate not checked: partial run (paths, -k or -m given)"]
            return result
        from ibguard.kit.matrix.coverage_gate import check_gate

        for gate in check_gate(_saved_coverage(session.config), self.minimums):
            self.lines.append(("PASS " if gate.ok else "FAIL ") + gate.describe())
            if not gate.ok:
                self.failed = True
        if self.failed:
            session.testsfailed += 1
        return result

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.write_sep("=", "ibguard coverage gate", red=self.failed)
            for line in self.lines:
                terminalreporter.write_line(line)
