"""What ibapi's EWrapper receives (9.81 objects, or 10.x's as the namespaces `ibapi10` revives)
mapped onto what ib_async's receives, so that one set of sample checks (`samples.SAMPLES`)
judges all clients: renamed fields (10.x's commissionAndFees..., BarData.wap, error's
errorTime), Decimal sizes as floats, TWS's time text parsed as ib_async parses it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from .client_decoders import Call

_TYPES: dict[str, type[SimpleNamespace]] = {}


def namespace_type(name: str) -> type[SimpleNamespace]:
    """A namespace class named as the client's class (``BarData``, ``Contract``...): the 9.81
    helpers (`ibapi_decoder.flat`) dispatch on the name."""
    return _TYPES.setdefault(name, type(name, (SimpleNamespace,), {}))


def as_namespaces(value: Any) -> Any:
    """A client object (and the objects it holds) as a namespace of its public attributes,
    whose class carries the client class's name."""
    if isinstance(value, SimpleNamespace) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(as_namespaces(v) for v in value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        kind = namespace_type(type(value).__name__)
        fields = {k: as_namespaces(v) for k, v in vars(value).items() if not k.startswith("_")}
        return kind(**fields)
    return value


def floats(value: Any) -> Any:
    """10.x's Decimal sizes as the floats the ib_async checks compare with."""
    if isinstance(value, tuple):
        return tuple(floats(v) for v in value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, SimpleNamespace):
        fields = {k: floats(v) for k, v in vars(value).items()}
        if type(value).__name__ == "BarData":  # 9.81's BarData.average is 10.x's wap
            fields["average"] = fields.pop("wap")
        return type(value)(**fields)
    if isinstance(value, list):
        return [floats(v) for v in value]
    return value


def as_ib_async(name: str, args: tuple[Any, ...], version: int) -> Call:
    """An ibapi (9.81 or 10.x) EWrapper call in the shape the ib_async sample checks read."""
    args = tuple(floats(as_namespaces(a)) for a in args)
    if name == "contractDetails" and version == 163:
        # at 163 the field is sizeMinTick: IBKR's decoder reads it and drops it ("not used
        # anymore"); ib_async keeps it as suggestedSizeIncrement, which the check reads
        req_id, details = args
        return Call(name, (req_id, replace_ns(details, suggestedSizeIncrement=100)))
    if name == "error" and len(args) == 3:  # 9.81: no advancedOrderRejectJson (from 166)
        return Call(name, (*args, ""))
    if name == "error":
        req_id, error_time, *rest = args
        assert error_time == 0  # errorTime is on the wire only from server version 194
        return Call(name, (req_id, *rest))
    if name == "commissionAndFeesReport":
        (report,) = args
        return Call("commissionReport", (replace_ns(report, commission=report.commissionAndFees),))
    if name in ("openOrder", "completedOrder"):
        *head, state = args
        if hasattr(state, "commissionAndFees"):  # 10.x; 9.81 has ib_async's names
            state = replace_ns(
                state,
                commission=state.commissionAndFees,
                minCommission=state.minCommissionAndFees,
                maxCommission=state.maxCommissionAndFees,
                commissionCurrency=state.commissionAndFeesCurrency,
            )
        if name == "openOrder":  # ibapi's Order starts with algoParams None, ib_async's with []
            order = head[2]
            head[2] = replace_ns(order, algoParams=order.algoParams or [])
        return Call(name, (*head, state))
    if name == "execDetails":
        req_id, contract, execution = args
        # ibapi hands the app TWS's text; ib_async parses the same text into this datetime
        day, clock, zone = execution.time.split(" ")
        naive = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S")  # noqa: DTZ007 zone next
        parsed = replace_ns(execution, time=naive.replace(tzinfo=ZoneInfo(zone)))
        return Call(name, (req_id, contract, parsed))
    return Call(name, args)


def replace_ns(obj: SimpleNamespace, **changes: Any) -> SimpleNamespace:
    return type(obj)(**{**vars(obj), **changes})
