"""Prometheus metrics of the web processes (request latency). With ``PROMETHEUS_MULTIPROC_DIR``
set (``remit_serve`` and the production units set it), every gunicorn process writes its
samples there and /metrics adds them up; without it each process reports its own."""

from __future__ import annotations

from prometheus_client import Histogram

REQUEST_LATENCY = Histogram(
    "remit_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route (the URL pattern) and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def request_latency_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(method=method, route=route, status=str(status)).observe(seconds)
