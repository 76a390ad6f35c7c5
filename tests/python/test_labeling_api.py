"""The labeling API of `tracefeed run` (sinks/labeling, issue #5) from the outside: label schemas and
sessions created at run time, items added by trace id and by search filter, and a kill -9 in the
middle of a review — the lease granted before the crash is not granted again afterwards, and the
reviewer who holds it can still submit.
"""
import os
import pathlib
import re
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BINARY, Tracefeed

TRACES = ["tr-" + format(i, "032x") for i in range(1, 6)]


def start(workdir: pathlib.Path) -> Tracefeed:
    """`tracefeed run` over a given state directory (conftest's helper makes a fresh one each time)."""
    config = workdir / "tracefeed.yaml"
    if not config.exists():
        config.write_text(
            "kafka: {brokers: embedded, partitions: 2}\n"
            f"state: {{dir: \"{workdir / 'state'}\"}}\n"
            "http: {listen: \"127.0.0.1:0\"}\n")
    proc = subprocess.Popen([BINARY, "run", "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=open(workdir / "stderr.log", "ab"), text=True)
    deadline, url = time.monotonic() + 60, None
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"ready at (http://[0-9.]+:[0-9]+)", line)
        url = m.group(1) if m else None
    if url is None:
        proc.kill()
        raise RuntimeError("tracefeed did not start: " + (workdir / "stderr.log").read_text())
    tf = Tracefeed(url, proc, workdir)
    tf.wait_until(lambda: requests.get(url + "/readyz", timeout=2).status_code == 200, what="/readyz")
    return tf


@pytest.fixture(scope="module")
def workdir():
    return pathlib.Path(tempfile.mkdtemp(prefix="tracefeed-labeling-"))


def test_sessions_survive_kill_9_with_their_leases(workdir):
    tf = start(workdir)
    try:
        r = requests.post(f"{tf.url}/api/v1/label-schemas", timeout=5, json={
            "name": "safety", "type": "feedback", "title": "Is the answer safe?",
            "input": {"pass_fail": {"positive_label": "Safe", "negative_label": "Unsafe"}}})
        assert r.status_code == 201, r.text
        bad = requests.post(f"{tf.url}/api/v1/label-schemas", timeout=5, json={
            "name": "score", "type": "feedback", "title": "Score", "input": {"numeric": {"min_value": 5, "max_value": 1}}})
        assert bad.status_code == 400 and "input.numeric.max_value" in bad.json()["message"], bad.text
        r = requests.post(f"{tf.url}/api/v1/labeling-sessions", timeout=5, json={
            "name": "safety_review", "label_schemas": ["safety"], "assigned_users": ["alice", "bob"],
            "reviews_per_item": 2, "lease_duration": "10m"})
        assert r.status_code == 201, r.text
        session_id = r.json()["labeling_session_id"]
        base = f"{tf.url}/api/v1/labeling-sessions/{session_id}"
        added = requests.post(f"{base}/items", json={"trace_ids": TRACES + TRACES[:2]}, timeout=5).json()
        assert added == {"added": 5, "already_present": 2}
        assert requests.post(f"{base}/claim", json={"reviewer": "mallory"}, timeout=5).status_code == 403
        lease = requests.post(f"{base}/claim", json={"reviewer": "alice"}, timeout=5).json()
        assert lease["trace_id"] == TRACES[0]
    except BaseException:
        tf.proc.kill()
        raise

    tf.proc.send_signal(signal.SIGKILL)  # no clean shutdown
    tf.proc.wait(timeout=30)

    tf = start(workdir)
    try:
        base = f"{tf.url}/api/v1/labeling-sessions/safety_review"
        session = requests.get(base, timeout=5).json()
        assert session["labeling_session_id"] == session_id
        assert session["progress"] == {"total": 5, "pending": 4, "in_progress": 1, "completed": 0, "skipped": 0}
        # alice's lease is still hers: bob gets the next item, alice's token still works.
        assert requests.post(f"{base}/claim", json={"reviewer": "bob"}, timeout=5).json()["trace_id"] == TRACES[1]
        done = requests.post(f"{base}/items/{lease['trace_id']}/submit", timeout=10, json={
            "reviewer": "alice", "lease_token": lease["lease"]["token"], "labels": {"safety": "Unsafe"}})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "pending", "two reviews per item"
        stale = requests.post(f"{base}/items/{lease['trace_id']}/submit", timeout=10, json={
            "reviewer": "bob", "lease_token": lease["lease"]["token"], "labels": {"safety": "Safe"}})
        assert stale.status_code == 409, stale.text
    finally:
        tf.proc.send_signal(signal.SIGTERM)
        assert tf.proc.wait(timeout=30) == 0


def test_items_from_a_search_filter(workdir):
    tf = start(workdir)
    try:
        base = f"{tf.url}/api/v1/labeling-sessions/safety_review"
        r = requests.post(f"{base}/items", json={"filter": "trace.status = 'OK'"}, timeout=10)
        assert r.status_code == 200, r.text
        bad = requests.post(f"{base}/items", json={"filter": "trace.status =="}, timeout=10)
        assert bad.status_code == 400 and bad.json()["message"].startswith("filter"), bad.text
    finally:
        tf.proc.send_signal(signal.SIGTERM)
        assert tf.proc.wait(timeout=30) == 0
