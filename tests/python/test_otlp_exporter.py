"""POST /v1/traces with the real OpenTelemetry Python SDK's OTLP/HTTP exporter and the real
MLflow 3.17 client.

Target: the `tracefeed` binary (conftest.py's fixture). Set OTLP_TEST_SERVER to the path of
producers/otlp's `otlp_test_server` to run the same tests against the OTLP routes alone (a
recording sink, read back through GET /test/envelopes) — that is how the module is verified
before its routes are wired into the binary.
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import requests
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

ROOT = pathlib.Path(__file__).resolve().parents[2]
CAPTURE_DIR = ROOT / "producers" / "otlp" / "tests" / "data"


def wait_until(predicate, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class OtlpTestServerTarget:
    """producers/otlp's otlp_test_server: the OTLP routes over http::Server, recording sink."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"ready at (http://[0-9.]+:[0-9]+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"otlp_test_server did not start: {line!r}")
        self.url = m.group(1)

    def trace(self, trace_id, want_spans):
        """The published trace parts of trace_id merged: {"trace_info": ..., "spans": [...]}."""

        def merged():
            envs = requests.get(self.url + "/test/envelopes", timeout=5).json()
            parts = [e["trace"] for e in envs if e["trace"]["trace_info"]["trace_id"] == trace_id]
            spans = [s for p in parts for s in p.get("spans", [])]
            if len(spans) < want_spans:
                return None
            info = next((p["trace_info"] for p in parts if p["trace_info"].get("request_time")), parts[0]["trace_info"])
            return {"trace_info": info, "spans": spans}

        return wait_until(merged, what=f"{want_spans} spans of {trace_id}")

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=10) == 0


