"""mlflow.get_trace and mlflow.search_traces (with spans) against `tracefeed run`, with the real MLflow
client: traces logged by the client carry mlflow.trace.spansLocation=TRACKING_STORE, so it reads
spans back through GetTrace (GET /api/3.0/mlflow/traces/get) and BatchGetTraces
(GET /api/3.0/mlflow/traces/batchGet), parsing OpenTelemetry Span messages (processors/query,
mlflow_trace_json.h). The same traces/get without MLflow's client header keeps tracefeed's span
shape (the web UI reads that).
"""
import base64
import json
import os
import subprocess
import sys
import textwrap

import pytest
import requests

from conftest import start_tracefeed, stop_tracefeed

APP = textwrap.dedent("""\
    import json, time
    import mlflow
    from mlflow.entities import SpanType
    from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType

    logged = {}

    @mlflow.trace(span_type=SpanType.RETRIEVER)
    def retrieve_context(query: str, k: int = 1) -> list:
        logged["child"] = mlflow.get_current_active_span().span_id
        return [{"doc_uri": "docs/mlflow.md", "page_content": "MLflow manages the ML lifecycle.", "score": 0.9}][:k]

    @mlflow.trace
    def my_chatbot(user_question: str) -> str:
        logged["root"] = mlflow.get_current_active_span().span_id
        docs = retrieve_context(user_question)
        return "MLflow is an open-source platform. (" + docs[0]["doc_uri"] + ")"

    my_chatbot("What is MLflow?")
    trace_id = mlflow.get_last_active_trace_id()
    first = mlflow.log_feedback(
        trace_id=trace_id, name="user_feedback", value=False, rationale="Too short",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"))
    second = mlflow.override_feedback(
        trace_id=trace_id, assessment_id=first.assessment_id, value=True, rationale="Correct after all",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="expert_1"))

    # The processors join the trace and its assessments asynchronously, each from its own topic:
    # wait (bounded) until the trace is there with its spans and both assessments. (Until the trace
    # itself is applied, get_trace finds only the feedback and MLflow returns None.)
    deadline = time.monotonic() + 20
    while True:
        trace = mlflow.get_trace(trace_id)
        if (trace is not None and trace.data.spans and len(trace.info.assessments) >= 2) or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    def span(s):
        return {"name": s.name, "span_type": s.span_type, "span_id": s.span_id, "parent_id": s.parent_id,
                "trace_id": s.trace_id, "inputs": s.inputs, "outputs": s.outputs, "status": s.status.status_code,
                "start_ns": s.start_time_ns, "end_ns": s.end_time_ns,
                "function_name": s.get_attribute("mlflow.spanFunctionName")}

    listed = mlflow.search_traces(return_type="list", max_results=10)
    frame = mlflow.search_traces(max_results=10)
    print(json.dumps({
        "trace_id": trace_id,
        "logged": logged,
        "info_trace_id": trace.info.trace_id,
        "state": str(trace.info.state),
        "spans": [span(s) for s in trace.data.spans],
        "root": trace.data._get_root_span().name if trace.data._get_root_span() else None,
        "retrievers": [span(s) for s in trace.search_spans(span_type=SpanType.RETRIEVER)],
        "assessments": [{"id": a.assessment_id, "name": a.name, "value": a.value, "valid": a.valid,
                         "overrides": a.overrides, "rationale": a.rationale,
                         "source": [a.source.source_type, a.source.source_id]} for a in trace.info.assessments],
        "first_id": first.assessment_id,
        "second_id": second.assessment_id,
        "listed": {t.info.trace_id: sorted(s.name for s in t.data.spans) for t in listed},
        "frame_ids": list(frame["trace_id"]),
        "frame_span_names": [sorted(s["name"] for s in spans) for spans in frame["spans"]],
    }))
""")


