"""Prometheus metrics, one registry per app (no global state)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

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

        self._elsewhere: list[Callable[[], Iterable[Metric]]] = []

    def add_source(self, families: Callable[[], Iterable[Metric]]) -> None:
        """Add the families another process counts (serve's worker process) to what ``collect`` gives."""
        self._elsewhere.append(families)

    def collect(self) -> Iterable[Metric]:
        """This process's families with those of the sources added: what ``/metrics`` serves."""
        families: Iterable[Metric] = self.registry.collect()
        for source in self._elsewhere:
            families = merge_families(families, source())
        return families

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


def merge_families(own: Iterable[Metric], others: Iterable[Metric]) -> list[Metric]:
    """Families from two processes as one: samples with the same name and labels are added (counters and
    histogram buckets count across processes), except ``_created``, which keeps the earlier time."""
    merged: dict[str, Metric] = {family.name: family for family in own}
    for family in others:
        mine = merged.get(family.name)
        if mine is None:
            merged[family.name] = family
            continue
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        for sample in [*mine.samples, *family.samples]:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            earlier = samples.get(key)
            if earlier is None:
                samples[key] = sample
            elif sample.name.endswith("_created"):
                samples[key] = earlier._replace(value=min(earlier.value, sample.value))
            else:
                samples[key] = earlier._replace(value=earlier.value + sample.value)
        combined = Metric(mine.name, mine.documentation, mine.type, mine.unit)
        combined.samples = list(samples.values())
        merged[family.name] = combined
    return list(merged.values())
