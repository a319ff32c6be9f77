"""Every generated document is current, and one command regenerates them all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ibguard.kit.docs import COMMAND, GENERATED, main, stale

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("doc", GENERATED, ids=[doc.path for doc in GENERATED])
def test_the_generated_document_is_current(doc) -> None:  # type: ignore[no-untyped-def]
    current = (ROOT / doc.path).read_text(encoding="utf-8")
    assert current == doc.render(current), f"{doc.path} is stale; run `{COMMAND}`"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for doc in GENERATED:
        (tmp_path / doc.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / doc.path, tmp_path / doc.path)
    return tmp_path


def test_one_command_finds_and_rewrites_every_stale_document(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (checkout / "docs" / "lifecycle.md").write_text("hand-edited\n", encoding="utf-8")
    readme = checkout / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("| CONN-01 |", "| CONN-99 |"), encoding="utf-8")
    assert stale(checkout) == ["docs/lifecycle.md", "README.md"]

    assert main(["--root", str(checkout), "--check"]) == 1
    assert capsys.readouterr().out.splitlines() == ["stale: docs/lifecycle.md", "stale: README.md"]
    assert main(["--root", str(checkout)]) == 0
    assert stale(checkout) == []
    assert readme.read_text(encoding="utf-8") == text  # only the tables between the markers
    assert main(["--root", str(checkout), "--check"]) == 0


def test_outside_a_checkout_it_says_so_in_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "not an ibguard checkout" in err
