"""Fixtures for the Python e2e tests: a real `tracefeed run` process on the embedded broker.

The binary is build/bin/tracefeed (or $TRACEFEED_BINARY). Each test module gets its own
process, state directory and free port; the fixture waits for /readyz, never a fixed sleep.
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

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("TRACEFEED_BINARY", str(ROOT / "build" / "bin" / "tracefeed"))


class Tracefeed:
    def __init__(self, url: str, proc: subprocess.Popen, workdir: pathlib.Path):
        self.url = url
        self.proc = proc
        self.workdir = workdir

    def wait_until(self, predicate, timeout=20.0, interval=0.05, what="condition"):
        """Polls predicate() until it returns a truthy value or the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def start_tracefeed(extra_yaml: str = "", http_yaml: str = "", env: dict | None = None) -> Tracefeed:
    """http_yaml: more keys of the `http` flow mapping (e.g. "auth_tokens: [...]");
    env: extra environment variables for the process (e.g. a token_env's variable)."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="tracefeed-py-"))
    config = workdir / "tracefeed.yaml"
    http_extra = (", " + http_yaml) if http_yaml else ""
    config.write_text(
        "kafka: {brokers: embedded, partitions: 2}\n"
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
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"ready at (http://[0-9.]+:[0-9]+)", line)
        if m:
            url = m.group(1)
    if url is None:
        proc.kill()
        raise RuntimeError("tracefeed did not start: " + (workdir / "stderr.log").read_text())
    tf = Tracefeed(url, proc, workdir)
    tf.wait_until(lambda: requests.get(url + "/readyz", timeout=2).status_code == 200, what="/readyz")
    return tf


def stop_tracefeed(tf: Tracefeed) -> None:
    tf.proc.send_signal(signal.SIGTERM)
    try:
        assert tf.proc.wait(timeout=30) == 0, (tf.workdir / "stderr.log").read_text()
    finally:
        if tf.proc.poll() is None:
            tf.proc.kill()


@pytest.fixture(scope="module")
def tracefeed():
    tf = start_tracefeed()
    yield tf
    stop_tracefeed(tf)
