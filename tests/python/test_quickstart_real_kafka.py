"""MLflow's human feedback quickstart, end to end, on a REAL Kafka broker (issues #5 and #7).

`tracefeed run` with kafka.brokers = a single-node KRaft Kafka 3.9 started from the Maven jars
(conftest's `real_kafka`: the ctest fixture's broker, or one started with scripts/kafka/start.sh),
once at-least-once and once with `kafka.exactly_once: true` (refused only on the embedded broker):

  1. the app's traces, exported by the real MLflow client (@mlflow.trace, a RETRIEVER span);
  2. an end-user thumbs-down on each (log_feedback user_feedback=false, HUMAN/enduser_123);
  5. the config rule thumbs_down_to_review routes both to the quickstart_review labeling session
     (schemas response_accuracy categorical + expected_response text) and to the quickstart_eval
     dataset; an expert claims and submits each through the labeling API; the labels are
     assessments on the trace (mlflow.get_trace); the dataset records carry lineage
     (topic/partition/offset of the eval record, assessment ids) and, once the review is in,
     the expert's expected_response;
     /metrics shows it (PRODUCT.md §7 names);
  6. POST /api/v1/evaluations {labeling_session_id, scorers: ["correctness"]} without a judge:
     the deterministic fallback (source CODE) says yes for the trace whose expected_response is
     the app's answer and no for the other, so correctness/mean = 0.5; the scores are assessments
     on the traces and tracefeed_eval_score{scorer="correctness"} = 0.5; and
     `tracefeed evaluate --session quickstart_review --scorer correctness --output FILE` too.

Every wait is on a condition with a deadline. Registered in tests/CMakeLists.txt as
python_quickstart_real_kafka (label integration, fixture real_kafka); python_e2e skips this file.
"""
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid

import pytest
import requests

from conftest import BINARY, start_tracefeed, stop_tracefeed

SESSION = "quickstart_review"
DATASET = "quickstart_eval"
RULE = "thumbs_down_to_review"
EXPERT = "expert@example.com"
# No judge: api_key_env names a variable that is set empty (processors/evaluate/README.md,
# "Without a judge"), so correctness uses its deterministic fallback, source CODE.
NO_JUDGE_ENV = "TRACEFEED_QS_NO_JUDGE_KEY"

CONFIG = textwrap.dedent(f"""\
    label_schemas:
      - name: response_accuracy
        type: feedback
        title: Is the response factually accurate?
        input: {{categorical: {{options: [Accurate, Partially Accurate, Inaccurate]}}}}
      - name: expected_response
        type: expectation
        title: What would be the ideal response?
        input: {{text: {{}}}}
    labeling_sessions:
      - name: {SESSION}
        label_schemas: [response_accuracy, expected_response]
    rules:
      - name: {RULE}
        filter: "feedback.user_feedback = false"
        sample_rate: 1.0
        actions: [{{labeling_session: {SESSION}}}, {{eval: {DATASET}}}]
    evaluation:
      judge: {{api_key_env: {NO_JUDGE_ENV}}}
""")

QUESTIONS = ["What is MLflow?", "Does MLflow have a model registry?"]

# Quickstart steps 1 and 2 with the real MLflow client; prints one JSON line per question.
APP = textwrap.dedent("""\
    import json, sys
    import mlflow
    from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType

    @mlflow.trace(span_type="RETRIEVER")
    def retrieve_context(query: str) -> str:
        if "mlflow" in query.lower():
            return "MLflow is an open-source platform for managing the end-to-end machine learning lifecycle."
        return "General information about machine learning and data science."

    @mlflow.trace
    def my_chatbot(user_question: str) -> str:
        return "Answer to '" + user_question + "': " + retrieve_context(user_question)

    for question in json.loads(sys.argv[1]):
        response = my_chatbot(question)
        trace_id = mlflow.get_last_active_trace_id()
        mlflow.log_feedback(
            trace_id=trace_id, name="user_feedback", value=False,
            rationale="Missing details about MLflow's key features like Projects and Model Registry",
            source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"))
        print(json.dumps({"question": question, "trace_id": trace_id, "response": response}), flush=True)
""")

