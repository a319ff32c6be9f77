"""Running a rule's VALID/INVALID samples: the harness behind the parametrised tests and docs.

Samples are checked as the module `app.engine.strategy` (engine rules) or
`app.connector.adapter` (connector rules) of a project where `app.connector` is the connector
package, `app.model.OrderState` an engine state type and `app.ports.BrokerPort` the engine's
port. A sample's `project` adds modules (name -> source) for re-exports and return types.
"""

from __future__ import annotations

from typing import Final

from ibguard.rules import reexports, return_types
from ibguard.rules.base import Invalid, Rule, RuleReport, Target, Valid
from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES
from ibguard.rules.checking import check_source
from ibguard.rules.project_index import ProjectIndex

__all__ = ["SAMPLE_MODULES", "run_sample"]

SAMPLE_MODULES: Final = {
    Target.ENGINE: "app.engine.strategy",
    Target.CONNECTOR: "app.connector.adapter",
}


def sample_index(sample: Valid | Invalid) -> ProjectIndex:
    return ProjectIndex(
        broker_libraries=DEFAULT_BROKER_LIBRARIES,
        state_types=("app.model.OrderState",),
        port_types=("app.ports.BrokerPort",),
        connector_modules=frozenset({"app.connector"}),
        reexports={
            name: reexports.collect(source, name, is_package=True)
            for name, source in sample.project.items()
        },
        returns={
            function: type_name
            for name, source in sample.project.items()
            for function, type_name in return_types.collect(source, name, is_package=True).items()
        },
    )


def run_sample(rule: type[Rule], sample: Valid | Invalid) -> list[RuleReport]:
    """The reports `rule` makes on `sample` (a ParseError propagates: samples must parse)."""
    return check_source(
        sample.source,
        module_name=SAMPLE_MODULES[rule.TARGET],
        is_package=False,
        index=sample_index(sample),
        rules=(rule,),
    )
