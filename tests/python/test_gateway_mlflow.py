"""The real MLflow client (mlflow-skinny, MLFLOW_TRACKING_URI=<tracefeed>) against the gateway's
MLflow-compatible write endpoints: quickstart steps 1-2 (@mlflow.trace, log_feedback), plus
log_expectation, override_feedback, update_assessment and delete_assessment.

Two targets:
  - the `tracefeed` binary (conftest's start_tracefeed). Skipped, with a reason, while the gateway
    routes are not wired into apps/runtime.cc (GET /version answers 404). Reads go through the
    processors' read API (mlflow.get_assessment), so what the client was told is checked against
    what the join applied from Kafka.
  - producers/gateway's gateway_test_server when TRACEFEED_GATEWAY_TEST_SERVER=<path> is set: the
    same gateway on an embedded broker, without read APIs; at shutdown it prints how many records
    each topic holds, which the fixture checks against what the client was acknowledged.
"""
import os
import re
import subprocess
import uuid

import pytest
import requests

from conftest import start_tracefeed, stop_tracefeed

# Synchronous trace export: the trace is in tracefeed when the traced call returns.
os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType, Feedback  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


class Target:
    def __init__(self, url, mode, proc=None, tf=None):
        self.url, self.mode, self.proc, self.tf = url, mode, proc, tf
        self.acked = {"trace": 0, "assessment": 0, "assessment_update": 0, "assessment_delete": 0}


def _start_test_server(path):
    proc = subprocess.Popen([path], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"ready at (http://[0-9.]+:[0-9]+)", line)
    if not m:
        proc.kill()
        raise RuntimeError("gateway_test_server did not start: " + line)
    return Target(m.group(1), "server", proc=proc)


@pytest.fixture(scope="module")
def gateway():
    server = os.environ.get("TRACEFEED_GATEWAY_TEST_SERVER")
    if server:
        target = _start_test_server(server)
    else:
        tf = start_tracefeed()
        target = Target(tf.url, "binary", tf=tf)
    old_uri = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = target.url
    mlflow.set_tracking_uri(target.url)
    try:
        yield target
    finally:
        if old_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_uri
        if target.mode == "binary":
            stop_tracefeed(target.tf)
        else:
            target.proc.terminate()
            out, _ = target.proc.communicate(timeout=30)
            assert target.proc.returncode == 0
            counts = dict(re.findall(r"(\w+)=(\d+)", out))
            # Acknowledged ⇒ in the topic, once per event (the client's calls are not retried here).
            assert int(counts["traces"]) == target.acked["trace"], out
            assessments = sum(target.acked[k] for k in ("assessment", "assessment_update", "assessment_delete"))
            assert int(counts["assessments"]) == assessments, out
            for k, v in target.acked.items():
                assert int(counts[k]) >= v, out  # acknowledgements, retries included


@mlflow.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    if "mlflow" in query.lower():
        return "MLflow is an open-source platform for managing the end-to-end machine learning lifecycle."
    return "General information about machine learning and data science."


@mlflow.trace
def my_chatbot(user_question: str) -> str:
    context = retrieve_context(user_question)
    return f"Based on: {context}"


@pytest.fixture(scope="module")
def trace_id(gateway):
    """Quickstart step 1: a traced call exported to the tracking server (StartTraceV3)."""
    my_chatbot("What is MLflow?")
    tid = mlflow.get_last_active_trace_id()
    assert re.fullmatch(r"tr-[0-9a-f]{32}", tid)
    gateway.acked["trace"] += 1
    return tid


def test_version_is_one_the_client_accepts(gateway):
    from packaging.version import Version

    r = requests.get(gateway.url + "/version", timeout=5)
    assert r.status_code == 200
    assert Version(r.text) >= Version("3.4")