# The MLflow client's view of each trace's assessments, one JSON line per id: through
# mlflow.get_trace (GET /api/3.0/mlflow/traces/get, spans included) or, with "info", through the
# client's trace-info read (GET /api/3.0/mlflow/traces/{id}) that mlflow.get_trace starts with.
GET_TRACES = textwrap.dedent("""\
    import json, sys
    import mlflow
    from mlflow.tracing.client import TracingClient
    mode, trace_ids = sys.argv[2], json.loads(sys.argv[1])
    for trace_id in trace_ids:
        info = mlflow.get_trace(trace_id).info if mode == "trace" else TracingClient().get_trace_info(trace_id)
        rows = []
        for a in info.assessments:
            rows.append({"name": a.name, "assessment_id": a.assessment_id,
                         "source_type": a.source.source_type, "source_id": a.source.source_id,
                         "feedback": a.feedback.value if a.feedback is not None else None,
                         "expectation": a.expectation.value if a.expectation is not None else None,
                         "rationale": a.rationale, "metadata": dict(a.metadata or {}),
                         "valid": getattr(a, "valid", None)})
        print(json.dumps({"trace_id": info.trace_id, "assessments": rows}), flush=True)
""")

IDEAL = ("MLflow has four components: Tracking records experiments, Projects package code, "
         "Models describe deployable artifacts, and the Model Registry versions them.")


