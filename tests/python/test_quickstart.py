"""MLflow's human feedback quickstart, steps 1, 2 and the routing half of 5, against `tracefeed run`
with the documented default rule (thumbs_down_to_review: feedback.user_feedback = false):

  1. a @mlflow.trace RAG app with a RETRIEVER span, exported by the real MLflow client;
  2. an end-user thumbs-down with mlflow.log_feedback;
  5. the trace is routed to the quickstart_review session, with a decision record that says why,
     and mlflow.search_traces-style search finds it by its feedback.

Step 5's labeling session and Review App, step 3-4's UI and step 6's evaluation are later issues.
"""
import os
import subprocess
import sys
import textwrap

import requests

from conftest import start_tracefeed, stop_tracefeed

RULES = textwrap.dedent("""\
    label_schemas:
      - name: response_accuracy
        type: feedback
        title: Is the response factually accurate?
        input: {categorical: {options: [Accurate, Partially Accurate, Inaccurate]}}
    labeling_sessions:
      - name: quickstart_review
        label_schemas: [response_accuracy]
    rules:
      - name: thumbs_down_to_review
        filter: "feedback.user_feedback = false"
        sample_rate: 1.0
        actions: [{labeling_session: quickstart_review}]
""")

APP = textwrap.dedent("""\
    import mlflow
    from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType

    @mlflow.trace(span_type="RETRIEVER")
    def retrieve_context(query: str) -> str:
        if "mlflow" in query.lower():
            return "MLflow is an open-source platform for managing the end-to-end machine learning lifecycle."
        return "General information about machine learning and data science."

    @mlflow.trace
    def my_chatbot(user_question: str) -> str:
        context = retrieve_context(user_question)
        return "MLflow is an open-source platform. (context: " + context[:20] + ")"

    my_chatbot("What is MLflow?")
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale="Missing details about MLflow's key features like Projects and Model Registry",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    print(trace_id)
""")


def test_quickstart_thumbs_down_is_routed_for_review():
    tf = start_tracefeed(RULES)
    try:
        env = dict(os.environ, MLFLOW_TRACKING_URI=tf.url, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false")
        out = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        trace_id = out.stdout.strip().splitlines()[-1]

        def routed():
            r = requests.get(f"{tf.url}/api/v1/traces/{trace_id}/decisions", timeout=5)
            return r.status_code == 200 and [d for d in r.json()["decisions"] if d["decision"] == "routed"]

        decision = tf.wait_until(routed, what="the thumbs_down_to_review decision")[0]
        assert decision["rule"] == "thumbs_down_to_review"
        assert decision["reason"] == "all conditions met"

        trace = requests.get(f"{tf.url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=5).json()["trace"]
        types = {s["name"]: s["span_type"] for s in trace["spans"]}
        assert types["retrieve_context"] == "RETRIEVER"
        feedback = [a for a in trace["trace_info"]["assessments"] if a["assessment_name"] == "user_feedback"]
        assert feedback and feedback[0]["feedback"]["value"] is False
        assert feedback[0]["source"] == {"source_type": "HUMAN", "source_id": "enduser_123"}

        found = requests.post(f"{tf.url}/api/3.0/mlflow/traces/search",
                              json={"filter": "feedback.user_feedback = false AND span.type = 'RETRIEVER'"}, timeout=5)
        assert found.status_code == 200, found.text
        assert trace_id in [t["trace_id"] for t in found.json()["traces"]]
    finally:
        stop_tracefeed(tf)