class TracefeedTarget:
    """The real binary: reads back through the MLflow-compatible GET traces/get."""

    def __init__(self, tf):
        self.url = tf.url

    def trace(self, trace_id, want_spans):
        def get():
            r = requests.get(self.url + "/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=5)
            if r.status_code != 200:
                return None
            t = r.json().get("trace", {})
            return t if len(t.get("spans", [])) >= want_spans else None

        return wait_until(get, what=f"{want_spans} spans of {trace_id}")

    def close(self):
        pass


@pytest.fixture(scope="module")
def target(request):
    binary = os.environ.get("OTLP_TEST_SERVER")
    if binary:
        t = OtlpTestServerTarget(binary)
        yield t
        t.close()
    else:
        tf = request.getfixturevalue("tracefeed")
        yield TracefeedTarget(tf)


def make_spans(service_name):
    """A GenAI-instrumented app: an agent root, a chat-model child (semconv), an MLflow-style
    RETRIEVER child (JSON-encoded mlflow.* attributes, as MLflow's OTel export path sends)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tracefeed-e2e")
    with tracer.start_as_current_span("answer_question") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("mlflow.spanInputs", json.dumps({"user_question": "What is MLflow?"}))
        root.set_attribute("mlflow.spanOutputs", json.dumps("MLflow is an open-source platform."))
        with tracer.start_as_current_span("retrieve_context") as r:
            r.set_attribute("mlflow.spanType", json.dumps("RETRIEVER"))
            r.set_attribute("mlflow.spanInputs", json.dumps({"question": "What is MLflow?"}))
            r.set_attribute("mlflow.spanOutputs", json.dumps([{"page_content": "MLflow is ..."}]))
        with tracer.start_as_current_span("chat gpt-4o") as c:
            c.set_attribute("gen_ai.operation.name", "chat")
            c.set_attribute("gen_ai.request.model", "gpt-4o")
            c.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]))
            c.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}]))
            c.add_event("token_usage", {"gen_ai.usage.output_tokens": 3})
        root.set_status(otel_trace.Status(otel_trace.StatusCode.OK))
    spans = memory.get_finished_spans()
    provider.shutdown()
    trace_id = "tr-" + format(spans[0].context.trace_id, "032x")
    return spans, trace_id


def by_name(trace):
    return {s["name"]: s for s in trace["spans"]}


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip], ids=["plain", "gzip"])
def test_otel_sdk_exporter(target, compression):
    spans, trace_id = make_spans(f"otlp-e2e-{compression.value}")
    exporter = OTLPSpanExporter(endpoint=target.url + "/v1/traces", compression=compression, timeout=10)
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    exporter.shutdown()

    trace = target.trace(trace_id, want_spans=3)
    assert trace["trace_info"]["trace_id"] == trace_id
    assert trace["trace_info"]["state"] == "OK"
    spans = by_name(trace)
    assert spans["answer_question"]["span_type"] == "AGENT"
    assert spans["answer_question"]["inputs"] == {"user_question": "What is MLflow?"}
    assert spans["retrieve_context"]["span_type"] == "RETRIEVER"
    assert spans["retrieve_context"]["outputs"] == [{"page_content": "MLflow is ..."}]
    chat = spans["chat gpt-4o"]
    assert chat["span_type"] == "CHAT_MODEL"
    assert chat["inputs"][0]["role"] == "user"
    assert chat["outputs"][0]["parts"][0]["content"] == "hello"
    assert chat["attributes"]["gen_ai.request.model"] == "gpt-4o"
    assert chat["events"][0]["name"] == "token_usage"
    assert chat["parent_span_id"] == spans["answer_question"]["span_id"]


def test_retried_export_is_accepted_again(target):
    spans, trace_id = make_spans("otlp-e2e-retry")
    exporter = OTLPSpanExporter(endpoint=target.url + "/v1/traces", timeout=10)
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    exporter.shutdown()
    trace = target.trace(trace_id, want_spans=3)
    # Deduplicated by event_id: the spans are there once.
    assert sorted(s["name"] for s in trace["spans"]) == ["answer_question", "chat gpt-4o", "retrieve_context"]


def test_otlp_json_and_errors(target):
    body = {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-client"}}]},
            "scopeSpans": [{"spans": [
                {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "root",
                 "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000",
                 "kind": "SPAN_KIND_SERVER", "status": {"code": "STATUS_CODE_OK"}},
                {"traceId": "not-hex", "spanId": "eee19b7ec3c1b175", "name": "bad"},
            ]}],
        }]
    }
    r = requests.post(target.url + "/v1/traces", json=body, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "traceId: expected 32 hex digits" in partial["errorMessage"]
    trace = target.trace("tr-5b8efff798038103d269b633813fc60c", want_spans=1)
    assert trace["trace_info"]["execution_duration"] == "1s"

    r = requests.post(target.url + "/v1/traces", data=b"hello", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 415
    r = requests.post(target.url + "/v1/traces", data=b"\xff\xff", headers={"Content-Type": "application/x-protobuf"}, timeout=10)
    assert r.status_code == 400


def test_captured_mlflow_request_replayed(target):
    """The exact bytes MLflow 3.17's client sent (producers/otlp/tests/data/capture_mlflow.py)."""
    headers = json.loads((CAPTURE_DIR / "mlflow_3_17_export_0.headers.json").read_text())
    trace_id = (CAPTURE_DIR / "mlflow_3_17_trace_id.txt").read_text().strip()
    for part in ("mlflow_3_17_export_0.pb", "mlflow_3_17_export_1.pb"):
        r = requests.post(target.url + "/v1/traces", data=(CAPTURE_DIR / part).read_bytes(), headers=headers, timeout=10)
        assert r.status_code == 200, r.text
    trace = target.trace(trace_id, want_spans=2)
    check_mlflow_trace(trace, trace_id)


MLFLOW_APP = textwrap.dedent("""
    import mlflow

    @mlflow.trace(span_type="RETRIEVER")
    def retrieve_context(question):
        return [{"page_content": "MLflow is an open source platform", "metadata": {"doc_uri": "docs/mlflow.md"}}]

    @mlflow.trace
    def my_chatbot(user_question):
        retrieve_context(user_question)
        return "MLflow is an open-source platform for the ML lifecycle."

    my_chatbot("What is MLflow?")
    print(mlflow.get_last_active_trace_id())
""")


def test_live_mlflow_client(target):
    """The real MLflow client, tracking URI = tracefeed: it sends each span to /v1/traces as the
    span ends (after GET /version says >= 3.4)."""
    version = requests.get(target.url + "/version", timeout=5)
    if version.status_code == 404:
        pytest.skip("GET /version is not served: MLflow only exports to /v1/traces when the server says >= 3.4")
    env = dict(os.environ, MLFLOW_TRACKING_URI=target.url, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false")
    out = subprocess.run([sys.executable, "-c", MLFLOW_APP], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    trace_id = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"tr-[0-9a-f]{32}", trace_id), out.stdout
    trace = target.trace(trace_id, want_spans=2)
    check_mlflow_trace(trace, trace_id)


def check_mlflow_trace(trace, trace_id):
    info = trace["trace_info"]
    assert info["trace_id"] == trace_id
    assert info["trace_location"] == {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}}
    assert info["state"] == "OK"
    # From spans alone tracefeed derives a text preview; the live client's StartTraceV3 also sends
    # MLflow's own preview (the inputs as JSON), and what a client sends wins, as in MLflow.
    assert info["request_preview"] in ("What is MLflow?", '{"user_question": "What is MLflow?"}')
    assert info["response_preview"] in ("MLflow is an open-source platform for the ML lifecycle.",
                                        '"MLflow is an open-source platform for the ML lifecycle."')
    spans = by_name(trace)
    root, child = spans["my_chatbot"], spans["retrieve_context"]
    assert root["parent_span_id"] == ""
    assert child["parent_span_id"] == root["span_id"]
    assert child["span_type"] == "RETRIEVER"
    assert child["inputs"] == {"question": "What is MLflow?"}
    assert child["outputs"][0]["metadata"] == {"doc_uri": "docs/mlflow.md"}
    assert root["inputs"] == {"user_question": "What is MLflow?"}
    assert root["outputs"] == "MLflow is an open-source platform for the ML lifecycle."
