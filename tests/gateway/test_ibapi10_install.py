"""The 10.x client's install never turns into a skip: when pip cannot install the pin, the tests
that need it fail, naming the requirements file and quoting pip."""

from __future__ import annotations

from pathlib import Path

import pytest

from .ibapi10 import install


def test_a_failed_install_fails_with_pips_message_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "requirements-broken.txt"
    broken.write_text(str(tmp_path / "no-such-ibapi-10.0-py3-none-any.whl") + "\n")
    cache = tmp_path / "cache"
    with pytest.raises(pytest.fail.Exception) as failed:
        install(cache, broken)
    message = str(failed.value)
    assert message.startswith("cannot install the ibapi 10.x client from requirements-broken.txt")
    assert "no-such-ibapi-10.0-py3-none-any.whl" in message
    assert [p.name for p in cache.iterdir()] == ["ibapi10.lock"]  # no half-installed client
