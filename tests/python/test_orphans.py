"""Feedback whose trace never comes (issue #4): after join.orphan_timeout it is reported as
orphaned — tracefeed_join_orphaned_assessments_total and a `join/orphaned` decision record on the
trace — and it still joins when the trace arrives after all."""
import re
import time
import uuid

import pytest
import requests

from conftest import start_tracefeed, stop_tracefeed


@pytest.fixture(scope="module")
def tf():
    t = start_tracefeed(extra_yaml="join: {orphan_timeout: 1s}\n")
    yield t
    stop_tracefeed(t)


def orphaned_total(tf):
    m = re.search(r"^tracefeed_join_orphaned_assessments_total (\S+)$",
                  requests.get(tf.url + "/metrics", timeout=5).text, re.M)
    return float(m.group(1)) if m else None


def test_feedback_without_its_trace_is_reported_then_still_joins(tf):
    assert orphaned_total(tf) == 0
    trace_id = "tr-" + uuid.uuid4().hex
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    fb = [{"type": "assessment", "assessment": {
        "assessment_id": "a-" + uuid.uuid4().hex[:16], "assessment_name": "user_feedback", "trace_id": trace_id,
        "create_time": created, "source": {"source_type": "HUMAN", "source_id": "enduser_123"},
        "feedback": {"value": False}}}]
    assert requests.post(tf.url + "/api/v1/events", json=fb, timeout=10).status_code == 202

    def orphan_record():
        r = requests.get(f"{tf.url}/api/v1/traces/{trace_id}/decisions", timeout=5)
        if r.status_code != 200:
            return None
        return next((d for d in r.json()["decisions"] if d["rule"] == "join/orphaned"), None)

    record = tf.wait_until(orphan_record, timeout=30, what="the join/orphaned decision record")
    assert record["decision"] == "waiting_for_trace"
    assert "orphaned" in record["reason"] and "user_feedback" in record["reason"], record
    assert orphaned_total(tf) == 1

    # The trace arrives after all: the feedback joins it.
    trace = [{"type": "trace", "trace": {"trace_info": {
        "trace_id": trace_id, "request_time": "2026-11-27T08:00:00Z", "state": "OK"}}}]
    assert requests.post(tf.url + "/api/v1/events", json=trace, timeout=10).status_code == 202
    tf.wait_until(lambda: "user_feedback" in requests.get(f"{tf.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5).text,
                  what="the late trace with its feedback")
    assert orphaned_total(tf) == 1, "an orphan is counted once"
