"""Quickstart step 6 in the browser (issue #7): Labeling → Evaluations starts a run on a labeling
session with the deterministic scorers (`exact_match`, and `correctness`, which falls back to
token recall without a judge), follows it to `done`, shows its aggregates and one row per record
linked to the trace. And a server without the evaluator gets a clear "not available" state.
"""
import http.server
import json
import os
import threading
import uuid

import pytest
import requests

from conftest import start_tracefeed, stop_tracefeed
from test_traces_ui import send_quickstart_trace
from ui_helpers import check_accessibility, screenshot

# The quickstart trace's root span answers "MLflow is an open-source platform".
MATCHING = "MLflow is an open-source platform"  # exact_match yes, correctness yes
DIFFERENT = "MLflow is a platform for the ML lifecycle"  # recall 3/6 of the reference: no, no


@pytest.fixture(scope="module")
def tracefeed():
    # No judge: correctness must take its documented deterministic fallback, whatever the
    # environment of the person running the tests holds.
    saved = os.environ.pop("OPENAI_API_KEY", None)
    tf = start_tracefeed()
    try:
        yield tf
    finally:
        stop_tracefeed(tf)
        if saved is not None:
            os.environ["OPENAI_API_KEY"] = saved


def send_expectation(tf, trace_id: str, expected: str) -> None:
    r = requests.post(tf.url + "/api/v1/events", timeout=10, json=[{
        "type": "assessment",
        "assessment": {
            "assessment_name": "expected_response",
            "trace_id": trace_id,
            "source": {"source_type": "HUMAN", "source_id": "expert_1"},
            "expectation": {"value": expected},
        },
    }])
    assert r.status_code == 202, r.text
    tf.wait_until(
        lambda: "expected_response" in requests.get(f"{tf.url}/api/3.0/mlflow/traces/{trace_id}", timeout=5).text,
        what="the expectation joined to its trace",
    )


def labeled_session(tf, traces: dict[str, str]) -> tuple[str, str]:
    """A labeling session holding the traces, each with its expert's expected_response."""
    suffix = uuid.uuid4().hex[:6]
    r = requests.post(f"{tf.url}/api/v1/label-schemas", timeout=5, json={
        "name": f"expected_response_{suffix}", "type": "expectation", "title": "What would be the ideal response?",
        "input": {"text": {}}})
    assert r.status_code == 201, r.text
    r = requests.post(f"{tf.url}/api/v1/labeling-sessions", timeout=5, json={
        "name": f"eval_review_{suffix}", "label_schemas": [f"expected_response_{suffix}"]})
    assert r.status_code == 201, r.text
    session_id, name = r.json()["labeling_session_id"], f"eval_review_{suffix}"
    for trace_id, expected in traces.items():
        send_quickstart_trace(tf, trace_id, thumbs_up=False)
        send_expectation(tf, trace_id, expected)
    r = requests.post(f"{tf.url}/api/v1/labeling-sessions/{session_id}/items", json={"trace_ids": list(traces)}, timeout=5)
    assert r.ok, r.text
    return session_id, name


