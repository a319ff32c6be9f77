"""Where a subject's source is, for the BOUNDARY cases: `ibguard.rules` settings.

Owns turning what `Subject.source_config()` returns (a config file or ready settings) into
`Settings`, and the reference engine's own settings wherever ibguard is installed: this
repo's `[tool.ibguard]` in a source checkout, else the installed folders with the same globs.
"""

from __future__ import annotations

from pathlib import Path

import ibguard.engine
from ibguard.rules.settings import Settings, load_settings

__all__ = ["reference_settings", "settings_of"]

_STATE_TYPES = (
    "ibguard.engine.model.OrderSnapshot",
    "ibguard.engine.model.PositionSnapshot",
    "ibguard.engine.model.FillView",
    "ibguard.engine.model.OrderRequest",
)


def settings_of(source: Path | Settings) -> Settings:
    return source if isinstance(source, Settings) else load_settings(source)


def reference_settings() -> Settings:
    engine_dir = Path(ibguard.engine.__file__).resolve().parent
    checkout = engine_dir.parent / "pyproject.toml"
    if checkout.is_file() and "[tool.ibguard]" in checkout.read_text(encoding="utf-8"):
        return load_settings(checkout)
    return Settings(  # an installed ibguard: site-packages/ibguard/engine
        root=engine_dir.parent,
        config_file=engine_dir / "__init__.py",
        engine=("engine/*.py",),
        connector=("engine/connector/**/*.py",),
        state_types=_STATE_TYPES,
        port_types=("ibguard.engine.ports.BrokerPort",),
        cache=False,
        contracts=False,
        package_dirs={"engine": "ibguard.engine"},
    )