def test_log_feedback_as_in_quickstart_step_2(gateway, trace_id):
    fb = mlflow.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale="Missing details about MLflow's key features like Projects and Model Registry",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    gateway.acked["assessment"] += 1
    assert re.fullmatch(r"a-[0-9a-f]{32}", fb.assessment_id)
    assert fb.trace_id == trace_id
    assert fb.name == "user_feedback"
    assert fb.value is False
    assert fb.source.source_id == "enduser_123"
    assert fb.valid is True
    assert fb.create_time_ms > 0
    if gateway.mode == "binary":
        stored = mlflow.get_assessment(trace_id, fb.assessment_id)
        assert stored.value is False
        assert stored.rationale.startswith("Missing details")


def test_log_expectation(gateway, trace_id):
    ex = mlflow.log_expectation(
        trace_id=trace_id,
        name="expected_response",
        value="MLflow has Tracking, Projects, Models and the Model Registry.",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="expert@example.com"),
    )
    gateway.acked["assessment"] += 1
    assert re.fullmatch(r"a-[0-9a-f]{32}", ex.assessment_id)
    assert ex.value.startswith("MLflow has")
    facts = mlflow.log_expectation(trace_id=trace_id, name="expected_facts", value=["Tracking", "Model Registry"])
    gateway.acked["assessment"] += 1
    assert facts.value == ["Tracking", "Model Registry"]


def test_override_feedback_needs_the_read_api(gateway, trace_id):
    if gateway.mode != "binary":
        pytest.skip("override_feedback reads the old assessment first (GET), served by the processors")
    llm = mlflow.log_feedback(
        trace_id=trace_id,
        name="relevance",
        value=0.3,
        source=AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="judge"),
    )
    new = mlflow.override_feedback(
        trace_id=trace_id,
        assessment_id=llm.assessment_id,
        value=0.9,
        rationale="fully relevant",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="expert@example.com"),
    )
    assert new.overrides == llm.assessment_id
    assert new.assessment_id != llm.assessment_id
    assert new.valid is True


def test_update_and_delete_assessment(gateway, trace_id):
    fb = mlflow.log_feedback(trace_id=trace_id, name="helpfulness", value=2)
    gateway.acked["assessment"] += 1
    updated = mlflow.update_assessment(
        trace_id=trace_id, assessment_id=fb.assessment_id, assessment=Feedback(name="helpfulness", value=4)
    )
    gateway.acked["assessment_update"] += 1
    assert updated.assessment_id == fb.assessment_id
    assert updated.value == 4
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=fb.assessment_id)
    gateway.acked["assessment_delete"] += 1


def test_bad_input_is_a_4xx_naming_the_field(gateway, trace_id):
    with pytest.raises(MlflowException) as err:
        mlflow.log_feedback(trace_id=trace_id, name="user.feedback", value=True)
    assert "assessment_name" in str(err.value)
    r = requests.post(
        f"{gateway.url}/api/3.0/mlflow/traces/{trace_id}/assessments",
        data=b'{"assessment": {"assessment_name": "x", "feedback": {"value": "\xff"}}}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = requests.post(f"{gateway.url}/api/v1/events", data="x", headers={"Content-Type": "text/csv"}, timeout=10)
    assert r.status_code == 415
    # Still serving.
    ok = mlflow.log_feedback(trace_id=trace_id, name="still_serving", value=True)
    gateway.acked["assessment"] += 1
    assert ok.assessment_id


def test_native_batch_endpoint(gateway):
    tid = "tr-" + uuid.uuid4().hex
    lines = [
        {"event_id": f"py-{uuid.uuid4().hex}", "type": "assessment",
         "assessment": {"assessment_name": "thumbs", "trace_id": tid, "feedback": {"value": v}}}
        for v in (True, False, True)
    ]
    import json

    body = "\n".join(json.dumps(x) for x in lines)
    for _ in range(2):  # a retry with the same event ids publishes nothing new
        r = requests.post(gateway.url + "/api/v1/events", data=body,
                          headers={"Content-Type": "application/x-ndjson"}, timeout=10)
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": 3}
    gateway.acked["assessment"] += 3