@pytest.fixture(scope="module")
def logged():
    """Runs APP against a fresh `tracefeed run`; yields (tracefeed, the app's JSON report)."""
    tf = start_tracefeed()
    try:
        env = dict(os.environ, MLFLOW_TRACKING_URI=tf.url, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false")
        out = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        yield tf, json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        stop_tracefeed(tf)


def test_get_trace_returns_the_spans_as_logged(logged):
    _, r = logged
    trace_id, ids = r["trace_id"], r["logged"]
    assert r["info_trace_id"] == trace_id
    assert r["state"].endswith("OK")
    by_name = {s["name"]: s for s in r["spans"]}
    assert sorted(by_name) == ["my_chatbot", "retrieve_context"]
    root, child = by_name["my_chatbot"], by_name["retrieve_context"]
    assert r["root"] == "my_chatbot"

    # Ids come back as the client made them (base64 bytes on the wire), the parent links them.
    assert root["span_id"] == ids["root"] and child["span_id"] == ids["child"]
    assert root["parent_id"] is None
    assert child["parent_id"] == root["span_id"]
    assert root["trace_id"] == child["trace_id"] == trace_id

    # Span types, inputs and outputs as JSON values, not JSON text in a string.
    assert child["span_type"] == "RETRIEVER"
    assert root["span_type"] == "UNKNOWN"  # @mlflow.trace without a span_type
    assert root["inputs"] == {"user_question": "What is MLflow?"}
    assert root["outputs"] == "MLflow is an open-source platform. (docs/mlflow.md)"
    assert child["inputs"] == {"query": "What is MLflow?", "k": 1}
    assert child["outputs"] == [{"doc_uri": "docs/mlflow.md", "page_content": "MLflow manages the ML lifecycle.",
                                 "score": 0.9}]
    assert child["function_name"] == "retrieve_context"
    assert root["status"] == child["status"] == "OK"

    # Timing: nanoseconds, the child inside its parent.
    assert 0 < root["start_ns"] <= child["start_ns"] <= child["end_ns"] <= root["end_ns"]


def test_get_trace_carries_the_assessments_with_valid_flags(logged):
    _, r = logged
    by_id = {a["id"]: a for a in r["assessments"]}
    assert set(by_id) == {r["first_id"], r["second_id"]}
    first, second = by_id[r["first_id"]], by_id[r["second_id"]]
    assert first == {"id": r["first_id"], "name": "user_feedback", "value": False, "valid": False, "overrides": None,
                     "rationale": "Too short", "source": ["HUMAN", "enduser_123"]}
    assert second["value"] is True and second["valid"] is True
    assert second["overrides"] == r["first_id"]
    assert second["source"] == ["HUMAN", "expert_1"]


def test_search_spans_finds_the_retriever(logged):
    _, r = logged
    assert [s["name"] for s in r["retrievers"]] == ["retrieve_context"]
    assert r["retrievers"][0]["outputs"][0]["doc_uri"] == "docs/mlflow.md"


def test_search_traces_loads_spans_through_batch_get(logged):
    _, r = logged
    assert r["listed"] == {r["trace_id"]: ["my_chatbot", "retrieve_context"]}
    assert r["frame_ids"] == [r["trace_id"]]
    assert r["frame_span_names"] == [["my_chatbot", "retrieve_context"]]


def test_traces_get_without_mlflows_header_keeps_tracefeeds_shape(logged):
    tf, r = logged
    trace = requests.get(f"{tf.url}/api/3.0/mlflow/traces/get", params={"trace_id": r["trace_id"]}, timeout=5).json()["trace"]
    by_name = {s["name"]: s for s in trace["spans"]}
    assert by_name["retrieve_context"]["span_type"] == "RETRIEVER"
    assert by_name["retrieve_context"]["parent_span_id"] == r["logged"]["root"]
    assert by_name["my_chatbot"]["inputs"] == {"user_question": "What is MLflow?"}
    assert by_name["my_chatbot"]["status"] == "OK"


def test_traces_get_with_mlflows_header_answers_opentelemetry_spans(logged):
    tf, r = logged
    resp = requests.get(f"{tf.url}/api/3.0/mlflow/traces/get", params={"trace_id": r["trace_id"]},
                        headers={"X-MLflow-Client-Version": "3.17.2"}, timeout=5)
    assert resp.status_code == 200, resp.text
    spans = {s["name"]: s for s in resp.json()["trace"]["spans"]}
    child = spans["retrieve_context"]
    assert bytes.fromhex(r["logged"]["child"]) == base64.b64decode(child["span_id"])
    attrs = {a["key"]: a["value"] for a in child["attributes"]}
    assert attrs["mlflow.spanType"] == {"string_value": "RETRIEVER"}
    assert attrs["mlflow.spanInputs"]["kvlist_value"]["values"][0] == {"key": "query",
                                                                       "value": {"string_value": "What is MLflow?"}}
    assert child["status"] == {"code": "STATUS_CODE_OK"}
