#!/usr/bin/env python3
"""The Traces page with many traces in state (issue #6: 100,000 traces, first render < 1 s on
loopback, filter round trip < 200 ms). Measured in Debian's Chromium through Playwright, against a
real `tracefeed run` on the embedded broker; reported, never asserted.

    .venv/bin/python bench/ui/traces_page_bench.py [--traces 100000] [--runs 5] [--json out.json]

Method
- Load: N traces (two spans each, distinct request times 10 ms apart) and one `user_feedback` per
  trace (every 5th thumbs-down) are POSTed to the gateway's batch API (`/api/v1/events`, arrays of
  `--batch` traces + their feedback, `--parallel` requests in flight, 503 + Retry-After honoured,
  own event ids so a retry is idempotent), paced by the join (`--max-ahead` traces sent but not
  yet applied): the embedded broker keeps ~5 MiB per partition and drops older records unread.
- Searchable: waits on a condition, never a fixed time: every feedback counted by the join
  (`tracefeed_feedback_total{name="user_feedback"}` in /metrics reaches N, when exported), the
  oldest and the newest trace readable with their feedback, and the filtered search's first hit
  being the newest thumbs-down trace.
- First render: a fresh browser context per run opens `/#/traces`; the time from navigation start
  (`performance.timeOrigin`) to the first `table.traces` row being in the DOM and painted (the
  next animation frame), read inside the page — no Playwright round trips in the figure.
- `--encodings` (default `browser;gzip, deflate`): the browser is measured with its own
  Accept-Encoding and again without `br`: cpp-httplib 0.11
  compresses with brotli at its fixed quality 11 whenever a client offers `br` (every browser
  does), which costs ~70 ms per 30 KB response on the 2-core box — gzip < 1 ms.
- Filter round trip: in the page, `requestSubmit()` of the filter form with
  `feedback.user_feedback = false` (what Enter does) → rows shown and none of them thumbs-up,
  painted. Also measured: the same search from Python (server time + loopback), and the default
  first page.

Prints the figures and the machine's load average (the box is shared: say so when quoting).
"""
import argparse
import concurrent.futures as futures
import json
import os
import pathlib
import random
import statistics
import sys
import time

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "ui"))
import conftest as ui  # noqa: E402  (starts tracefeed the way the UI tests do)

FILTER = "feedback.user_feedback = false"
BASE_MS = 1_795_000_000_000  # 2026-11-18, so every trace is in the past


def trace_id(run: int, i: int) -> str:
    return f"tr-{run:08x}{i:024x}"


def thumbs_down(i: int) -> bool:
    return i % 5 == 0


def envelopes(run: int, first: int, count: int) -> list[dict]:
    traces, feedback = [], []
    for i in range(first, first + count):
        tid, ms = trace_id(run, i), BASE_MS + i * 10
        start_ns = ms * 1_000_000
        q = f"Question {i}: how do I log a trace?"
        a = f"Answer {i}: call mlflow.start_span and log inputs and outputs."
        traces.append({
            "event_id": f"bench-{run:x}-t{i}", "type": "trace",
            "trace": {
                "trace_info": {
                    "trace_id": tid,
                    "request_time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z",
                    "execution_duration": "0.420s", "state": "OK",
                    "request_preview": q, "response_preview": a,
                },
                "spans": [
                    {"span_id": f"{i:016x}", "name": "chat", "span_type": "CHAIN",
                     "start_time_unix_nano": start_ns, "end_time_unix_nano": start_ns + 420_000_000,
                     "inputs": {"question": q}, "outputs": a},
                    {"span_id": f"{i | 1 << 60:016x}", "parent_span_id": f"{i:016x}", "name": "retrieve", "span_type": "RETRIEVER",
                     "start_time_unix_nano": start_ns + 10_000_000, "end_time_unix_nano": start_ns + 90_000_000,
                     "inputs": {"query": q}, "outputs": [{"page_content": "MLflow Tracing records inputs and outputs."}]},
                ],
            },
        })
        feedback.append({
            "event_id": f"bench-{run:x}-f{i}", "type": "assessment",
            "assessment": {
                "assessment_name": "user_feedback", "trace_id": tid,
                "source": {"source_type": "HUMAN", "source_id": f"user_{i % 97}"},
                "feedback": {"value": not thumbs_down(i)},
            },
        })
    return traces + feedback


