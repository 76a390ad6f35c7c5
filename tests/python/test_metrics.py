"""GET /metrics: every metric family of PRODUCT.md §7, in the Prometheus text format, moving as
events flow through `tracefeed run`."""
import re
import uuid

import requests

FAMILIES = [
    "tracefeed_events_ingested_total", "tracefeed_events_rejected_total", "tracefeed_consumer_lag",
    "tracefeed_join_pending_assessments", "tracefeed_route_latency_seconds", "tracefeed_state_bytes",
    "tracefeed_feedback_total", "tracefeed_negative_feedback_ratio", "tracefeed_review_queue_depth",
    "tracefeed_review_item_age_seconds", "tracefeed_reviews_completed_total", "tracefeed_eval_score",
    "tracefeed_label_agreement",
]


def value(text: str, name: str, labels: str = "") -> float:
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_metrics_cover_the_contract_and_count_ingested_events(tracefeed):
    r = requests.get(tracefeed.url + "/metrics", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    for family in FAMILIES:
        assert f"# TYPE {family} " in r.text, family
    before = value(r.text, "tracefeed_events_ingested_total", '{type="assessment"}')

    trace_id = "tr-" + uuid.uuid4().hex
    feedback = [{"type": "assessment", "assessment": {
        "assessment_name": "user_feedback", "trace_id": trace_id,
        "source": {"source_type": "HUMAN", "source_id": "enduser_123"}, "feedback": {"value": False}}}]
    assert requests.post(tracefeed.url + "/api/v1/events", json=feedback, timeout=10).status_code == 202
    after = requests.get(tracefeed.url + "/metrics", timeout=5).text
    assert value(after, "tracefeed_events_ingested_total", '{type="assessment"}') == before + 1
    # Feedback whose trace has not arrived waits in the join.
    tracefeed.wait_until(
        lambda: value(requests.get(tracefeed.url + "/metrics", timeout=5).text, "tracefeed_join_pending_assessments") >= 1,
        what="a pending join in /metrics")
    assert value(after, "tracefeed_state_bytes") > 0


def test_negative_feedback_ratio_follows_the_joined_feedback(tracefeed):
    name = "thumbs_" + uuid.uuid4().hex[:8]
    events = []
    for i, v in enumerate([False, False, True, False]):
        events.append({"type": "assessment", "assessment": {
            "assessment_name": name, "trace_id": "tr-" + uuid.uuid4().hex,
            "source": {"source_type": "HUMAN", "source_id": f"user_{i}"}, "feedback": {"value": v}}})
    assert requests.post(tracefeed.url + "/api/v1/events", json=events, timeout=10).status_code == 202
    tracefeed.wait_until(
        lambda: value(requests.get(tracefeed.url + "/metrics", timeout=5).text,
                      "tracefeed_negative_feedback_ratio", f'{{name="{name}"}}') == 0.75,
        what="the negative-feedback ratio of 3 thumbs-down in 4")
    text = requests.get(tracefeed.url + "/metrics", timeout=5).text
    assert value(text, "tracefeed_feedback_total", f'{{name="{name}",value="false"}}') == 3
