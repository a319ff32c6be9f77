"""IBKR's official client 10.x (pinned in tests/requirements-ibapi10.txt), run beside the 9.81
in the dev venv.

Both install the top-level module `ibapi`, so 10.x gets its own directory: installed once per
pin with ``pip install --no-deps --target`` into the pytest cache (keyed by the requirements
file, the Python version and the platform) and driven in a subprocess (`ibapi10_driver.py`,
started with ``-S`` so the dev venv's 9.81 cannot shadow it). An install that fails fails the
tests that need it, with pip's own message: these tests never skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .ibapi_shapes import namespace_type

REQUIREMENTS = Path(__file__).parents[1] / "requirements-ibapi10.txt"
DRIVER = Path(__file__).with_name("ibapi10_driver.py")


def install(cache_root: Path, requirements: Path = REQUIREMENTS) -> Path:
    """The directory holding the pinned 10.x client, installed on first use."""
    key = hashlib.sha256(
        requirements.read_bytes() + f"{sys.version_info[:2]} {platform.machine()}".encode()
    ).hexdigest()[:16]
    target = cache_root / f"ibapi10-{key}"
    cache_root.mkdir(parents=True, exist_ok=True)
    with open(cache_root / "ibapi10.lock", "w") as lock:  # xdist workers install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "ibapi" / "decoder.py").exists():
            staging = Path(tempfile.mkdtemp(dir=cache_root, prefix="ibapi10-staging-"))
            pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet"]
            pip += ["--disable-pip-version-check", "--target", str(staging)]
            done = subprocess.run(
                [*pip, "-r", str(requirements)],
                check=False,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                pytest.fail(
                    f"cannot install the ibapi 10.x client from {requirements.name} "
                    f"(pip exit {done.returncode}): {done.stderr.strip()[-600:]}",
                    pytrace=False,
                )
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
    return target


@dataclass(frozen=True)
class Ibapi10:
    """The installed client: its version facts and a way to run the driver with it."""

    directory: Path
    version: str
    min_client_version: int
    max_client_version: int

    def run(self, command: str, request: dict[str, Any], timeout: float = 60) -> Any:
        env = {**os.environ, "PYTHONPATH": str(self.directory), "PYTHONNOUSERSITE": "1"}
        done = subprocess.run(
            [sys.executable, "-S", str(DRIVER), command],
            check=False,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        assert done.returncode == 0, f"ibapi 10.x driver {command} failed: {done.stderr[-2000:]}"
        return json.loads(done.stdout, object_hook=_revive)

    def decode(self, frames: Sequence[tuple[int, Sequence[str]]]) -> list[Decoded]:
        """Each (server version, fields) through the 10.x decoder, all in one subprocess."""
        answer = self.run("decode", {"frames": [[v, list(f)] for v, f in frames]})
        return [Decoded([(c[0], tuple(c[1])) for c in r["calls"]], r["problems"]) for r in answer]


@dataclass(frozen=True)
class Decoded:
    """What one frame did: the EWrapper calls (objects as namespaces) and logged problems."""

    calls: list[tuple[str, tuple[Any, ...]]]
    problems: list[str]


def _revive(obj: dict[str, Any]) -> Any:
    """JSON back to values: Decimals, and objects as namespaces named as the client's class."""
    if "$decimal" in obj:
        return Decimal(obj["$decimal"])
    if "$type" in obj:
        return namespace_type(obj.pop("$type"))(**obj)
    return obj


@pytest.fixture(scope="session")
def ibapi10(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Ibapi10:
    """The pinned 10.x client, installed once into the pytest cache (or the session's temp
    directory when the cache plugin is off)."""
    cache = getattr(request.config, "cache", None)
    root = cache.mkdir("ibapi10") if cache is not None else tmp_path_factory.mktemp("ibapi10")
    return load(Path(root))


def load(cache_root: Path) -> Ibapi10:
    directory = install(cache_root)
    facts = Ibapi10(directory, "", 0, 0).run("version", {})
    assert Path(facts["path"]).is_relative_to(directory), f"ibapi imported from {facts['path']}"
    return Ibapi10(
        directory, facts["version"], facts["min_client_version"], facts["max_client_version"]
    )