def test_evaluation_run_on_a_labeling_session(tracefeed, page):
    tf = tracefeed
    listed = requests.get(tf.url + "/api/v1/evaluations", timeout=5)
    assert listed.status_code == 200, f"GET /api/v1/evaluations: the evaluator is not wired into `tracefeed run`: {listed.text}"

    good, bad = "tr-" + uuid.uuid4().hex, "tr-" + uuid.uuid4().hex
    session_id, session = labeled_session(tf, {good: MATCHING, bad: DIFFERENT})

    # From the session's "Evaluate" button: the form comes with the session chosen.
    page.goto(tf.url + "/#/labeling/sessions")
    page.get_by_role("link", name=f"Evaluate {session}").click()
    form = page.get_by_role("form", name="Start evaluation")
    form.wait_for()
    assert form.get_by_label("Labeling session").input_value() == session_id
    form.get_by_role("checkbox", name="exact_match").check()
    assert form.get_by_role("checkbox", name="correctness").is_checked()
    run_name = f"ui_{uuid.uuid4().hex[:6]}"
    form.get_by_label("Run name (optional)").fill(run_name)
    form.get_by_role("button", name="Start evaluation").click()

    # The run's page follows it until it is done.
    run = page.locator(".evaluation-run")
    run.wait_for()
    page.locator('.evaluation-run[data-status="done"]').wait_for(timeout=60_000)
    assert run_name in page.get_by_role("heading", level=2).first.inner_text()
    page.get_by_role("progressbar", name="Records scored").wait_for()
    assert page.get_by_role("progressbar").get_attribute("aria-valuetext") == "2 of 2 records"

    # Aggregates: one yes and one no for each scorer.
    for scorer in ("correctness", "exact_match"):
        row = page.locator(f'table.aggregates tr[data-scorer="{scorer}"]')
        assert row.locator(f'[data-metric="{scorer}/mean"]').inner_text().strip() == "50 %", row.inner_text()
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        assert cells[1:5] == ["2", "1", "1", ""], cells  # scored, yes, no, min
    # The no-judge fallback is stated, not hidden.
    assert "correctness" in page.locator(".warning").first.inner_text()

    # One row per record, scores shown, linked to its trace.
    good_row = page.locator(f'table.results tr[data-trace-id="{good}"]')
    bad_row = page.locator(f'table.results tr[data-trace-id="{bad}"]')
    assert good_row.locator('td[data-scorer="exact_match"] .badge').inner_text() == "yes"
    assert bad_row.locator('td[data-scorer="exact_match"] .badge').inner_text() == "no"
    correctness = bad_row.locator('td[data-scorer="correctness"]')
    assert "fallback" in correctness.inner_text() and "recall" in correctness.inner_text(), correctness.inner_text()
    assert DIFFERENT in bad_row.inner_text()
    screenshot(page, "evaluation_run")
    check_accessibility(page, "an evaluation run")

    # The list shows the run, done, with its means.
    page.get_by_role("link", name="← Evaluation runs").click()
    listed_row = page.locator("table.evaluations tbody tr").filter(has_text=run_name)
    listed_row.wait_for()
    assert "done" in listed_row.inner_text() and "2 / 2" in listed_row.inner_text()
    assert "50 %" in listed_row.locator('.mean[data-scorer="exact_match"]').inner_text()
    screenshot(page, "evaluations")
    check_accessibility(page, "the evaluation runs")

    # The record link opens the trace, where the score arrives as an assessment (via Kafka).
    listed_row.get_by_role("link", name=run_name).click()
    bad_row.wait_for()
    link = bad_row.get_by_role("link", name=bad[:11])
    assert link.get_attribute("href") == f"#/traces/{bad}"
    link.click()
    page.get_by_role("heading", name=f"Trace {bad}").wait_for()
    assert page.url.endswith(f"#/traces/{bad}")

    def scored():
        info = requests.get(f"{tf.url}/api/3.0/mlflow/traces/{bad}", timeout=5).json()["trace"]["trace_info"]
        return [a for a in info.get("assessments", []) if a["assessment_name"] == "exact_match"]

    assert tf.wait_until(scored, what="the exact_match score on the trace")[0]["feedback"]["value"] == "no"


