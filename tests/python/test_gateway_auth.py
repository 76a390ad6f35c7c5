"""http.auth_tokens with the real MLflow client: MLFLOW_TRACKING_TOKEN (Bearer) and
MLFLOW_TRACKING_USERNAME/PASSWORD (Basic, the token as password) against `tracefeed run`;
401 UNAUTHENTICATED without them; health, readiness and metrics stay open; a token_env whose
variable is unset stops tracefeed at start, naming it.
"""
import os
import re
import uuid

import pytest
import requests

from conftest import start_tracefeed, stop_tracefeed

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

ALICE_TOKEN = "alice-" + uuid.uuid4().hex
BOB_TOKEN = "bob-" + uuid.uuid4().hex
CREDENTIAL_VARS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


@pytest.fixture(scope="module")
def secured():
    tf = start_tracefeed(
        http_yaml=(
            f'auth_tokens: [{{user: alice, token: "{ALICE_TOKEN}"}}, '
            "{user: bob, token_env: TRACEFEED_TEST_BOB_TOKEN}]"
        ),
        env={"TRACEFEED_TEST_BOB_TOKEN": BOB_TOKEN},
    )
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI",) + CREDENTIAL_VARS}
    os.environ["MLFLOW_TRACKING_URI"] = tf.url
    mlflow.set_tracking_uri(tf.url)
    try:
        yield tf
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        stop_tracefeed(tf)


@pytest.fixture
def credentials():
    """Sets MLflow credential variables for one test and removes them afterwards."""

    def use(**values):
        for k in CREDENTIAL_VARS:
            os.environ.pop(k, None)
        os.environ.update(values)

    yield use
    for k in CREDENTIAL_VARS:
        os.environ.pop(k, None)


@mlflow.trace
def answer(question: str) -> str:
    return "MLflow is an open-source platform for the machine learning lifecycle."


def test_api_without_credentials_is_401_with_a_challenge(secured):
    tid = "tr-" + uuid.uuid4().hex
    for method, path, body in [
        ("GET", f"/api/3.0/mlflow/traces/{tid}", None),
        ("POST", f"/api/3.0/mlflow/traces/{tid}/assessments",
         {"assessment": {"assessment_name": "x", "feedback": {"value": True}}}),
        ("POST", "/api/v1/events", [{"type": "assessment", "assessment": {
            "assessment_name": "x", "trace_id": tid, "feedback": {"value": True}}}]),
        ("POST", "/api/v1/no-such-route", {}),
    ]:
        r = requests.request(method, secured.url + path, json=body, timeout=10)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["error_code"] == "UNAUTHENTICATED"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = requests.post(secured.url + "/v1/traces", data=b"", headers={"Content-Type": "application/x-protobuf"}, timeout=10)
    assert r.status_code == 401
    wrong = requests.get(f"{secured.url}/api/3.0/mlflow/traces/{tid}", headers={"Authorization": "Bearer " + ALICE_TOKEN[:-1]},
                         timeout=10)
    assert wrong.status_code == 401
    assert ALICE_TOKEN[:-1] not in wrong.text


def test_health_readiness_and_metrics_stay_open(secured):
    for path in ("/healthz", "/readyz"):
        assert requests.get(secured.url + path, timeout=10).status_code == 200, path
    metrics = requests.get(secured.url + "/metrics", timeout=10)
    assert metrics.status_code != 401


def test_mlflow_client_with_a_tracking_token(secured, credentials):
    credentials(MLFLOW_TRACKING_TOKEN=ALICE_TOKEN)
    answer("What is MLflow?")  # StartTraceV3 + spans over OTLP, both with the token
    tid = mlflow.get_last_active_trace_id()
    fb = mlflow.log_feedback(
        trace_id=tid,
        name="user_feedback",
        value=False,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    assert re.fullmatch(r"a-[0-9a-f]{32}", fb.assessment_id)
    stored = mlflow.get_assessment(tid, fb.assessment_id)
    assert stored.value is False
    trace = secured.wait_until(lambda: _trace_with_spans(secured.url, tid, ALICE_TOKEN), what="the trace's spans")
    assert any(s["name"] == "answer" for s in trace["trace"]["spans"])

    credentials()  # no credentials: the client gets the 401 as an MlflowException
    with pytest.raises(MlflowException) as err:
        mlflow.log_feedback(trace_id=tid, name="user_feedback", value=True)
    assert "UNAUTHENTICATED" in str(err.value) or "401" in str(err.value)


def test_mlflow_client_with_username_and_token_as_password(secured, credentials):
    credentials(MLFLOW_TRACKING_USERNAME="bob", MLFLOW_TRACKING_PASSWORD=BOB_TOKEN)  # bob's token came from token_env
    tid = "tr-" + uuid.uuid4().hex
    ex = mlflow.log_expectation(trace_id=tid, name="expected_response", value="Tracking and the Model Registry")
    assert ex.assessment_id
    assert mlflow.get_assessment(tid, ex.assessment_id).value == "Tracking and the Model Registry"

    credentials(MLFLOW_TRACKING_USERNAME="alice", MLFLOW_TRACKING_PASSWORD=BOB_TOKEN)
    with pytest.raises(MlflowException):
        mlflow.log_expectation(trace_id=tid, name="expected_response", value="x")


def test_unset_token_env_is_a_startup_error_naming_it():
    os.environ.pop("TRACEFEED_TEST_UNSET_TOKEN", None)
    try:
        tf = start_tracefeed(http_yaml="auth_tokens: [{user: carol, token_env: TRACEFEED_TEST_UNSET_TOKEN}]")
    except RuntimeError as err:
        assert "TRACEFEED_TEST_UNSET_TOKEN" in str(err)
    else:
        stop_tracefeed(tf)  # never leave a server behind
        pytest.fail("tracefeed started although the token_env variable is unset")


def _trace_with_spans(url, trace_id, token):
    r = requests.get(f"{url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id},
                     headers={"Authorization": "Bearer " + token}, timeout=10)
    if r.status_code != 200:
        return None
    body = r.json()
    return body if body.get("trace", {}).get("spans") else None
