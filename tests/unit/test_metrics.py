"""Counters of two processes served as one /metrics: serve's web app and its worker process."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from sidecar.jobs.process import WORKER_FAMILIES
from sidecar.metrics import Metrics, merge_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def served_by(metrics: Metrics) -> str:
    return generate_latest(metrics).decode()


def test_the_worker_process_counters_are_added_to_the_web_apps() -> None:
    web, worker = Metrics(), Metrics()
    web.webhook_requests.labels("stored").inc(3)
    web.forum_calls.labels("GET /posts/{id}", "200").inc()  # a call the web process made itself
    worker.forum_calls.labels("GET /posts/{id}", "200").inc(2)
    worker.forum_calls.labels("POST /posts", "200").inc()
    worker.deliveries_processed.labels("done").inc(5)
    worker.handler_seconds.labels("post_created").observe(0.003)
    worker.handler_seconds.labels("post_created").observe(0.2)
    worker.webhook_requests.labels("stored").inc(100)  # not the worker's to report: never taken
    child = [f for f in text_string_to_metric_families(served_by(worker)) if f.name in WORKER_FAMILIES]
    web.add_source(lambda: child)

    text = served_by(web)
    got = samples(text)
    assert got[("mug_webhook_requests_total", (("result", "stored"),))] == 3
    assert got[("mug_forum_calls_total", (("endpoint", "GET /posts/{id}"), ("status", "200")))] == 3
    assert got[("mug_forum_calls_total", (("endpoint", "POST /posts"), ("status", "200")))] == 1
    assert got[("mug_deliveries_processed_total", (("outcome", "done"),))] == 5
    assert got[("mug_handler_seconds_count", (("event", "post_created"),))] == 2
    assert got[("mug_handler_seconds_bucket", (("event", "post_created"), ("le", "0.005")))] == 1
    assert got[("mug_handler_seconds_bucket", (("event", "post_created"), ("le", "+Inf")))] == 2
    # One HELP and TYPE per family: a scraper refuses a family given twice.
    types = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(types) == len(set(types))


def test_a_worker_process_that_is_down_leaves_the_web_apps_counters() -> None:
    web = Metrics()
    web.webhook_requests.labels("stored").inc()
    web.add_source(list)
    assert samples(served_by(web))[("mug_webhook_requests_total", (("result", "stored"),))] == 1


def test_created_times_keep_the_earlier_one() -> None:
    first, second = Metrics(), Metrics()
    first.deliveries_processed.labels("done").inc()
    second.deliveries_processed.labels("done").inc()
    name = "mug_deliveries_processed_created"
    key = (name, (("outcome", "done"),))
    created = [samples(served_by(m))[key] for m in (first, second)]
    merged = merge_families(first.registry.collect(), second.registry.collect())
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for family in merged for s in family.samples}
    assert values[key] == min(created)
    assert values[("mug_deliveries_processed_total", (("outcome", "done"),))] == 2
