"""Routed traces become evaluation-dataset records (issue #5, sinks/eval): a rule with an `eval`
action, the record with inputs, outputs, expectations and lineage, read over the API and
exported by `tracefeed dataset export`."""
import json
import subprocess
import uuid

import pytest
import requests

from conftest import BINARY, start_tracefeed, stop_tracefeed

RULES = """
rules:
  - name: thumbs_down_to_eval
    filter: "feedback.user_feedback = false"
    actions: [{eval: quickstart_eval}]
"""


@pytest.fixture(scope="module")
def tf():
    t = start_tracefeed(extra_yaml=RULES)
    yield t
    stop_tracefeed(t)


def test_a_routed_trace_becomes_a_dataset_record(tf, tmp_path):
    trace_id = "tr-" + uuid.uuid4().hex
    root = uuid.uuid4().hex[:16]
    first = [
        {"type": "trace", "trace": {
            "trace_info": {"trace_id": trace_id, "request_time": "2026-11-27T08:00:00Z", "state": "OK",
                           "request_preview": "What is MLflow?", "response_preview": "MLflow is a platform"},
            "spans": [{"span_id": root, "name": "my_chatbot", "span_type": "CHAIN",
                       "start_time_unix_nano": 1795766400000000000, "end_time_unix_nano": 1795766401000000000,
                       "inputs": {"user_question": "What is MLflow?"}, "outputs": "MLflow is a platform"}]}},
        {"type": "assessment", "assessment": {
            "assessment_name": "expected_response", "trace_id": trace_id,
            "source": {"source_type": "HUMAN", "source_id": "expert_1"},
            "expectation": {"value": "MLflow is an open-source platform for the ML lifecycle"}}},
    ]
    assert requests.post(tf.url + "/api/v1/events", json=first, timeout=10).status_code == 202
    tf.wait_until(lambda: "expected_response" in requests.get(f"{tf.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5).text,
                  what="the expectation joined")
    thumbs_down = [{"type": "assessment", "assessment": {
        "assessment_name": "user_feedback", "trace_id": trace_id,
        "source": {"source_type": "HUMAN", "source_id": "enduser_123"}, "feedback": {"value": False}}}]
    assert requests.post(tf.url + "/api/v1/events", json=thumbs_down, timeout=10).status_code == 202

    def record():
        r = requests.get(tf.url + "/api/v1/datasets/quickstart_eval/records", timeout=5)
        if r.status_code != 200:
            return None
        lines = [json.loads(line) for line in r.text.splitlines() if line.strip()]
        return next((x for x in lines if x["source"]["source_data"]["trace_id"] == trace_id), None)

    rec = tf.wait_until(record, timeout=30, what="the dataset record")
    assert rec["inputs"] == {"user_question": "What is MLflow?"}
    assert rec["outputs"] == "MLflow is a platform"
    assert rec["expectations"]["expected_response"] == "MLflow is an open-source platform for the ML lifecycle"
    assert rec["lineage"]["rule"] == "thumbs_down_to_eval"
    assert rec["lineage"]["topic"].endswith("eval")

    listed = requests.get(tf.url + "/api/v1/datasets", timeout=5).json()
    assert any(d["name"] == "quickstart_eval" for d in listed["datasets"]), listed

    out = tmp_path / "quickstart_eval.jsonl"
    done = subprocess.run([BINARY, "dataset", "export", "quickstart_eval", "--url", tf.url, "-o", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert any(x["source"]["source_data"]["trace_id"] == trace_id for x in exported)