def post_batch(session: requests.Session, url: str, body: bytes) -> int:
    deadline = time.monotonic() + 300
    while True:
        r = session.post(url + "/api/v1/events", data=body, headers={"Content-Type": "application/json"}, timeout=120)
        if r.status_code == 202 and not r.json().get("rejected"):
            return r.json()["accepted"]
        if r.status_code in (429, 503) and time.monotonic() < deadline:
            time.sleep(float(r.headers.get("Retry-After", "1")))  # the server's own back-off
            continue
        raise RuntimeError(f"POST /api/v1/events: HTTP {r.status_code}: {r.text[:300]}")


def applied_feedback(url: str) -> float | None:
    """Feedback the join has applied (`tracefeed_feedback_total{name="user_feedback"}`, counted as
    the join stores it); None when the server does not export it."""
    return metric_sum(requests.get(url + "/metrics", timeout=30).text, "tracefeed_feedback_total", 'name="user_feedback"')


def load(url: str, run: int, n: int, batch_traces: int, parallel: int, max_ahead: int) -> float:
    """Returns the seconds the gateway took to acknowledge everything.

    Paced by the join: the embedded broker keeps only ~5 MiB per partition and drops older records
    even when unread, so a burst of 100,000 traces loses about half of them. A batch (traces, then
    their feedback) is sent only while fewer than `max_ahead` traces sent are not yet applied by
    the join — read from its live feedback counter (consumer lag in /metrics is sampled every few
    seconds: too stale to pace by)."""
    t0 = time.monotonic()
    sent = 0
    sessions = [requests.Session() for _ in range(parallel)]
    with futures.ThreadPoolExecutor(parallel) as pool:
        pending = set()
        for k, first in enumerate(range(0, n, batch_traces)):
            count = min(batch_traces, n - first)
            body = json.dumps(envelopes(run, first, count)).encode()
            while (applied := applied_feedback(url)) is not None and sent - applied > max_ahead:
                time.sleep(0.02)  # a condition, re-checked: the join catching up
            pending.add(pool.submit(post_batch, sessions[k % parallel], url, body))
            sent += count
            if len(pending) >= parallel:  # bounded: at most `parallel` requests in flight
                done, pending = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for d in done:
                    d.result()
        for d in futures.as_completed(pending):
            d.result()
    return time.monotonic() - t0


def metric_sum(text: str, name: str, label_filter: str = "") -> float | None:
    total, seen = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in "{ ") and label_filter in line:
            seen = True
            total += float(line.rsplit(" ", 1)[1])
    return total if seen else None


def wait_searchable(tf, run: int, n: int, timeout: float) -> dict:
    newest_down = max(i for i in range(max(0, n - 5), n) if thumbs_down(i))
    want = {trace_id(run, 0), trace_id(run, n - 1)}
    state = {"feedback": None, "last_print": 0.0}

    def ready():
        m = requests.get(tf.url + "/metrics", timeout=30).text
        state["feedback"] = metric_sum(m, "tracefeed_feedback_total", 'name="user_feedback"')
        pending = metric_sum(m, "tracefeed_join_pending_assessments")
        # Feedback read before its trace waits a moment in the join; feedback that keeps waiting
        # for a trace while nothing else moves lost its trace.
        stuck = pending and state["feedback"] is not None and state["feedback"] + pending >= n
        if not stuck or state.get("stuck") != (pending, state["feedback"]):
            state["stuck"], state["stuck_since"] = ((pending, state["feedback"]) if stuck else None), time.monotonic()
        elif time.monotonic() - state["stuck_since"] > 15:
            raise RuntimeError(f"{pending:.0f} feedback wait for traces the join never got: the embedded broker dropped "
                               "records before the join read them (~5 MiB per partition); lower --max-ahead")
        if time.monotonic() - state["last_print"] > 10:
            state["last_print"] = time.monotonic()
            print(f"  … join has counted {state['feedback']} of {n} feedback", flush=True)
        if state["feedback"] is not None and state["feedback"] < n:
            return False
        for tid in want:
            r = requests.get(f"{tf.url}/api/3.0/mlflow/traces/{tid}", timeout=30)
            if r.status_code != 200 or "user_feedback" not in r.text:
                return False
        r = requests.post(tf.url + "/api/3.0/mlflow/traces/search", json={"filter": FILTER, "max_results": 1}, timeout=60)
        return r.ok and (r.json().get("traces") or [{}])[0].get("trace_id") == trace_id(run, newest_down)

    t0 = time.monotonic()
    tf.wait_until(ready, timeout=timeout, interval=0.5, what=f"{n} traces searchable with their feedback")
    return {"seconds": time.monotonic() - t0, "feedback_metric": state["feedback"] is not None}


