"""Issue #7 against `tracefeed run` (embedded broker): the quickstart's step 6 — expert
expected_response labels from a labeling session become the yardstick. On demand through
POST /api/v1/evaluations and `tracefeed evaluate`, and continuously through an evaluation rule that
scores each item as its review completes. No judge is configured here, so `correctness` falls back
to its deterministic method (source CODE); scores come back as assessments on the traces and as
tracefeed_eval_score in /metrics. Also: a completed review refreshes the dataset record of a
routed trace (its expected_response appears in a new dataset version)."""
import json
import re
import subprocess
import uuid

import pytest
import requests

from conftest import BINARY, QUICKSTART_REVIEW_YAML, start_tracefeed, stop_tracefeed

CONFIG = QUICKSTART_REVIEW_YAML + """\
rules:
  - name: thumbs_down_to_review
    filter: "feedback.user_feedback = false"
    actions: [{labeling_session: quickstart_review}, {eval: quickstart_eval}]
evaluation:
  judge: {enabled: false}
  label_wait: 5s
  rules:
    - name: quality
      labeling_session: quickstart_review
      scorers: [correctness, exact_match]
"""

APP_OUTPUT = "MLflow is an open-source platform for managing the machine learning lifecycle."


@pytest.fixture(scope="module")
def tf():
    t = start_tracefeed(extra_yaml=CONFIG)
    yield t
    stop_tracefeed(t)


def send_trace_with_thumbs_down(tf, question):
    trace_id = "tr-" + uuid.uuid4().hex
    root = uuid.uuid4().hex[:16]
    events = [
        {"type": "trace", "trace": {
            "trace_info": {"trace_id": trace_id, "request_time": "2026-11-27T08:00:00Z", "state": "OK",
                           "request_preview": question, "response_preview": APP_OUTPUT},
            "spans": [{"span_id": root, "name": "my_chatbot", "span_type": "CHAIN",
                       "start_time_unix_nano": 1795766400000000000, "end_time_unix_nano": 1795766400250000000,
                       "inputs": {"user_question": question}, "outputs": APP_OUTPUT}]}},
        {"type": "assessment", "assessment": {
            "assessment_name": "user_feedback", "trace_id": trace_id,
            "source": {"source_type": "HUMAN", "source_id": "enduser_123"},
            "feedback": {"value": False}, "rationale": "Missing details"}},
    ]
    r = requests.post(tf.url + "/api/v1/events", json=events, timeout=10)
    assert r.status_code == 202, r.text
    return trace_id


def review(tf, expected):
    """Claims the next item of quickstart_review and submits labels; returns the trace id."""
    base = tf.url + "/api/v1/labeling-sessions/quickstart_review"
    claim = tf.wait_until(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        requests.post(base + "/claim", json={"reviewer": "expert_1"}, timeout=5)), what="an item to claim")
    trace_id = claim["trace_id"]
    token = claim["lease"]["token"]
    r = requests.post(f"{base}/items/{trace_id}/submit", json={
        "reviewer": "expert_1", "lease_token": token,
        "labels": {"response_accuracy": "Inaccurate", "expected_response": expected[trace_id]}}, timeout=10)
    assert r.status_code == 200, r.text
    return trace_id


