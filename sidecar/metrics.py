"""Prometheus metrics, one registry per app (no global state)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhook_requests = Counter(
            "mug_webhook_requests",
            "Webhook requests by result (stored, duplicate, rejected).",
            ["result"],
            registry=self.registry,
        )
        self.webhook_rejections = Counter(
            "mug_webhook_rejections",
            "Rejected webhook requests by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.deliveries_processed = Counter(
            "mug_deliveries_processed",
            "Delivery attempts by outcome (done, ignored, failed, dead, postponed, lost).",
            ["outcome"],
            registry=self.registry,
        )
        self.forum_calls = Counter(
            "mug_forum_calls",
            "Forum API calls by endpoint template and HTTP status (or network_error, budget_wait).",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "mug_handler_seconds",
            "Time spent handling one delivery, by event.",
            ["event"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )

    def watch_queue(self, counts: Callable[[], Mapping[str, int]]) -> None:
        """Export the inbox by status, read from the database at scrape time (right across processes)."""
        self.registry.register(_QueueCollector(counts))


class _QueueCollector(Collector):
    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "mug_deliveries",
            "Deliveries in the inbox by status (queue depth: received + failed).",
            labels=["status"],
        )
        for status, n in sorted(self._counts().items()):
            family.add_metric([status], n)
        yield family
