"""The error root: one neutral package, subclasses that say whose fault it is, builtin bases."""

from __future__ import annotations

import pytest
from ibguard import errors
from ibguard.engine import errors as engine_errors


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (errors.UsageError, ValueError),
        (errors.ConfigError, ValueError),
        (errors.BrokerProtocolError, ValueError),
        (errors.InternalError, RuntimeError),
    ],
)
def test_each_fault_is_an_ibguard_error_and_still_the_builtin_callers_catch(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, errors.IbguardError)
    assert issubclass(error, builtin)


def test_the_root_itself_cannot_be_raised() -> None:
    with pytest.raises(TypeError):
        errors.IbguardError("which fault?")


def test_config_error_carries_every_problem_and_names_its_source() -> None:
    error = errors.ConfigError(["engine: not a list", "matrix: not a bool"], "pyproject.toml")
    assert error.errors == ("engine: not a list", "matrix: not a bool")
    assert str(error) == "pyproject.toml: engine: not a list; matrix: not a bool"


def test_old_engine_imports_name_the_same_classes() -> None:
    for name in ("IbguardError", "UsageError", "ConfigError", "BrokerProtocolError"):
        assert getattr(engine_errors, name) is getattr(errors, name)
    with pytest.raises(errors.UsageError):
        raise engine_errors.UsageError("caught by the new name")
