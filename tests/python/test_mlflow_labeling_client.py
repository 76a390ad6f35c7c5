"""The human feedback quickstart's step 5 written with MLflow's own labeling API — the real
mlflow-skinny 3.17 client and this repository's tracefeed-mlflow plugin (sdk/python) — against
`tracefeed run`; then an expert claims and submits through tracefeed's review API, and step 6's
mlflow.search_traces(run_id=labeling_session.mlflow_run_id) finds the trace with the expert's
assessments.

Label schemas go through MLflow's tracking-store REST API (/api/3.0/mlflow/label-schemas/*,
sinks/labeling/mlflow_label_schema_api.h); labeling sessions through the plugin's labeling store
(/api/v1/labeling-sessions). Skipped with a reason while the MLflow label-schema routes are not
wired into `tracefeed run` (apps/runtime.cc).
"""
import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
import requests

from conftest import QUICKSTART_STEPS_1_2, start_tracefeed, stop_tracefeed

EXPERT = "domain_expert"  # an http.auth_tokens user (no "." allowed there)
EXPERT_TOKEN = "expert-" + uuid.uuid4().hex
IDEAL = "MLflow is an open-source platform with Tracking, Projects, Models and a Model Registry."
CREDENTIAL_VARS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")

# Steps 1 and 2 (the app's trace and the end user's thumbs-down), then step 5 as the quickstart
# writes it — except title= and overwrite=, which mlflow's OSS client refuses on a non-Databricks
# URI before sending anything (recorded in `literal_error`).
STEP5 = textwrap.dedent("""\
    import json
    from mlflow.exceptions import MlflowException
    from mlflow.genai.label_schemas import create_label_schema, InputCategorical, InputText
    from mlflow.genai.labeling import create_labeling_session
""") + QUICKSTART_STEPS_1_2 + textwrap.dedent("""\

    # tracefeed is eventually consistent: a trace is searchable once the join applied it (tens of
    # ms after log_feedback returns). A person running the page's steps never sees the gap; a
    # script running them back to back can, so it waits here (docs/mlflow-compat.md).
    import time
    deadline = time.monotonic() + 20
    while trace_id not in [t.info.trace_id for t in mlflow.search_traces(max_results=1, return_type="list")]:
        assert time.monotonic() < deadline, "trace not searchable after 20 s"
        time.sleep(0.05)

    try:
        create_label_schema(name="response_accuracy", type="feedback",
                            title="Is the response factually accurate?",
                            input=InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]),
                            overwrite=True)
        literal_error = None
    except MlflowException as e:
        literal_error = str(e)

    # Define what feedback to collect
    accuracy_schema = create_label_schema(
        name="response_accuracy",
        type="feedback",
        input=InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]),
        enable_comment=True,
    )
    ideal_response_schema = create_label_schema(
        name="expected_response",
        type="expectation",
        input=InputText(),
    )

    # Create a labeling session
    labeling_session = create_labeling_session(
        name="quickstart_review",
        label_schemas=[accuracy_schema.name, ideal_response_schema.name],
    )

    # Add your trace to the session
    # Get the most recent trace from the current experiment
    traces = mlflow.search_traces(
        max_results=1  # Gets the most recent trace
    )
    labeling_session.add_traces(traces)

    # Share with reviewers
    print(f"Trace sent for review!")
    print(f"Share this link with reviewers: {labeling_session.url}")
    print(json.dumps({
        "trace_id": trace_id,
        "searched": list(traces["trace_id"]),
        "literal_error": literal_error,
        "schemas": [accuracy_schema.schema_id, ideal_response_schema.schema_id],
        "session": {"name": labeling_session.name, "id": labeling_session.labeling_session_id,
                    "run_id": labeling_session.mlflow_run_id, "url": labeling_session.url,
                    "experiment_id": labeling_session.experiment_id,
                    "label_schemas": labeling_session.label_schemas},
    }))
""")

