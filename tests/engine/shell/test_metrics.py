"""Metric samples and their Prometheus text rendering."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from ibguard.engine.errors import UsageError
from ibguard.engine.shell.metrics import MetricSample, engine_metrics, render_prometheus


def test_samples_of_one_metric_share_one_help_and_type_line_and_stay_together():
    text = render_prometheus(
        [
            MetricSample(name="a", value=1, labels={"k": "x"}, help="first help", type="counter"),
            MetricSample(name="b", value=2),
            MetricSample(name="a", value=3, labels={"k": "y"}, help="ignored", type="gauge"),
        ]
    )
    assert text == (
        '# HELP a first help\n# TYPE a counter\na{k="x"} 1\na{k="y"} 3\n# TYPE b gauge\nb 2\n'
    )


def test_label_values_and_help_are_escaped():
    sample = MetricSample(
        name="m",
        value=1,
        labels={"path": 'C:\\dir "x"\nnext', "z": "2"},
        help="line one\nback\\slash",
    )
    assert render_prometheus([sample]) == (
        "# HELP m line one\\nback\\\\slash\n"
        "# TYPE m gauge\n"
        'm{path="C:\\\\dir \\"x\\"\\nnext",z="2"} 1\n'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7, "7"),
        (True, "1"),
        (1.5, "1.5"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (Decimal("100.10"), "100.10"),
        (Decimal("NaN"), "NaN"),
        (Decimal("Infinity"), "+Inf"),
        (Decimal("-Infinity"), "-Inf"),
    ],
)
def test_values_render_as_prometheus_floats(value, text):
    assert render_prometheus([MetricSample(name="m", value=value)]).endswith(f"m {text}\n")


def test_nothing_renders_as_empty_text():
    assert render_prometheus([]) == ""


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "1abc", "value": 1},
        {"name": "has-dash", "value": 1},
        {"name": "m", "value": 1, "labels": {"bad-label": "x"}},
        {"name": "m", "value": 1, "labels": {"__reserved": "x"}},
        {"name": "m", "value": 1, "type": "histogram"},
    ],
)
def test_invalid_names_and_types_are_refused_when_built(bad):
    with pytest.raises(UsageError):
        MetricSample(**bad)


def test_labels_cannot_change_after_the_sample_is_built():
    labels = {"status": "WORKING"}
    sample = MetricSample(name="m", value=1, labels=labels)
    labels["status"] = "FILLED"
    assert sample.labels == {"status": "WORKING"}
    with pytest.raises(TypeError):
        sample.labels["status"] = "X"  # type: ignore[index]


def test_engine_metrics_names_the_reference_series():
    samples = engine_metrics(
        orders_by_status={"WORKING": 2, "CANCELED": 1},
        fills_total=9,
        queue_depth=3,
        clock_skew_seconds=Decimal("-0.5"),
        last_event_age_seconds=2.0,
    )
    assert [(s.name, dict(s.labels), s.value, s.type) for s in samples] == [
        ("ibguard_orders", {"status": "CANCELED"}, 1, "gauge"),
        ("ibguard_orders", {"status": "WORKING"}, 2, "gauge"),
        ("ibguard_fills_total", {}, 9, "counter"),
        ("ibguard_queue_depth", {}, 3, "gauge"),
        ("ibguard_clock_skew_seconds", {}, Decimal("-0.5"), "gauge"),
        ("ibguard_last_event_age_seconds", {}, 2.0, "gauge"),
    ]
    assert all(s.help for s in samples)
