"""Fixtures for the Python e2e tests: a real `tracefeed run` process, on the embedded broker by
default or on a real Kafka broker (start_tracefeed(kafka_brokers=...), the `real_kafka` fixture).

The binary is build/bin/tracefeed (or $TRACEFEED_BINARY). Each test module gets its own
process, state directory and free port; the fixture waits for /readyz, never a fixed sleep.

The real broker (`real_kafka`, once per pytest session), first match wins — the same order as
kafka/tests/real_kafka.h:
  1. $TRACEFEED_TEST_KAFKA_BOOTSTRAP (an external broker);
  2. the ctest fixture's <build>/kafka-testbed/bootstrap (kafka_broker_start), or
     $TRACEFEED_KAFKA_TESTBED_DIR/bootstrap, when its broker is alive;
  3. scripts/kafka/start.sh into <build>/kafka-testbed-py, stopped with stop.sh at the end of the
     session — so `pytest tests/python/test_quickstart_real_kafka.py` by hand works too.
<build> is the directory above the binary's bin/.
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("TRACEFEED_BINARY", str(ROOT / "build" / "bin" / "tracefeed"))
BUILD_DIR = pathlib.Path(BINARY).resolve().parents[1]
KAFKA_SCRIPTS = ROOT / "scripts" / "kafka"

# The quickstart's review setup (step 5's label schemas and labeling session) as tracefeed config;
# tests add their own `rules:` (and `evaluation:`) after it.
QUICKSTART_REVIEW_YAML = """\
label_schemas:
  - name: response_accuracy
    type: feedback
    title: Is the response factually accurate?
    enable_comment: true
    input: {categorical: {options: [Accurate, Partially Accurate, Inaccurate]}}
  - name: expected_response
    type: expectation
    title: What would be the ideal response?
    input: {text: {}}
labeling_sessions:
  - name: quickstart_review
    label_schemas: [response_accuracy, expected_response]
"""

# Quickstart steps 1 and 2 as the page writes them, for a script run with the real mlflow client:
# the traced app answers "What is MLflow?" and the end user's thumbs-down is logged; leaves
# `trace_id` set.
QUICKSTART_STEPS_1_2 = """\
import mlflow
from mlflow.entities.assessment import AssessmentSource, AssessmentSourceType

@mlflow.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    return "MLflow is an open-source platform for managing the end-to-end machine learning lifecycle."

@mlflow.trace
def my_chatbot(user_question: str) -> str:
    return "MLflow is an open-source platform. (context: " + retrieve_context(user_question)[:20] + ")"

my_chatbot("What is MLflow?")
trace_id = mlflow.get_last_active_trace_id()
mlflow.log_feedback(trace_id=trace_id, name="user_feedback", value=False,
                    rationale="Missing details about MLflow's key features like Projects and Model Registry",
                    source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"))
"""


class Tracefeed:
    def __init__(self, url: str, proc: subprocess.Popen, workdir: pathlib.Path, ready_line: str = ""):
        self.url = url
        self.proc = proc
        self.workdir = workdir
        # "tracefeed (all roles) is ready at http://... (Kafka <bootstrap>[, embedded]). ..."
        self.ready_line = ready_line

    def wait_until(self, predicate, timeout=20.0, interval=0.05, what="condition"):
        """Polls predicate() until it returns a truthy value or the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def start_tracefeed(extra_yaml: str = "", http_yaml: str = "", env: dict | None = None,
                    kafka_brokers: str = "embedded", kafka_yaml: str = "",
                    ready_timeout: float = 60.0) -> Tracefeed:
    """http_yaml: more keys of the `http` flow mapping (e.g. "auth_tokens: [...]");
    env: extra environment variables for the process (e.g. a token_env's variable);
    kafka_brokers: kafka.brokers ("embedded", or a bootstrap list such as real_kafka's);
    kafka_yaml: more keys of the `kafka` flow mapping (e.g. "topic_prefix: x., exactly_once: true");
    ready_timeout: seconds to wait for the "ready at" line (a real broker creates topics first)."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="tracefeed-py-"))
    config = workdir / "tracefeed.yaml"
    http_extra = (", " + http_yaml) if http_yaml else ""
    kafka_extra = (", " + kafka_yaml) if kafka_yaml else ""
    config.write_text(
        f"kafka: {{brokers: \"{kafka_brokers}\", partitions: 2{kafka_extra}}}\n"
        f"state: {{dir: \"{workdir / 'state'}\"}}\n"
        f"http: {{listen: \"127.0.0.1:0\"{http_extra}}}\n" + extra_yaml
    )
    proc = subprocess.Popen(
        [BINARY, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=open(workdir / "stderr.log", "wb"),
        text=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + ready_timeout
    url = None
    ready_line = ""
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"ready at (http://[0-9.]+:[0-9]+)", line)
        if m:
            url = m.group(1)
            ready_line = line.strip()
    if url is None:
        proc.kill()
        proc.wait()
        raise RuntimeError("tracefeed did not start: " + (workdir / "stderr.log").read_text())
    tf = Tracefeed(url, proc, workdir, ready_line)
    tf.wait_until(lambda: requests.get(url + "/readyz", timeout=2).status_code == 200, what="/readyz")
    return tf


def stop_tracefeed(tf: Tracefeed) -> None:
    """Stops the process (it must exit 0) and removes its directory; a failed stop keeps the
    directory, whose stderr.log the assertion message also shows."""
    tf.proc.send_signal(signal.SIGTERM)
    try:
        assert tf.proc.wait(timeout=30) == 0, (tf.workdir / "stderr.log").read_text()
    finally:
        if tf.proc.poll() is None:
            tf.proc.kill()
    shutil.rmtree(tf.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def tracefeed():
    tf = start_tracefeed()
    yield tf
    stop_tracefeed(tf)


def _pid_alive(pid_file: pathlib.Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def _live_testbed_bootstrap(testbed: pathlib.Path) -> str | None:
    bootstrap = testbed / "bootstrap"
    if bootstrap.is_file() and _pid_alive(testbed / "kafka.pid"):
        text = bootstrap.read_text().strip()
        return text or None
    return None


@pytest.fixture(scope="session")
def real_kafka():
    """The bootstrap address of a real Kafka broker (see the module docstring for where it comes
    from). A broker this fixture started is stopped at the end of the session."""
    external = os.environ.get("TRACEFEED_TEST_KAFKA_BOOTSTRAP", "").strip()
    if external:
        yield external
        return
    testbeds = [pathlib.Path(d) for d in [os.environ.get("TRACEFEED_KAFKA_TESTBED_DIR", "")] if d]
    testbeds.append(BUILD_DIR / "kafka-testbed")
    for testbed in testbeds:
        found = _live_testbed_bootstrap(testbed)
        if found:
            yield found
            return
    own = BUILD_DIR / "kafka-testbed-py"
    # start.sh waits for the broker's readiness itself (bounded by TRACEFEED_KAFKA_START_TIMEOUT)
    # and reuses a live broker it started earlier in the same directory.
    started = subprocess.run([str(KAFKA_SCRIPTS / "start.sh"), str(own)], capture_output=True, text=True, timeout=400)
    if started.returncode != 0:
        raise RuntimeError(f"scripts/kafka/start.sh {own} failed: {started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(KAFKA_SCRIPTS / "stop.sh"), str(own)], capture_output=True, text=True, timeout=120)
