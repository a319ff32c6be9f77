"""One wheel and one virtual environment per session, shared by the packaging tests.

The wheel is built by `python -m build` (sdist first, then the wheel from the sdist) from a
git copy of the work tree, so the work tree gets no build/ or dist/ litter; it is installed
into one fresh venv (dependencies from the package index, as a team would install it).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.packaging.snapshot import clean_env, snapshot


@dataclass(frozen=True)
class Built:
    source: Path  # the copy the distributions were built from
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if sys.platform == "win32" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def run(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(PATH=f"{self.bin}:/usr/bin:/bin", PYTHONDONTWRITEBYTECODE="1"),
        )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("build")
    source, _ = snapshot(base / "ibguard")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    return Built(source, wheel, sdist)


@pytest.fixture(scope="session")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    env = Venv(tmp_path_factory.mktemp("venv") / "env")
    subprocess.run([sys.executable, "-m", "venv", str(env.root)], check=True, env=clean_env())
    result = env.run(env.python, "-m", "pip", "install", "--quiet", built.wheel, cwd=env.root)
    assert result.returncode == 0, result.stdout + result.stderr
    return env