# Inside the page, from navigation start: the first row in the DOM, then the next frame (painted).
FIRST_ROW_JS = """
(() => {
  const done = () => requestAnimationFrame(() => { window.__firstRowMs = performance.now(); });
  const check = () => document.querySelector('table.traces tbody tr');
  new MutationObserver((_, obs) => { if (check()) { obs.disconnect(); done(); } })
    .observe(document, { childList: true, subtree: true });
})();
"""

FILTER_ROUND_TRIP_JS = """
async (filter) => {
  const input = document.getElementById('trace-filter');
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(input, filter);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((r) => requestAnimationFrame(() => r()));  // the draft state is rendered
  const filtered = () => {
    const rows = document.querySelectorAll('table.traces tbody tr');
    return rows.length > 0 && document.querySelector('table.traces').getAttribute('aria-busy') !== 'true' &&
      document.querySelectorAll('table.traces [aria-label="user_feedback: thumbs up"]').length === 0;
  };
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (!filtered()) return;
      obs.disconnect();
      requestAnimationFrame(() => {
        const total = performance.now() - t0;
        const req = performance.getEntriesByType('resource').filter((e) => e.name.includes('/traces/search') && e.startTime >= t0)[0];
        resolve({ total, request: req ? req.duration : null, requestStart: req ? req.startTime - t0 : null });
      });
    });
    obs.observe(document.querySelector('table.traces'), { childList: true, subtree: true, attributes: true });
    input.form.requestSubmit();
  });
}
"""