def assessments(tf, trace_id):
    r = requests.get(f"{tf.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["trace"]["trace_info"].get("assessments", [])


def metric(tf, name, **labels):
    """The value of the sample of `name` whose labels are exactly `labels`, or None."""
    text = requests.get(tf.url + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        got_name, _, rest = series.partition("{")
        got = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if got_name == name and got == {k: str(v) for k, v in labels.items()}:
            return float(value)
    return None


def test_quickstart_step_6_on_demand_continuous_and_cli(tf, tmp_path):
    good = send_trace_with_thumbs_down(tf, "What is MLflow?")
    bad = send_trace_with_thumbs_down(tf, "What is MLflow for?")
    # One expert answer the app's output matches, one it does not: correctness/mean = 0.5.
    expected = {good: APP_OUTPUT, bad: "Databricks Runtime ships a managed Spark cluster with GPUs."}
    reviewed = {review(tf, expected), review(tf, expected)}
    assert reviewed == {good, bad}

    # Continuous: the rule scores each item as its review completes, once its labels joined.
    def rule_scores():
        found = {}
        for t in (good, bad):
            for a in assessments(tf, t):
                if a["assessment_name"] == "correctness" and \
                        a.get("metadata", {}).get("tracefeed.evaluation_id") == "rule:quality":
                    found[t] = a
        return found if len(found) == 2 else None

    scored = tf.wait_until(rule_scores, timeout=40, what="the continuous rule's correctness scores")
    assert scored[good]["feedback"]["value"] == "yes", scored[good]
    assert scored[bad]["feedback"]["value"] == "no", scored[bad]
    assert scored[good]["source"]["source_type"] == "CODE"

    # On demand: POST /api/v1/evaluations over the session.
    r = requests.post(tf.url + "/api/v1/evaluations",
                      json={"labeling_session_id": "quickstart_review", "scorers": ["correctness", "token_f1"]}, timeout=10)
    assert r.status_code == 202, r.text
    eval_id = r.json()["evaluation_id"]

    def finished():
        g = requests.get(f"{tf.url}/api/v1/evaluations/{eval_id}", timeout=5).json()
        return g if g["status"] in ("done", "failed") else None

    result = tf.wait_until(finished, timeout=40, what="the evaluation to finish")
    run = result
    assert run["status"] != "failed", result
    assert run["aggregates"]["correctness/mean"] == pytest.approx(0.5), run["aggregates"]
    per_record = {rec["trace_id"]: rec for rec in result["results"]}
    assert set(per_record) == {good, bad}
    values = {t: rec["scores"]["correctness"]["value"] for t, rec in per_record.items()}
    assert values == {good: "yes", bad: "no"}

    # The scores are on the traces as assessments, and in /metrics.
    tf.wait_until(lambda: sum(1 for a in assessments(tf, good) if a["assessment_name"] == "token_f1") >= 1,
                  what="the run's token_f1 assessment on the trace")
    assert metric(tf, "tracefeed_eval_score", scorer="correctness") is not None

    # `tracefeed evaluate` from a terminal.
    out = tmp_path / "results.jsonl"
    done = subprocess.run([BINARY, "evaluate", "--session", "quickstart_review", "--scorer", "correctness",
                           "--url", tf.url, "--output", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    summary = next(line.split() for line in done.stdout.splitlines() if line.startswith("correctness "))
    assert summary[1:3] == ["0.500", "2"], done.stdout  # mean, count
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert {line["trace_id"] for line in lines} == {good, bad}


def test_labeling_metrics_lag_and_dataset_refresh(tf):
    # After the reviews above (module fixture): queue and reviewer figures per session.
    tf.wait_until(lambda: metric(tf, "tracefeed_reviews_completed_total", session="quickstart_review",
                                 reviewer="expert_1") == 2, what="reviews_completed_total = 2")
    assert metric(tf, "tracefeed_review_queue_depth", session="quickstart_review") == 0
    assert metric(tf, "tracefeed_review_item_age_seconds", session="quickstart_review") == 0
    assert (metric(tf, "tracefeed_route_latency_seconds_count") or 0) >= 2
    # Consumer lag of the join's group: the embedded log is fully consumed.
    caught_up = lambda: all(metric(tf, "tracefeed_consumer_lag", topic=f"tracefeed.{t}", partition=p) == 0
                            for t in ("traces", "assessments", "review", "eval") for p in (0, 1))
    tf.wait_until(caught_up, timeout=30, what="consumer lag 0 on every partition of every consumed topic")

    # The routed traces became dataset records; the expert's expected_response, which arrived
    # after routing, reaches them in a later version.
    def refreshed():
        r = requests.get(tf.url + "/api/v1/datasets/quickstart_eval/records", timeout=5)
        if r.status_code != 200:
            return None
        recs = [json.loads(x) for x in r.text.splitlines() if x.strip()]
        with_expectation = [x for x in recs if "expected_response" in (x.get("expectations") or {})]
        return with_expectation if len(with_expectation) == 2 else None

    recs = tf.wait_until(refreshed, timeout=30, what="dataset records refreshed with expected_response")
    assert all(r["lineage"]["rule"] == "thumbs_down_to_review" for r in recs)

    # MLflow's create_dataset + merge_records from a labeling session: its completed items.
    assert requests.post(tf.url + "/api/v1/datasets", json={"name": "expert_set"}, timeout=10).status_code in (200, 201)
    r = requests.post(tf.url + "/api/v1/datasets/expert_set/records",
                      json={"labeling_session_id": "quickstart_review"}, timeout=10)
    assert r.status_code == 200, r.text
    lines = [json.loads(x) for x in requests.get(tf.url + "/api/v1/datasets/expert_set/records", timeout=5).text.splitlines()
             if x.strip()]
    assert len(lines) == 2 and all("expected_response" in x["expectations"] for x in lines), lines