# Step 6's search, the read side of MLflow's labeling API, then cleanup through it.
STEP6 = textwrap.dedent("""\
    import json, sys
    import mlflow
    from mlflow.entities import Trace
    from mlflow.exceptions import MlflowException
    from mlflow.genai import label_schemas, labeling

    run_id = sys.argv[1]
    out = {}
    labeling_session = labeling.get_labeling_session(run_id)
    out["by_run_id"] = labeling_session.name
    out["all"] = sorted(s.name for s in labeling.get_labeling_sessions())

    # Get traces from the labeling session
    labeled_traces = mlflow.search_traces(
        run_id=labeling_session.mlflow_run_id,  # Labeling Sessions are MLflow Runs
    )
    # The DataFrame's `trace` column holds each Trace as JSON.
    traces = [Trace.from_json(t) if isinstance(t, str) else t for t in labeled_traces["trace"]]
    out["labeled"] = {
        t.info.trace_id: {a.name: (a.value, a.source.source_id, a.rationale) for a in t.info.assessments}
        for t in traces
    }
    out["row_count"] = len(labeled_traces)

    labeling_session.sync(to_dataset="quickstart_eval")

    schema = label_schemas.get_label_schema(schema_id="response_accuracy")
    out["schema"] = {"name": schema.name, "type": str(schema.type), "options": schema.input.options,
                     "enable_comment": schema.enable_comment}
    out["by_name"] = label_schemas.get_label_schema("expected_response", experiment_id="0").schema_id
    out["listed"] = [s.name for s in label_schemas.list_label_schemas()]

    try:
        label_schemas.create_label_schema(name="broken", type="feedback",
                                          input=label_schemas.InputCategorical(options=["a", "a"]))
    except MlflowException as e:
        out["bad_schema"] = {"code": e.error_code, "message": e.message}
    try:
        label_schemas.delete_label_schema(schema_id="response_accuracy")
        out["delete_in_use"] = "deleted"
    except MlflowException as e:
        out["delete_in_use"] = e.error_code

    labeling.delete_labeling_session(labeling_session)
    label_schemas.delete_label_schema(schema_id="response_accuracy")
    out["after_delete"] = {"sessions": [s.name for s in labeling.get_labeling_sessions()],
                           "schemas": [s.name for s in label_schemas.list_label_schemas()]}
    try:
        labeling.get_labeling_session(run_id)
    except MlflowException as e:
        out["gone"] = e.error_code
    print(json.dumps(out))
""")


