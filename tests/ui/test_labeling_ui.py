"""Quickstart step 5 in the browser: a label schema and a labeling session created in the
Labeling page; a reviewer completes the item in the Review App with the keyboard only."""
import re
import uuid

import requests

from test_traces_ui import send_quickstart_trace
from ui_helpers import check_accessibility, screenshot


def test_schema_session_and_a_keyboard_only_review(tracefeed, page):
    tf = tracefeed
    suffix = uuid.uuid4().hex[:6]
    schema, session = f"accuracy_{suffix}", f"review_{suffix}"

    # A schema, from the form.
    page.goto(tf.url + "/#/labeling/schemas")
    form = page.get_by_role("form", name="Create label schema")
    form.get_by_label("Name", exact=True).fill(schema)
    form.get_by_label("Title (the question reviewers see)", exact=True).fill("Is the response factually accurate?")
    form.get_by_label("Options (one per line)", exact=True).fill("Accurate\nPartially Accurate\nInaccurate")
    form.get_by_role("button", name="Create schema").click()
    page.locator(f'tr[data-schema="{schema}"]').wait_for()
    screenshot(page, "labeling_schemas")
    check_accessibility(page, "the label schemas page")

    # A session using it.
    page.goto(tf.url + "/#/labeling/sessions")
    form = page.get_by_role("form", name="Create labeling session")
    form.get_by_label("Name", exact=True).fill(session)
    form.get_by_label(schema).check()
    form.get_by_role("button", name="Create session").click()
    item = page.locator(f'li[data-session="{session}"]')
    item.wait_for()

    # A thumbs-down trace, added to the session from the page.
    trace_id = "tr-" + uuid.uuid4().hex
    send_quickstart_trace(tf, trace_id, thumbs_up=False)
    add = page.get_by_role("form", name=f"Add traces to {session}")
    add.get_by_label("Trace ids or a filter").fill(trace_id)
    add.get_by_role("button", name="Add traces").click()
    tf.wait_until(lambda: "1 pending" in item.inner_text(), what="the item in the session")
    screenshot(page, "labeling_sessions")
    check_accessibility(page, "the labeling sessions page")

    # The Review App: sign in, then only the keyboard.
    item.get_by_role("link", name="Open Review App").click()
    page.get_by_label("Your name").fill("expert_1")
    page.get_by_label("Your name").press("Enter")
    page.get_by_text("What is MLflow?").first.wait_for()
    page.get_by_text("Missing details about MLflow").wait_for()  # the end-user feedback, shown
    page.get_by_text("MLflow is an open-source platform for the ML lifecycle.").wait_for()  # retrieved context
    screenshot(page, "review_app")
    check_accessibility(page, "the Review App")
    page.keyboard.press("3")  # Inaccurate
    assert page.get_by_role("radio", name=re.compile("Inaccurate")).is_checked()
    page.keyboard.press("Enter")
    page.get_by_text("Nothing is waiting for you").wait_for()
    screenshot(page, "review_app_done")

    def labelled():
        info = requests.get(f"{tf.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5).json()["trace"]["trace_info"]
        return [a for a in info.get("assessments", []) if a["assessment_name"] == schema]

    labels = tf.wait_until(labelled, what="the expert label joined to its trace")
    assert labels[0]["feedback"]["value"] == "Inaccurate"
    assert labels[0]["source"] == {"source_type": "HUMAN", "source_id": "expert_1"}


def test_dashboard_shows_live_figures(tracefeed, page):
    page.goto(tracefeed.url + "/#/dashboard")
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_text("Ingest rate (events/s)").wait_for()
    page.get_by_text("Review queues").wait_for()
    page.locator(".figure-value").first.wait_for()
    screenshot(page, "dashboard")
    check_accessibility(page, "the Dashboard")
