#!/usr/bin/env python3
"""The Traces page with many traces in state (issue #6: 100,000 traces, first render < 1 s on
loopback, filter round trip < 200 ms). Measured in Debian's Chromium through Playwright, against a
real `tracefeed run` on the embedded broker; reported, never asserted.

    .venv/bin/python bench/ui/traces_page_bench.py [--traces 100000] [--runs 5]

Prints: traces loaded, first render (navigation start → first table row painted) p50/max, filter
round trip (Enter → new rows painted) p50/max, and the server's search latency for the same
requests measured from Python.
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import time

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "ui"))
import conftest as ui  # noqa: E402  (starts tracefeed the way the UI tests do)


def load(tf, traces: int) -> None:
    # loadgen: ~1 feedback per trace, 20 % thumbs-down; count is in events (traces + feedback).
    subprocess.run(
        [ui._fixtures.BINARY, "loadgen", "--url", tf.url, "--count", str(traces * 2), "--rate", "0",
         "--feedback-ratio", "1.0", "--thumbs-down-ratio", "0.2", "--batch-size", "1000", "--seed", "11"],
        check=True, stdout=subprocess.DEVNULL)

    def stored():
        r = requests.post(tf.url + "/api/3.0/mlflow/traces/search", json={"max_results": 1}, timeout=30)
        return r.ok

    tf.wait_until(stored, timeout=60, what="search to answer")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--traces", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    tf = ui.start_tracefeed()
    try:
        t0 = time.monotonic()
        load(tf, args.traces)
        print(f"loaded ~{args.traces} traces (+ feedback) in {time.monotonic() - t0:.1f} s")

        from playwright.sync_api import sync_playwright

        first, filt, api = [], [], []
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=ui.CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for _ in range(args.runs):
                ctx = b.new_context(viewport={"width": 1400, "height": 900})
                pg = ctx.new_page()
                start = time.perf_counter()
                pg.goto(tf.url + "/#/traces")
                pg.wait_for_selector("table.traces tbody tr")
                first.append((time.perf_counter() - start) * 1000)

                pg.fill("#trace-filter", "feedback.user_feedback = false")
                start = time.perf_counter()
                pg.press("#trace-filter", "Enter")
                pg.wait_for_function(
                    "() => [...document.querySelectorAll('table.traces tbody tr')].length > 0 && "
                    "[...document.querySelectorAll('table.traces [aria-label=\"user_feedback: thumbs up\"]')].length === 0")
                filt.append((time.perf_counter() - start) * 1000)
                ctx.close()

                s = time.perf_counter()
                requests.post(tf.url + "/api/3.0/mlflow/traces/search",
                              json={"filter": "feedback.user_feedback = false", "max_results": 50}, timeout=30)
                api.append((time.perf_counter() - s) * 1000)
            b.close()

        def fmt(xs):
            return f"p50 {statistics.median(xs):.0f} ms, max {max(xs):.0f} ms"

        print(f"first render (navigation → first row): {fmt(first)}")
        print(f"filter round trip (Enter → filtered rows): {fmt(filt)}")
        print(f"search API alone (filter, 50 results): {fmt(api)}")
    finally:
        ui.stop_tracefeed(tf)


if __name__ == "__main__":
    main()
