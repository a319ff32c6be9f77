"""Metric samples and their Prometheus text rendering (exposition format 0.0.4).

Owns: `MetricSample` (one value of one series, frozen), `engine_metrics` (the reference
engine's series, named in one place so dashboards and the runner agree), and
`render_prometheus` (samples -> text). Values always come from the caller; nothing here
reads engine state or a clock.

Invariants: metric and label names are valid Prometheus names (checked when a sample is
built); samples of one metric are rendered together under a single HELP and TYPE line,
taken from the first sample of that name; label values are escaped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Literal, final

from ibguard.engine.errors import UsageError

__all__ = [
    "PROMETHEUS_CONTENT_TYPE",
    "MetricSample",
    "MetricType",
    "engine_metrics",
    "render_prometheus",
]

PROMETHEUS_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

MetricType = Literal["counter", "gauge", "untyped"]
MetricValue = int | float | Decimal

_METRIC_NAME: Final = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_METRIC_TYPES: Final = frozenset({"counter", "gauge", "untyped"})


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSample:
    """One value of one series: `name{labels} value`, with the metric's help and type."""

    name: str
    value: MetricValue
    labels: Mapping[str, str] = field(default_factory=dict)
    help: str = ""
    type: MetricType = "gauge"

    def __post_init__(self) -> None:
        if not _METRIC_NAME.match(self.name):
            raise UsageError(f"metric name {self.name!r} is not a valid Prometheus name")
        for label in self.labels:
            if not _LABEL_NAME.match(label) or label.startswith("__"):
                raise UsageError(f"label name {label!r} of {self.name} is not valid")
        if self.type not in _METRIC_TYPES:
            raise UsageError(f"metric type {self.type!r} is not one of {sorted(_METRIC_TYPES)}")
        # a read-only copy, so a sample cannot change after it was built
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))


def engine_metrics(
    *,
    orders_by_status: Mapping[str, int],
    fills_total: int,
    queue_depth: int,
    clock_skew_seconds: MetricValue,
    last_event_age_seconds: MetricValue,
) -> tuple[MetricSample, ...]:
    """The reference engine's series from values the caller measured."""
    orders = tuple(
        MetricSample(
            name="ibguard_orders",
            value=count,
            labels={"status": status},
            help="Orders known to the engine, by status.",
        )
        for status, count in sorted(orders_by_status.items())
    )
    return (
        *orders,
        MetricSample(
            name="ibguard_fills_total",
            value=fills_total,
            help="Fills applied since the service started.",
            type="counter",
        ),
        MetricSample(
            name="ibguard_queue_depth",
            value=queue_depth,
            help="Commands waiting for the rate limiter.",
        ),
        MetricSample(
            name="ibguard_clock_skew_seconds",
            value=clock_skew_seconds,
            help="Broker time minus local time, in seconds.",
        ),
        MetricSample(
            name="ibguard_last_event_age_seconds",
            value=last_event_age_seconds,
            help="Seconds since the last broker event arrived.",
        ),
    )


def render_prometheus(samples: Iterable[MetricSample]) -> str:
    """Render samples as Prometheus text, grouping each metric's samples together."""
    by_name: dict[str, list[MetricSample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    lines: list[str] = []
    for name, group in by_name.items():
        first = group[0]
        if first.help:
            lines.append(f"# HELP {name} {_escape_help(first.help)}")
        lines.append(f"# TYPE {name} {first.type}")
        lines.extend(
            f"{name}{_render_labels(sample.labels)} {_render_value(sample.value)}"
            for sample in group
        )
    return "".join(line + "\n" for line in lines)


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render_labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    pairs = ",".join(f'{key}="{_escape_label_value(value)}"' for key, value in labels.items())
    return "{" + pairs + "}"


def _render_value(value: MetricValue) -> str:
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        if value.is_infinite():
            return "-Inf" if value < 0 else "+Inf"
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "-Inf" if value < 0 else "+Inf"
        return repr(value)
    return str(int(value))  # int, and bool as 0/1