def measure_browser(url: str, runs: int, accept_encoding: str | None = None, screenshot: str | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    first, wall, search_in_page, filt, filt_req, filt_start = [], [], [], [], [], []

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=ui.CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        # One warm-up (Chromium's own start, the server's first reads), not counted.
        for k in range(runs + 1):
            headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
            ctx = b.new_context(viewport={"width": 1400, "height": 900}, extra_http_headers=headers)
            ctx.add_init_script(FIRST_ROW_JS)
            pg = ctx.new_page()
            s = time.perf_counter()
            pg.goto(url + "/#/traces")
            pg.wait_for_function("() => window.__firstRowMs !== undefined", timeout=60_000)
            w = (time.perf_counter() - s) * 1000
            ms = pg.evaluate("() => window.__firstRowMs")
            api = pg.evaluate("""() => performance.getEntriesByType('resource')
                .filter((e) => e.name.includes('/traces/search')).map((e) => e.duration)[0] ?? null""")
            rt = pg.evaluate(FILTER_ROUND_TRIP_JS, FILTER)
            if screenshot and k == runs:
                pg.screenshot(path=screenshot, full_page=True)  # the filtered page, for people to look at
            if k:
                first.append(ms)
                wall.append(w)
                if api is not None:
                    search_in_page.append(api)
                filt.append(rt["total"])
                if rt["request"] is not None:
                    filt_req.append(rt["request"])
                    filt_start.append(rt["requestStart"])
            ctx.close()
        b.close()
    return {"first_render_ms": first, "first_render_wall_ms": wall, "first_search_request_ms": search_in_page,
            "filter_round_trip_ms": filt, "filter_search_request_ms": filt_req, "filter_request_start_ms": filt_start}


def measure_api(url: str, runs: int) -> dict:
    out = {"search_default_ms": [], "search_filter_ms": []}
    s = requests.Session()
    for _ in range(runs):
        for key, body in (("search_default_ms", {"max_results": 50}), ("search_filter_ms", {"filter": FILTER, "max_results": 50})):
            t = time.perf_counter()
            r = s.post(url + "/api/3.0/mlflow/traces/search", json=body, timeout=60)
            out[key].append((time.perf_counter() - t) * 1000)
            assert r.ok, r.text
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--traces", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=500, help="traces per request (each brings its feedback: 2 events)")
    ap.add_argument("--max-ahead", type=int, default=2000,
                    help="send while fewer traces than this are sent but not applied by the join (embedded broker: ~5 MiB per partition)")
    ap.add_argument("--parallel", type=int, default=2, help="requests in flight while loading")
    ap.add_argument("--searchable-timeout", type=float, default=900)
    ap.add_argument("--encodings", default="browser;gzip, deflate",
                    help="Accept-Encoding values to measure the browser with, separated by ';'; 'browser' = "
                         "Chromium's own (offers br). Default: both, to show brotli's cost (docs/benchmarks.md)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--screenshot", help="save the filtered page (last run) as this PNG")
    args = ap.parse_args()
    encodings = [e.strip() for e in args.encodings.split(";") if e.strip()]

    load_before = os.getloadavg()
    tf = ui.start_tracefeed()
    try:
        run = random.getrandbits(32)
        print(f"tracefeed at {tf.url}; loading {args.traces} traces + {args.traces} feedback "
              f"({args.batch} traces per request, {args.parallel} in flight, at most {args.max_ahead} ahead of the join)", flush=True)
        ack_s = load(tf.url, run, args.traces, args.batch, args.parallel, args.max_ahead)
        print(f"gateway acknowledged {2 * args.traces} events in {ack_s:.1f} s ({2 * args.traces / ack_s:,.0f} events/s)", flush=True)
        ready = wait_searchable(tf, run, args.traces, args.searchable_timeout)
        print(f"searchable {ready['seconds']:.1f} s after the last ack"
              f"{'' if ready['feedback_metric'] else ' (no tracefeed_feedback_total: checked by reads only)'}", flush=True)

        def fmt(xs):
            return f"p50 {statistics.median(xs):.0f} ms, min {min(xs):.0f}, max {max(xs):.0f} ms (n={len(xs)})" if xs else "n/a"

        out = {"traces": args.traces, "ack_seconds": ack_s, "searchable_seconds": ready["seconds"], "browser": {}}
        for enc in encodings:
            f = measure_browser(tf.url, args.runs, None if enc == "browser" else enc, args.screenshot)
            out["browser"][enc] = f
            print(f"browser, Accept-Encoding: {'its own (gzip, deflate, br, zstd)' if enc == 'browser' else enc}")
            print(f"  first render (navigation start → first row painted, in page): {fmt(f['first_render_ms'])}")
            print(f"    same, wall clock from Playwright's goto:                  {fmt(f['first_render_wall_ms'])}")
            print(f"    the page's first search request:                          {fmt(f['first_search_request_ms'])}")
            print(f"  filter round trip (submit → filtered rows painted):        {fmt(f['filter_round_trip_ms'])}")
            print(f"    submit → the filtered search request starts:              {fmt(f['filter_request_start_ms'])}")
            print(f"    the filtered search request:                              {fmt(f['filter_search_request_ms'])}")
            print(flush=True)
        api = measure_api(tf.url, args.runs)
        out.update(api)
        print(f"search API from Python, default first page (50):          {fmt(api['search_default_ms'])}")
        print(f"search API from Python, {FILTER} (50): {fmt(api['search_filter_ms'])}")
        load_after = os.getloadavg()
        out["load_average"] = {"before": load_before, "after": load_after}
        print(f"machine: {os.cpu_count()} cores, load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (shared box)")
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(out, indent=2))
    finally:
        ui.stop_tracefeed(tf)


if __name__ == "__main__":
    main()
