"""Captures the exact OTLP request MLflow 3.17's client sends to /v1/traces."""
import http.server, json, os, sys, threading, pathlib
captured = []
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def _reply(self, code, body=b"{}", ctype="application/json"):
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        captured.append(("GET", self.path, dict(self.headers), b""))
        if self.path.startswith("/version"):
            return self._reply(200, b"3.17.2", "text/plain")
        self._reply(404, b'{"error_code":"NOT_FOUND","message":"x"}')
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0)); body = self.rfile.read(n)
        captured.append(("POST", self.path, dict(self.headers), body))
        if self.path == "/v1/traces":
            return self._reply(200, b"", "application/x-protobuf")
        self._reply(404, b'{"error_code":"NOT_FOUND","message":"x"}')
    do_PATCH = do_POST
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
os.environ["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{srv.server_port}"
os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
import mlflow
@mlflow.trace(span_type="RETRIEVER")
def retrieve_context(question):
    return [{"page_content": "MLflow is an open source platform", "metadata": {"doc_uri": "docs/mlflow.md"}}]
@mlflow.trace
def my_chatbot(user_question):
    docs = retrieve_context(user_question)
    return "MLflow is an open-source platform for the ML lifecycle."
my_chatbot("What is MLflow?")
tid = mlflow.get_last_active_trace_id()
out = pathlib.Path(sys.argv[1])
for i, (m, p, h, b) in enumerate(captured):
    print(m, p, {k: v for k, v in h.items() if k.lower() in ("content-type", "x-mlflow-experiment-id", "content-encoding")}, len(b))
posts = [(h, b) for (m, p, h, b) in captured if p == "/v1/traces"]
for i, (h, b) in enumerate(posts):
    (out / f"mlflow_3_17_export_{i}.pb").write_bytes(b)
    (out / f"mlflow_3_17_export_{i}.headers.json").write_text(json.dumps({k.lower(): v for k, v in h.items() if k.lower() in ("content-type", "x-mlflow-experiment-id")}, indent=1) + "\n")
print("trace id", tid)
(out / "mlflow_3_17_trace_id.txt").write_text(tid + "\n")