def run_client(tf, code, *args, **credentials):
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update(MLFLOW_TRACKING_URI=tf.url, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false", **credentials)
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    return out.stdout, json.loads(out.stdout.strip().splitlines()[-1])


def routes_answer(tf, headers=None):
    r = requests.get(f"{tf.url}/api/3.0/mlflow/label-schemas/list", headers=headers, timeout=5)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def secured():
    """tracefeed with authentication: the expert's token is the reviewer, as in production."""
    tf = start_tracefeed(http_yaml=f'auth_tokens: [{{user: "{EXPERT}", token: "{EXPERT_TOKEN}"}}]')
    try:
        routes_answer(tf, {"Authorization": f"Bearer {EXPERT_TOKEN}"})
        yield tf
    finally:
        stop_tracefeed(tf)


def test_quickstart_step5_and_6_with_mlflows_labeling_api(secured):
    tf = secured
    auth = {"Authorization": f"Bearer {EXPERT_TOKEN}"}
    printed, step5 = run_client(tf, STEP5, MLFLOW_TRACKING_TOKEN=EXPERT_TOKEN)

    # What the quickstart's literal create_label_schema(title=..., overwrite=True) does: refused by
    # the OSS client itself.
    assert "`title` is only supported on a Databricks tracking URI" in step5["literal_error"]
    assert step5["schemas"] == ["response_accuracy", "expected_response"]
    session = step5["session"]
    assert session["name"] == "quickstart_review"
    assert session["label_schemas"] == ["response_accuracy", "expected_response"]
    assert session["experiment_id"] == "0"
    assert len(session["run_id"]) == 32
    assert session["url"] == f"{tf.url}/#/review/{session['id']}"
    assert f"Share this link with reviewers: {session['url']}" in printed
    assert step5["searched"] == [step5["trace_id"]]
    trace_id = step5["trace_id"]

    # The session holds the trace; the expert (authenticated by the token) claims and submits.
    base = f"{tf.url}/api/v1/labeling-sessions/{session['id']}"
    items = requests.get(f"{base}/items", headers=auth, timeout=5).json()["items"]
    assert [(i["trace_id"], i["status"], i["source"]) for i in items] == [(trace_id, "pending", "api")]
    claim = requests.post(f"{base}/claim", headers=auth, timeout=5)
    assert claim.status_code == 200, claim.text
    assert claim.json()["trace_id"] == trace_id
    done = requests.post(f"{base}/items/{trace_id}/submit", headers=auth, timeout=10, json={
        "lease_token": claim.json()["lease"]["token"],
        "labels": {"response_accuracy": "Partially Accurate", "expected_response": IDEAL},
        "comments": {"response_accuracy": "Correct but misses Projects and the Model Registry"}})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    def joined():
        r = requests.get(f"{tf.url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, headers=auth,
                         timeout=5)
        names = {a["assessment_name"] for a in r.json()["trace"]["trace_info"].get("assessments", [])} \
            if r.status_code == 200 else set()
        return {"response_accuracy", "expected_response"} <= names

    tf.wait_until(joined, what="the expert's assessments on the trace")

    # Step 6 and the rest of MLflow's labeling API, with Basic credentials this time.
    _, step6 = run_client(tf, STEP6, session["run_id"],
                          MLFLOW_TRACKING_USERNAME=EXPERT, MLFLOW_TRACKING_PASSWORD=EXPERT_TOKEN)
    assert step6["by_run_id"] == "quickstart_review"
    assert step6["all"] == ["quickstart_review"]
    assert step6["row_count"] == 1
    labeled = step6["labeled"][trace_id]
    assert labeled["response_accuracy"] == ["Partially Accurate", EXPERT,
                                            "Correct but misses Projects and the Model Registry"]
    assert labeled["expected_response"][:2] == [IDEAL, EXPERT]
    assert labeled["user_feedback"][:2] == [False, "enduser_123"]
    assert step6["schema"] == {"name": "response_accuracy", "type": "feedback",
                               "options": ["Accurate", "Partially Accurate", "Inaccurate"], "enable_comment": True}
    assert step6["by_name"] == "expected_response"
    assert step6["listed"] == ["expected_response", "response_accuracy"]
    # A bad schema through MLflow's route: a 400 naming the field, as MLflow's error code.
    assert step6["bad_schema"]["code"] == "INVALID_PARAMETER_VALUE"
    assert "input.categorical.options[1]: duplicate option" in step6["bad_schema"]["message"]
    assert step6["delete_in_use"] == "RESOURCE_CONFLICT"
    assert step6["after_delete"] == {"sessions": [], "schemas": ["expected_response"]}
    assert step6["gone"] == "RESOURCE_DOES_NOT_EXIST"

    # sync(to_dataset=...) made an evaluation dataset with the expert's expected_response.
    def synced():
        r = requests.get(f"{tf.url}/api/v1/datasets/quickstart_eval/records", headers=auth, timeout=5)
        if r.status_code != 200:
            return None
        records = [json.loads(line) for line in r.text.splitlines() if line.strip()]  # JSONL
        return [rec for rec in records if rec["source"]["source_data"]["trace_id"] == trace_id]

    records = tf.wait_until(synced, what="the synced dataset record")
    assert records[0]["expectations"]["expected_response"] == IDEAL


def test_errors_are_clear(secured):
    tf = secured
    auth = {"Authorization": f"Bearer {EXPERT_TOKEN}"}
    bad = requests.post(f"{tf.url}/api/3.0/mlflow/label-schemas/create", headers=auth, timeout=5, json={
        "experiment_id": "0", "name": "score", "type": "FEEDBACK", "input": {"numeric": {"min_value": 5, "max_value": 1}}})
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert bad.json()["message"].startswith("input.numeric.max_value:"), bad.text
    # No credentials: MLflow's 401 from the schema route, and the plugin's store says the same.
    assert requests.get(f"{tf.url}/api/3.0/mlflow/label-schemas/list", timeout=5).status_code == 401
    code = textwrap.dedent("""\
        import json
        from mlflow.exceptions import MlflowException
        from mlflow.genai import labeling
        out = {}
        try:
            labeling.get_labeling_sessions()
        except MlflowException as e:
            out["no_token"] = e.error_code
        print(json.dumps(out))
    """)
    _, out = run_client(tf, code)
    assert out["no_token"] == "UNAUTHENTICATED"
    # What tracefeed's sessions cannot do is refused by name.
    code = textwrap.dedent("""\
        import json
        from mlflow.exceptions import MlflowException
        from mlflow.genai import labeling
        out = {}
        for kwargs in ({"agent": "my-agent"}, {"label_schemas": ["nope"]}):
            try:
                labeling.create_labeling_session(name="s", **kwargs)
            except MlflowException as e:
                out[next(iter(kwargs))] = e.message
        print(json.dumps(out))
    """)
    _, out = run_client(tf, code, MLFLOW_TRACKING_TOKEN=EXPERT_TOKEN)
    assert out["agent"].startswith("agent: not supported"), out
    assert "label_schemas[0]" in out["label_schemas"], out


def test_quickstart_literal_create_label_schema_through_the_plugin(secured):
    """The quickstart's create_label_schema(title=..., overwrite=True) as written, with the import
    taken from tracefeed_mlflow instead of mlflow.genai.label_schemas: it goes to tracefeed's own
    POST /api/v1/label-schemas, which has title and overwrite, so the step can be re-run."""
    code = textwrap.dedent("""\
        import json
        from mlflow.genai.label_schemas import InputCategorical, InputText, InputTextList
        from tracefeed_mlflow import create_label_schema, get_label_schema, delete_label_schema

        for _ in range(2):  # overwrite=True: running the step again replaces the schemas
            accuracy_schema = create_label_schema(
                name="literal_accuracy",
                type="feedback",
                title="Is the response factually accurate?",
                input=InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]),
                overwrite=True
            )
            ideal_response_schema = create_label_schema(
                name="literal_expected",
                type="expectation",
                title="What would be the ideal response?",
                input=InputText(),
                overwrite=True
            )
        facts = create_label_schema(name="literal_facts", type="expectation", title="Key facts",
                                    input=InputTextList(max_count=5))
        got = get_label_schema("literal_facts")
        delete_label_schema("literal_facts")
        print(json.dumps({"names": [accuracy_schema.name, ideal_response_schema.name],
                          "ids": [accuracy_schema.schema_id, ideal_response_schema.schema_id],
                          "facts": [type(got.input).__name__, got.input.max_count]}))
    """)
    _, out = run_client(secured, code, MLFLOW_TRACKING_TOKEN=EXPERT_TOKEN)
    assert out == {"names": ["literal_accuracy", "literal_expected"],
                   "ids": ["literal_accuracy", "literal_expected"], "facts": ["InputTextList", 5]}
    auth = {"Authorization": f"Bearer {EXPERT_TOKEN}"}
    native = requests.get(f"{secured.url}/api/v1/label-schemas/literal_accuracy", headers=auth, timeout=5).json()
    assert native["title"] == "Is the response factually accurate?"
    assert requests.get(f"{secured.url}/api/v1/label-schemas/literal_facts", headers=auth,
                        timeout=5).status_code == 404
