"""BOUNDARY cases: the connector/engine boundary, statically (rules and contracts on the
subject's configured source) and at runtime (the views the engine hands out are frozen)."""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.matrix.boundary_source import settings_of
from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import CaseFailure, Stage, StageMaker
from ibguard.kit.matrix.subject import SOURCE
from ibguard.rules.findings import Finding
from ibguard.rules.settings import Settings

__all__: list[str] = []


def _findings(stage: Stage, *, contracts: bool) -> tuple[Settings, list[Finding]]:
    from ibguard.rules.runner import check_project

    settings = settings_of(stage.subject.source_config())
    found: list[Finding] = []
    if contracts and settings.contracts and settings.has_importlinter:
        from ibguard.rules.contract_findings import contract_findings

        found = contract_findings(settings)
    result = check_project(settings, contract_findings=found)
    stage.expect(result.files_checked > 0, "the configured engine/connector globs match no file")
    return settings, list(result.findings)


def _where(findings: list[Finding]) -> str:
    return "; ".join(f"{f.path}:{f.line}:{f.column} {f.rule}" for f in findings[:5])


@implements("BOUNDARY-01", SOURCE)
def connector_mutates_state(make: StageMaker) -> None:
    stage = make().start()
    settings, findings = _findings(stage, contracts=False)
    stage.expect(bool(settings.connector), "no connector globs configured: nothing was checked")
    bad = [f for f in findings if f.rule == "BOUNDARY-01"]
    stage.expect(not bad, f"connector code mutates engine state: {_where(bad)}")
    stage.submit("o1")
    view = stage.subject.order("o1")
    if view is None:
        raise CaseFailure("the engine has no order o1 to hand out")
    for name, value in (("status", "FILLED"), ("filled", Decimal(100))):
        try:
            setattr(view, name, value)
        except (AttributeError, TypeError):
            continue
        raise CaseFailure(
            f"assigning {name} on the order view of o1 succeeded: "
            "state leaving the engine can be mutated"
        )


@implements("BOUNDARY-02", SOURCE)
def engine_bypasses_connector(make: StageMaker) -> None:
    stage = make().start()
    settings, findings = _findings(stage, contracts=True)
    stage.expect(bool(settings.engine), "no engine globs configured: nothing was checked")
    bad = [f for f in findings if f.rule == "BOUNDARY-02" or f.rule.startswith("CONTRACT")]
    stage.expect(not bad, f"engine code bypasses the connector: {_where(bad)}")