def murmur2_partition(key: str, partitions: int) -> int:
    """Kafka's Java default partitioner: murmur2 of the key bytes, positive, mod partitions."""
    data = key.encode()
    m, r = 0x5BD1E995, 24
    h = (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    for i in range(len(data) // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail, rest = len(data) & ~3, len(data) % 4
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def metric(text: str, name: str, labels: dict | None = None) -> float | None:
    """The sample of `name` whose labels are exactly `labels` (None when absent)."""
    want = labels or {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if got == want:
            return float(m.group(3))
    return None


def samples(text: str, name: str) -> list[tuple[dict, float]]:
    out = []
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name:
            out.append((dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or "")),
                        float(m.group(3))))
    return out


def scrape(tf) -> str:
    r = requests.get(tf.url + "/metrics", timeout=5)
    assert r.status_code == 200, r.text
    return r.text


def run_python(code: str, arg, tf, *more: str) -> list[dict]:
    env = dict(os.environ, MLFLOW_TRACKING_URI=tf.url, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(arg), *more], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def get_traces(tf, trace_ids, mode="trace") -> dict:
    """trace_id -> the assessments as the MLflow client parsed them (mode "trace": mlflow.get_trace;
    "info": the client's trace-info read)."""
    return {row["trace_id"]: row["assessments"] for row in run_python(GET_TRACES, trace_ids, tf, mode)}


def trace_assessments(tf, trace_id) -> dict:
    """The trace's valid assessments by name, through the MLflow-compatible REST read."""
    r = requests.get(f"{tf.url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=5)
    if r.status_code != 200:
        return {}
    return {a["assessment_name"]: a for a in r.json()["trace"]["trace_info"].get("assessments", [])
            if a.get("valid", True)}


class Quickstart:
    """What the flow produced, for the tests to check."""

    def __init__(self, tf, exactly_once, prefix):
        self.tf, self.exactly_once, self.prefix = tf, exactly_once, prefix
        self.app = {}          # trace_id -> {question, response}
        self.expected = {}     # trace_id -> the expert's expected_response
        self.accuracy = {}     # trace_id -> the expert's response_accuracy
        self.submitted = {}    # trace_id -> {schema: assessment_id}
        self.session = None    # GET labeling-sessions/quickstart_review after the reviews
        self.metrics_queued = ""   # /metrics with both items pending
        self.metrics_reviewed = ""  # /metrics after both reviews
        self.evaluation = None     # GET evaluations/{id} once done (issue #7), or None
        self.evaluation_error = ""

    @property
    def trace_ids(self):
        return sorted(self.app)


@pytest.fixture(scope="module", params=[False, True], ids=["at_least_once", "exactly_once"])
def qs(request, real_kafka):
    exactly_once = request.param
    prefix = f"tf-qs-{uuid.uuid4().hex[:8]}."
    tf = start_tracefeed(CONFIG, kafka_brokers=real_kafka, env={NO_JUDGE_ENV: ""}, ready_timeout=180,
                         kafka_yaml=f"topic_prefix: \"{prefix}\", exactly_once: {'true' if exactly_once else 'false'}")
    q = Quickstart(tf, exactly_once, prefix)
    try:
        # Steps 1-2: the app's traces and the end user's thumbs-down, through the MLflow client.
        for row in run_python(APP, QUESTIONS, tf):
            q.app[row["trace_id"]] = {"question": row["question"], "response": row["response"]}
        assert len(q.app) == 2, q.app
        # The first question's expert writes the app's own answer (correctness: yes), the second's
        # a different one (correctness: no).
        for trace_id, app in q.app.items():
            first = app["question"] == QUESTIONS[0]
            q.expected[trace_id] = app["response"] if first else IDEAL
            q.accuracy[trace_id] = "Accurate" if first else "Partially Accurate"

        # Step 5: routed by the config rule into the session (consumer groups on a real broker
        # may still be joining when /readyz answers: a generous deadline, not a sleep).
        base = f"{tf.url}/api/v1/labeling-sessions/{SESSION}"

        def queued():
            r = requests.get(f"{base}/items", params={"status": "pending"}, timeout=5)
            return r.status_code == 200 and set(q.app) <= {i["trace_id"] for i in r.json()["items"]}

        tf.wait_until(queued, timeout=90, what="both thumbs-down traces pending in quickstart_review")
        q.metrics_queued = scrape(tf)

        for _ in range(2):
            claim = requests.post(f"{base}/claim", json={"reviewer": EXPERT}, timeout=5)
            assert claim.status_code == 200, claim.text
            trace_id, token = claim.json()["trace_id"], claim.json()["lease"]["token"]
            assert trace_id in q.app and trace_id not in q.submitted
            done = requests.post(f"{base}/items/{trace_id}/submit", timeout=15, json={
                "reviewer": EXPERT, "lease_token": token,
                "labels": {"response_accuracy": q.accuracy[trace_id], "expected_response": q.expected[trace_id]}})
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "completed", done.text
            q.submitted[trace_id] = {a["assessment_name"]: a["assessment_id"] for a in done.json()["assessments"]}
        assert requests.post(f"{base}/claim", json={"reviewer": EXPERT}, timeout=5).status_code == 204
        q.session = requests.get(base, timeout=5).json()

        # The labels travel through Kafka and the join: the evaluation reads them from the trace.
        for trace_id in q.app:
            tf.wait_until(lambda: {"response_accuracy", "expected_response"} <= trace_assessments(tf, trace_id).keys(),
                          timeout=60, what=f"the expert's labels joined to {trace_id}")
        q.metrics_reviewed = scrape(tf)

        # Step 6 (issue #7): evaluate the session with correctness, no judge configured.
        r = requests.post(f"{tf.url}/api/v1/evaluations", timeout=10,
                          json={"labeling_session_id": q.session["labeling_session_id"], "scorers": ["correctness"]})
        if r.status_code != 202:
            q.evaluation_error = f"POST /api/v1/evaluations answered {r.status_code}: {r.text}"
        else:
            evaluation_id = r.json()["evaluation_id"]

            def finished():
                g = requests.get(f"{tf.url}/api/v1/evaluations/{evaluation_id}", timeout=5)
                return g.status_code == 200 and g.json()["status"] in ("done", "failed") and g.json()

            q.evaluation = tf.wait_until(finished, timeout=120, what=f"evaluation {evaluation_id} to finish")
        yield q
    finally:
        stop_tracefeed(tf)


# ---- the broker is real ---------------------------------------------------------------------

def test_runs_on_the_real_broker(qs, real_kafka):
    assert f"(Kafka {real_kafka})" in qs.tf.ready_line, qs.tf.ready_line
    assert "embedded" not in qs.tf.ready_line
    log = (qs.tf.workdir / "stderr.log").read_text()
    assert "kafka: cluster " in log and real_kafka in log, log[-2000:]


# ---- steps 2 and 5: routed, reviewed, labels on the trace -------------------------------------

def test_thumbs_down_routed_to_the_session_by_the_config_rule(qs):
    for trace_id in qs.trace_ids:
        r = requests.get(f"{qs.tf.url}/api/v1/traces/{trace_id}/decisions", timeout=5)
        assert r.status_code == 200, r.text
        routed = [d for d in r.json()["decisions"] if d["rule"] == RULE and d["decision"] == "routed"]
        assert len(routed) == 1, r.json()
    session = qs.session
    assert session["name"] == SESSION
    assert session["label_schemas"] == ["response_accuracy", "expected_response"]
    assert session["progress"]["completed"] == 2, session
    assert session["reviewers"][EXPERT]["completed"] == 2, session


@pytest.mark.parametrize("mode", ["info", "trace"])
def test_labels_are_assessments_on_the_trace_through_the_mlflow_client(qs, mode):
    """mode "trace" is the quickstart's mlflow.get_trace (the whole trace, spans included)."""
    traces = get_traces(qs.tf, qs.trace_ids, mode)
    assert sorted(traces) == qs.trace_ids
    for trace_id, rows in traces.items():
        by_name = {a["name"]: a for a in rows if a["valid"] is not False}
        thumbs = by_name["user_feedback"]
        assert thumbs["feedback"] is False
        assert (thumbs["source_type"], thumbs["source_id"]) == ("HUMAN", "enduser_123")
        accuracy, expected = by_name["response_accuracy"], by_name["expected_response"]
        assert accuracy["feedback"] == qs.accuracy[trace_id]
        assert expected["expectation"] == qs.expected[trace_id]
        for a in (accuracy, expected):
            assert (a["source_type"], a["source_id"]) == ("HUMAN", EXPERT)
            assert a["metadata"]["tracefeed.labeling_session_id"] == qs.session["labeling_session_id"]
            assert a["assessment_id"] == qs.submitted[trace_id][a["name"]]


# ---- the evaluation dataset -----------------------------------------------------------------

def dataset_records(tf) -> dict:
    r = requests.get(f"{tf.url}/api/v1/datasets/{DATASET}/records", timeout=5)
    if r.status_code != 200:
        return {}
    recs = [json.loads(line) for line in r.text.splitlines() if line.strip()]
    return {x["source"]["source_data"]["trace_id"]: x for x in recs}


def test_dataset_record_with_lineage(qs):
    """The rule's eval action adds both traces; a record built before its trace was in state (the
    router produces before the join writes) is rebuilt once it is, so wait for the content."""
    def complete():
        d = dataset_records(qs.tf)
        ok = all(t in d and d[t]["inputs"] == {"user_question": qs.app[t]["question"]} for t in qs.app)
        return d if ok else None

    try:
        recs = qs.tf.wait_until(complete, timeout=60, what="both traces, with their inputs, in the quickstart_eval dataset")
    except AssertionError as e:
        raise AssertionError(f"{e}; records now: {json.dumps(dataset_records(qs.tf))}") from None
    positions = set()
    for trace_id in qs.trace_ids:
        rec = recs[trace_id]
        assert rec["dataset_name"] == DATASET
        assert rec["inputs"] == {"user_question": qs.app[trace_id]["question"]}
        assert rec["outputs"] == qs.app[trace_id]["response"]
        lineage = rec["lineage"]
        assert lineage["via"] == "eval_topic", lineage
        assert lineage["rule"] == RULE
        assert lineage["topic"] == qs.prefix + "eval"
        # Keyed by trace id with Kafka's murmur2 partitioner (2 partitions per topic).
        assert lineage["partition"] == murmur2_partition(trace_id, 2), lineage
        assert isinstance(lineage["offset"], int) and lineage["offset"] >= 0
        positions.add((lineage["partition"], lineage["offset"]))
    assert len(positions) == 2


def test_dataset_record_expectations_follow_the_review(qs):
    """A completed review refreshes the record: the expert's expected_response becomes its
    expectation, with the label's assessment id and session in the lineage."""
    def refreshed():
        d = dataset_records(qs.tf)
        ok = all(t in d and d[t]["expectations"].get("expected_response") == qs.expected[t] for t in qs.app)
        return d if ok else None

    try:
        recs = qs.tf.wait_until(refreshed, timeout=30, what="the expert's expected_response in the dataset records")
    except AssertionError as e:
        raise AssertionError(f"{e}; records now: {json.dumps(dataset_records(qs.tf))}") from None
    for trace_id in qs.trace_ids:
        lineage = recs[trace_id]["lineage"]
        assert qs.submitted[trace_id]["expected_response"] in lineage["assessment_ids"], lineage
        assert lineage["labeling_session_ids"] == [qs.session["labeling_session_id"]], lineage


# ---- /metrics -------------------------------------------------------------------------------

def test_feedback_metrics(qs):
    text = qs.metrics_reviewed
    assert metric(text, "tracefeed_feedback_total", {"name": "user_feedback", "value": "false"}) == 2
    assert metric(text, "tracefeed_negative_feedback_ratio", {"name": "user_feedback"}) == 1
    assert metric(text, "tracefeed_feedback_total", {"name": "response_accuracy", "value": "Accurate"}) == 1
    assert metric(text, "tracefeed_feedback_total", {"name": "response_accuracy", "value": "Partially Accurate"}) == 1
    assert metric(text, "tracefeed_negative_feedback_ratio", {"name": "response_accuracy"}) == 0
    assert metric(text, "tracefeed_events_ingested_total", {"type": "trace"}) >= 2
    assert metric(text, "tracefeed_events_ingested_total", {"type": "assessment"}) >= 2


def test_labeling_queue_and_review_metrics(qs):
    session = {"session": SESSION}
    assert metric(qs.metrics_queued, "tracefeed_review_queue_depth", session) == 2, \
        samples(qs.metrics_queued, "tracefeed_review_queue_depth")
    assert metric(qs.metrics_queued, "tracefeed_review_item_age_seconds", session) is not None
    assert metric(qs.metrics_reviewed, "tracefeed_review_queue_depth", session) == 0
    assert metric(qs.metrics_reviewed, "tracefeed_review_item_age_seconds", session) == 0
    assert metric(qs.metrics_reviewed, "tracefeed_reviews_completed_total", {"session": SESSION, "reviewer": EXPERT}) == 2, \
        samples(qs.metrics_reviewed, "tracefeed_reviews_completed_total")


def test_route_latency_histogram(qs):
    text = scrape(qs.tf)
    count = metric(text, "tracefeed_route_latency_seconds_count")
    assert count == 2, samples(text, "tracefeed_route_latency_seconds_count")
    total = metric(text, "tracefeed_route_latency_seconds_sum")
    # Feedback time -> claimable; the app logged the feedback moments before the queue had it.
    assert 0 < total < 120, total
    assert metric(text, "tracefeed_route_latency_seconds_bucket", {"le": "+Inf"}) == 2


def test_consumer_lag_per_topic_partition(qs):
    """Every consumer of the process (join: traces + assessments; labeling: review; datasets:
    eval) has read everything once the flow is done and traffic stopped: lag 0 on each partition."""
    topics = [qs.prefix + t for t in ("traces", "assessments", "review", "eval")]
    want = {(t, p) for t in topics for p in ("0", "1")}

    def caught_up():
        lag = {(lb.get("topic"), lb.get("partition")): v for lb, v in samples(scrape(qs.tf), "tracefeed_consumer_lag")}
        return want <= lag.keys() and all(lag[k] == 0 for k in want) and lag

    try:
        qs.tf.wait_until(caught_up, timeout=30, what="tracefeed_consumer_lag = 0 on every consumed topic-partition")
    except AssertionError as e:
        raise AssertionError(f"{e}; now: {samples(scrape(qs.tf), 'tracefeed_consumer_lag')}") from None


# ---- step 6 (issue #7): evaluate the session ---------------------------------------------------

def evaluation_of(qs):
    assert qs.evaluation is not None, qs.evaluation_error
    return qs.evaluation


def test_evaluation_of_the_session_with_correctness(qs):
    ev = evaluation_of(qs)
    assert ev["status"] == "done", ev
    assert ev["progress"]["total"] == 2 and ev["progress"]["completed"] == 2, ev["progress"]
    agg = ev["aggregates"]
    assert agg["correctness/mean"] == 0.5, agg
    assert agg["correctness/count"] == 2 and agg["correctness/yes"] == 1 and agg["correctness/no"] == 1, agg
    assert agg.get("correctness/errors", 0) == 0, agg
    assert ev["assessments"]["written"] == 2 and ev["assessments"]["failed"] == 0, ev["assessments"]
    assert any("correctness" in w and "judge" in w for w in ev.get("warnings", [])), ev.get("warnings")
    results = {r["trace_id"]: r for r in ev["results"]}
    assert sorted(results) == qs.trace_ids
    for trace_id, r in results.items():
        want = "yes" if qs.expected[trace_id] == qs.app[trace_id]["response"] else "no"
        score = r["scores"]["correctness"]
        assert score["value"] == want, r
        assert score["source"] == {"source_type": "CODE", "source_id": "correctness"}, score
        assert score["rationale"].startswith("Deterministic fallback"), score
        assert r["expectations"]["expected_response"] == qs.expected[trace_id]
        assert r["outputs"] == qs.app[trace_id]["response"]


def test_scores_are_assessments_on_the_traces(qs):
    ev = evaluation_of(qs)
    ids = {r["trace_id"]: r["scores"]["correctness"]["assessment_id"] for r in ev["results"]}

    def scored():
        return all("correctness" in trace_assessments(qs.tf, t) for t in qs.app)

    qs.tf.wait_until(scored, timeout=60, what="the correctness scores joined to the traces")
    traces = get_traces(qs.tf, qs.trace_ids, "info")
    for trace_id, rows in traces.items():
        scores = [a for a in rows if a["name"] == "correctness" and a["valid"] is not False]
        assert len(scores) == 1, rows
        a = scores[0]
        want = "yes" if qs.expected[trace_id] == qs.app[trace_id]["response"] else "no"
        assert a["feedback"] == want
        assert (a["source_type"], a["source_id"]) == ("CODE", "correctness")
        assert a["assessment_id"] == ids[trace_id]
        assert a["metadata"]["tracefeed.evaluation_id"] == ev["evaluation_id"]


def test_eval_score_metric(qs):
    evaluation_of(qs)
    text = scrape(qs.tf)
    assert metric(text, "tracefeed_eval_score", {"scorer": "correctness"}) == 0.5, \
        samples(text, "tracefeed_eval_score")


def test_tracefeed_evaluate_cli(qs, tmp_path):
    out = tmp_path / "results.jsonl"
    done = subprocess.run([BINARY, "evaluate", "--session", SESSION, "--scorer", "correctness",
                           "--output", str(out), "--url", qs.tf.url, "--timeout", "120"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert "correctness" in done.stdout, done.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    by_trace = {r["trace_id"]: r for r in rows}
    assert sorted(by_trace) == qs.trace_ids, rows
    for trace_id, r in by_trace.items():
        want = "yes" if qs.expected[trace_id] == qs.app[trace_id]["response"] else "no"
        assert r["scores"]["correctness"]["value"] == want, r
    # Two more scores of the same values: the gauge's mean stays 0.5.
    text = scrape(qs.tf)
    assert metric(text, "tracefeed_eval_score", {"scorer": "correctness"}) == 0.5, samples(text, "tracefeed_eval_score")
