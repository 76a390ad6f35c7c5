"""MLflow's human feedback quickstart, step 5 and the search half of step 6, against `tracefeed run`:
the thumbs-down trace is routed into the quickstart_review labeling session, an expert claims it,
submits response_accuracy and expected_response, and the answers join the trace as ordinary
assessments (HUMAN/<reviewer>, metadata tracefeed.labeling_session_id). Then the real MLflow client
finds the labeled trace with mlflow.search_traces(run_id=session.mlflow_run_id).
"""
import os
import subprocess
import sys
import textwrap

import pytest
import requests

from conftest import QUICKSTART_REVIEW_YAML, QUICKSTART_STEPS_1_2, start_tracefeed, stop_tracefeed

CONFIG = QUICKSTART_REVIEW_YAML + textwrap.dedent("""\
    rules:
      - name: thumbs_down_to_review
        filter: "feedback.user_feedback = false"
        sample_rate: 1.0
        actions: [{labeling_session: quickstart_review}]
""")

APP = QUICKSTART_STEPS_1_2 + "print(trace_id)\n"

EXPERT = "expert@example.com"
IDEAL = "MLflow is an open-source platform with Tracking, Projects, Models and a Model Registry."


@pytest.fixture(scope="module")
def labeled():
    """Runs steps 1, 2 and 5; yields (tracefeed, trace_id, session)."""
    tf = start_tracefeed(CONFIG)
    try:
        env = dict(os.environ, MLFLOW_TRACKING_URI=tf.url, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false")
        out = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        trace_id = out.stdout.strip().splitlines()[-1]

        base = f"{tf.url}/api/v1/labeling-sessions/quickstart_review"

        def queued():
            r = requests.get(f"{base}/items", params={"status": "pending"}, timeout=5)
            return r.status_code == 200 and trace_id in [i["trace_id"] for i in r.json()["items"]]

        tf.wait_until(queued, what="the thumbs-down trace in the quickstart_review queue")

        claim = requests.post(f"{base}/claim", json={"reviewer": EXPERT}, timeout=5)
        assert claim.status_code == 200, claim.text
        assert claim.json()["trace_id"] == trace_id
        token = claim.json()["lease"]["token"]

        # A second reviewer racing for the only item gets nothing; a wrong answer changes nothing.
        assert requests.post(f"{base}/claim", json={"reviewer": "someone_else"}, timeout=5).status_code == 204
        bad = requests.post(f"{base}/items/{trace_id}/submit", timeout=5,
                            json={"reviewer": EXPERT, "lease_token": token, "labels": {"response_accuracy": "Great"}})
        assert bad.status_code == 400 and "labels.response_accuracy" in bad.json()["message"], bad.text

        done = requests.post(f"{base}/items/{trace_id}/submit", timeout=10, json={
            "reviewer": EXPERT, "lease_token": token,
            "labels": {"response_accuracy": "Partially Accurate", "expected_response": IDEAL},
            "comments": {"response_accuracy": "Correct but misses Projects and the Model Registry"}})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"

        session = requests.get(base, timeout=5).json()
        yield tf, trace_id, session
    finally:
        stop_tracefeed(tf)


def test_expert_labels_join_their_trace(labeled):
    tf, trace_id, session = labeled
    assert session["progress"]["completed"] == 1
    assert session["reviewers"][EXPERT]["completed"] == 1
    assert session["url"].endswith("/#/review/" + session["labeling_session_id"])

    def joined():
        r = requests.get(f"{tf.url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=5)
        if r.status_code != 200:
            return None
        by_name = {a["assessment_name"]: a for a in r.json()["trace"]["trace_info"].get("assessments", [])}
        return by_name if {"response_accuracy", "expected_response"} <= by_name.keys() else None

    by_name = tf.wait_until(joined, what="the expert's assessments on the trace")
    accuracy, expected = by_name["response_accuracy"], by_name["expected_response"]
    assert accuracy["source"] == {"source_type": "HUMAN", "source_id": EXPERT}
    assert accuracy["feedback"]["value"] == "Partially Accurate"
    assert accuracy["rationale"] == "Correct but misses Projects and the Model Registry"
    assert accuracy["metadata"]["tracefeed.labeling_session_id"] == session["labeling_session_id"]
    assert expected["expectation"]["value"] == IDEAL
    # The end user's thumbs-down is still there, next to the expert's judgement.
    assert by_name["user_feedback"]["feedback"]["value"] is False


def test_search_traces_by_labeling_session_run_id(labeled):
    """Quickstart step 6: mlflow.search_traces(run_id=labeling_session.mlflow_run_id)."""
    tf, trace_id, session = labeled
    run_id = session["mlflow_run_id"]
    assert requests.get(f"{tf.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=5).status_code == 200
    code = textwrap.dedent(f"""\
        import mlflow
        traces = mlflow.search_traces(run_id="{run_id}", return_type="list")
        for t in traces:
            names = sorted(a.name for a in t.info.assessments)
            print(t.info.trace_id, ",".join(names))
    """)
    env = dict(os.environ, MLFLOW_TRACKING_URI=tf.url)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.strip().splitlines()]
    assert [r[0] for r in rows] == [trace_id]
    assert "expected_response" in rows[0][1].split(",")
