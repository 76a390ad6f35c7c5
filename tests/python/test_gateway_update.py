"""mlflow.update_assessment against `tracefeed run` returns the full updated assessment, as an
MLflow tracking server does: the stored fields the update did not touch (source, create_time,
rationale, metadata) come back with it, and what the join then stores is what the client was told.
"""
import os
import uuid

import pytest

from conftest import start_tracefeed, stop_tracefeed

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType, Expectation, Feedback  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


@pytest.fixture(scope="module")
def tracefeed_uri():
    tf = start_tracefeed()
    old_uri = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = tf.url
    mlflow.set_tracking_uri(tf.url)
    try:
        yield tf
    finally:
        if old_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_uri
        stop_tracefeed(tf)


@mlflow.trace
def answer(question: str) -> str:
    return "MLflow has Tracking, Projects, Models and the Model Registry."


def _logged_feedback(tf):
    answer("What is MLflow?")
    tid = mlflow.get_last_active_trace_id()
    fb = mlflow.log_feedback(
        trace_id=tid,
        name="helpfulness",
        value=2,
        rationale="too short",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_" + uuid.uuid4().hex[:6]),
        metadata={"ticket": "42"},
    )
    # The update's reply merges onto what the join stored: wait until it has the assessment.
    tf.wait_until(lambda: _stored(tid, fb.assessment_id), what="the assessment to be joined")
    return tid, fb


def _stored(trace_id, assessment_id):
    try:
        return mlflow.get_assessment(trace_id, assessment_id)
    except MlflowException:
        return None


def test_update_assessment_returns_the_full_updated_assessment(tracefeed_uri):
    tid, fb = _logged_feedback(tracefeed_uri)
    updated = mlflow.update_assessment(trace_id=tid, assessment_id=fb.assessment_id,
                                       assessment=Feedback(name="helpfulness", value=4))
    assert updated.assessment_id == fb.assessment_id
    assert updated.trace_id == tid
    assert updated.name == "helpfulness"
    assert updated.value == 4
    # Not in the update: as stored.
    assert updated.rationale == "too short"
    assert updated.metadata == {"ticket": "42"}
    assert updated.source.source_type == AssessmentSourceType.HUMAN
    assert updated.source.source_id == fb.source.source_id
    assert updated.create_time_ms == fb.create_time_ms
    assert updated.last_update_time_ms >= fb.last_update_time_ms
    assert updated.valid is True

    # What the join applies is what the client was told.
    stored = tracefeed_uri.wait_until(
        lambda: (s := _stored(tid, fb.assessment_id)) is not None and s.value == 4 and s, what="the update to be joined")
    assert stored.to_dictionary() == updated.to_dictionary()


def test_update_cannot_turn_a_feedback_into_an_expectation(tracefeed_uri):
    tid, fb = _logged_feedback(tracefeed_uri)
    with pytest.raises(MlflowException) as err:
        mlflow.update_assessment(trace_id=tid, assessment_id=fb.assessment_id,
                                 assessment=Expectation(name="helpfulness", value="x"))
    assert "cannot change its kind" in str(err.value)
    assert _stored(tid, fb.assessment_id).value == 2
