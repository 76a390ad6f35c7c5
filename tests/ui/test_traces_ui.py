"""Quickstart steps 3–4 in the browser: a thumbs-down trace shows in the Traces table with its
feedback column; a developer adds an assessment on a span and it appears after refresh."""
import re
import uuid

import requests

from ui_helpers import check_accessibility, screenshot


def new_trace_id() -> str:
    return "tr-" + uuid.uuid4().hex


def send_quickstart_trace(tf, trace_id: str, thumbs_up: bool) -> None:
    root, retr = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    events = [
        {
            "type": "trace",
            "trace": {
                "trace_info": {
                    "trace_id": trace_id,
                    "request_time": "2026-11-27T08:00:00Z",
                    "execution_duration": "1.250s",
                    "state": "OK",
                    "request_preview": "What is MLflow?",
                    "response_preview": "MLflow is an open-source platform",
                },
                "spans": [
                    {"span_id": root, "name": "my_chatbot", "span_type": "CHAIN",
                     "start_time_unix_nano": 1795766400000000000, "end_time_unix_nano": 1795766401250000000,
                     "inputs": {"user_question": "What is MLflow?"}, "outputs": "MLflow is an open-source platform"},
                    {"span_id": retr, "parent_span_id": root, "name": "retrieve_context", "span_type": "RETRIEVER",
                     "start_time_unix_nano": 1795766400100000000, "end_time_unix_nano": 1795766400300000000,
                     "inputs": {"query": "What is MLflow?"},
                     "outputs": [{"page_content": "MLflow is an open-source platform for the ML lifecycle."}]},
                ],
            },
        },
        {
            "type": "assessment",
            "assessment": {
                "assessment_name": "user_feedback",
                "trace_id": trace_id,
                "source": {"source_type": "HUMAN", "source_id": "enduser_123"},
                "feedback": {"value": thumbs_up},
                "rationale": "Missing details about MLflow's key features like Projects and Model Registry",
            },
        },
    ]
    r = requests.post(tf.url + "/api/v1/events", json=events, timeout=10)
    assert r.status_code == 202, r.text
    tf.wait_until(
        lambda: "user_feedback" in requests.get(f"{tf.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5).text,
        what="the feedback joined to its trace",
    )


def test_thumbs_down_shows_in_the_traces_table(tracefeed, page):
    trace_id = new_trace_id()
    send_quickstart_trace(tracefeed, trace_id, thumbs_up=False)
    page.goto(tracefeed.url + "/")
    row = page.locator(f'tr[data-trace-id="{trace_id}"]')
    row.wait_for()
    assert "What is MLflow?" in row.inner_text()
    # One column per assessment name, booleans as thumbs.
    page.get_by_role("columnheader", name="user_feedback").wait_for()
    assert row.get_by_label("user_feedback: thumbs down").count() == 1
    screenshot(page, "traces")
    check_accessibility(page, "the Traces page")

    # The search grammar as the filter; a bad filter is explained inline, with its column.
    page.get_by_label("Filter").fill("feedback.user_feedback = = false")
    page.get_by_label("Filter").press("Enter")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert re.search(r"column \d+", alert.inner_text()), alert.inner_text()
    page.get_by_label("Filter").fill("feedback.user_feedback = false")
    page.get_by_label("Filter").press("Enter")
    row.wait_for()


def test_developer_annotation_on_a_span(tracefeed, page):
    trace_id = new_trace_id()
    send_quickstart_trace(tracefeed, trace_id, thumbs_up=True)
    page.goto(f"{tracefeed.url}/#/traces/{trace_id}")
    page.get_by_role("button", name=re.compile("retrieve_context")).click()
    form = page.get_by_role("form", name="Add assessment")
    form.get_by_label("Name", exact=True).fill("accuracy_score")
    form.get_by_label("On", exact=True).select_option(label="span retrieve_context")
    form.get_by_label("Value type", exact=True).select_option("number")
    form.get_by_label("Value", exact=True).fill("0.8")
    form.get_by_label("Rationale", exact=True).fill("Context is right but thin")
    form.get_by_role("button", name="Add assessment").click()

    # It goes through Kafka and the join; it is there after a refresh.
    item = page.locator('li.assessment[data-assessment-name="accuracy_score"]')
    for _ in range(50):
        page.reload()
        page.get_by_role("heading", name=re.compile("Trace")).first.wait_for()
        if item.count():
            break
        page.wait_for_timeout(200)  # poll interval between refreshes
    assert item.count() == 1
    text = item.inner_text()
    assert "0.8" in text and "Context is right but thin" in text and "span" in text
    screenshot(page, "trace_view")
    check_accessibility(page, "the trace view")

    stored = requests.get(f"{tracefeed.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5).json()
    names = {a["assessment_name"]: a for a in stored["trace"]["trace_info"]["assessments"]}
    assert names["accuracy_score"]["feedback"]["value"] == 0.8
    assert names["accuracy_score"].get("span_id")