class GatedApp(http.server.ThreadingHTTPServer):
    """The app behind predict_url: answers each record only once the test opens the gate, so the
    run is seen while it runs."""

    def __init__(self):
        self.gate = threading.Event()
        self.calls = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(h):  # noqa: N805
                h.rfile.read(int(h.headers.get("Content-Length", "0")))
                self.calls += 1
                self.gate.wait(60)
                body = json.dumps(DIFFERENT).encode()
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)

            def log_message(h, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/predict"


def test_a_running_evaluation_shows_its_progress(tracefeed, page):
    tf = tracefeed
    first, second = "tr-" + uuid.uuid4().hex, "tr-" + uuid.uuid4().hex
    traces = {first: MATCHING, second: DIFFERENT}
    session_id, session = labeled_session(tf, traces)
    app = GatedApp()
    try:
        page.goto(f"{tf.url}/#/labeling/evaluations?session={session_id}")
        form = page.get_by_role("form", name="Start evaluation")
        form.get_by_role("checkbox", name="exact_match").check()
        form.get_by_label("Predict URL").fill(app.url)
        form.get_by_role("button", name="Start evaluation").click()

        page.locator('.evaluation-run[data-status="running"]').wait_for()
        tf.wait_until(lambda: app.calls >= 1, what="the run to call the app")
        assert page.get_by_role("progressbar").get_attribute("aria-valuetext") == "0 of 2 records"
        page.get_by_text("Results appear as records are scored.").wait_for()
        screenshot(page, "evaluation_running")
        check_accessibility(page, "a running evaluation")

        app.gate.set()
        page.locator('.evaluation-run[data-status="done"]').wait_for(timeout=60_000)
        # The app, re-run, answered DIFFERENT for both: now the second record matches, the first not.
        row = page.locator('table.aggregates tr[data-scorer="exact_match"]')
        assert row.locator('[data-metric="exact_match/mean"]').inner_text().strip() == "50 %"
        for trace_id, verdict in ((first, "no"), (second, "yes")):
            record = page.locator(f'table.results tr[data-trace-id="{trace_id}"]')
            assert record.locator('td[data-scorer="exact_match"] .badge').inner_text() == verdict
            assert "re-run" in record.inner_text()
    finally:
        app.gate.set()
        app.shutdown()


def test_a_filter_as_the_source(tracefeed, page):
    """Records from a search filter: checked by the server's parser as it is typed (the column
    named), then searched when the run starts."""
    tf = tracefeed
    trace_id = "tr-" + uuid.uuid4().hex
    send_quickstart_trace(tf, trace_id, thumbs_up=False)
    send_expectation(tf, trace_id, MATCHING)
    page.goto(tf.url + "/#/labeling/evaluations")
    form = page.get_by_role("form", name="Start evaluation")
    form.get_by_label("Records from").select_option("filter")
    form.get_by_label("Filter", exact=True).fill("feedback.user_feedback = = false")
    alert = form.get_by_role("alert")
    alert.wait_for()
    assert "column" in alert.inner_text(), alert.inner_text()
    assert form.get_by_role("button", name="Start evaluation").is_disabled()
    form.get_by_label("Filter", exact=True).fill("feedback.user_feedback = false AND trace.timestamp_ms > 0")
    form.get_by_text("✓ valid filter").wait_for()
    form.get_by_role("checkbox", name="correctness").uncheck()
    form.get_by_role("checkbox", name="exact_match").check()
    form.get_by_role("button", name="Start evaluation").click()
    page.locator('.evaluation-run[data-status="done"]').wait_for(timeout=60_000)
    assert "filter feedback.user_feedback = false" in page.locator("dl.kv").inner_text()
    page.locator(f'table.results tr[data-trace-id="{trace_id}"] td[data-scorer="exact_match"]').get_by_text("yes").wait_for()


def test_evaluations_without_the_evaluator(tracefeed, page):
    """A server that has no evaluations route (404 "no route for …") gets a clear state, not an
    error. The 404 is the HTTP layer's own answer, replayed for this page only."""
    body = '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no route for GET /api/v1/evaluations"}'
    page.route("**/api/v1/evaluations*", lambda route: route.fulfill(status=404, content_type="application/json", body=body))
    page.goto(tracefeed.url + "/#/labeling/evaluations")
    note = page.get_by_role("status").filter(has_text="evaluation API is not available on this server")
    note.wait_for()
    assert page.get_by_role("form", name="Start evaluation").count() == 0
    assert page.get_by_role("alert").count() == 0
    screenshot(page, "evaluations_unavailable")
    check_accessibility(page, "the evaluations page without the evaluator")
