#!/usr/bin/env bash
# The gateway's peer figure (PRODUCT.md §8): the same mlflow.log_feedback calls, from the same
# client program (mlflow_peer_bench: same connections, same bodies, same duration), sent first to
# an MLflow tracking server (`mlflow server`, SQLite backend store) and then to `tracefeed run`
# (real Kafka 3.9.1 on loopback, scripts/kafka/start.sh). One server runs at a time. Prints both
# result lines and the ratios. A benchmark, not a test: CI never runs it.
#
#   bench/gateway/peer_mlflow.sh            # after building the targets tracefeed and mlflow_peer_bench
#
# Env (defaults):
#   TRACEFEED_BUILD_DIR ($ROOT/build)     where bin/tracefeed and bin/mlflow_peer_bench are
#   PEER_SECONDS (20) PEER_WARMUP (5)     measured period and warm-up per server
#   PEER_CONNECTIONS (16)                 client connections (tracefeed's http.threads default is 16)
#   PEER_TRACES (1000)                    traces created first (untimed) and cycled through
#   PEER_MLFLOW_WORKERS (4)               `mlflow server --workers` (its default)
#   PEER_MLFLOW_JOBS (false)              MLFLOW_SERVER_ENABLE_JOB_EXECUTION: its job runner's idle
#                                         polling takes about half a core, unrelated to log_feedback;
#                                         off by default so the peer gets the CPU
#   TRACEFEED_MLFLOW_VENV                 venv with the `mlflow` server package, created on first use
#                                         (~/.cache/tracefeed/venv-mlflow-server), the version of
#                                         mlflow-skinny pinned in tests/python/requirements.txt
#   TRACEFEED_BENCH_KAFKA                 use this broker instead of starting one
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${TRACEFEED_BUILD_DIR:-${ROOT}/build}"
SECONDS_MEASURED="${PEER_SECONDS:-20}"
WARMUP="${PEER_WARMUP:-5}"
CONNECTIONS="${PEER_CONNECTIONS:-16}"
TRACES="${PEER_TRACES:-1000}"
MLFLOW_WORKERS="${PEER_MLFLOW_WORKERS:-4}"
MLFLOW_JOBS="${PEER_MLFLOW_JOBS:-false}"
VENV="${TRACEFEED_MLFLOW_VENV:-${HOME}/.cache/tracefeed/venv-mlflow-server}"

die() { echo "peer_mlflow.sh: error: $*" >&2; exit 1; }
for bin in tracefeed mlflow_peer_bench; do
  [[ -x "${BUILD}/bin/${bin}" ]] || die "${BUILD}/bin/${bin} missing: cmake --build ${BUILD} --target tracefeed mlflow_peer_bench"
done

WORK="$(mktemp -d /tmp/tracefeed-peer-XXXXXX)"
MLFLOW_PGID=""
TRACEFEED_PID=""
KAFKA_DIR=""
cleanup() {
  # Only what this script started: the MLflow server's own process group (setsid), the
  # tracefeed process, and the broker start.sh started in ${WORK}.
  [[ -n "${MLFLOW_PGID}" ]] && kill -TERM -- "-${MLFLOW_PGID}" 2>/dev/null || true
  [[ -n "${TRACEFEED_PID}" ]] && kill -TERM "${TRACEFEED_PID}" 2>/dev/null || true
  [[ -n "${KAFKA_DIR}" ]] && "${ROOT}/scripts/kafka/stop.sh" "${KAFKA_DIR}" >/dev/null 2>&1 || true
  # Keep the logs, drop the data (the broker's log, RocksDB, the SQLite store).
  rm -rf "${WORK}/state" "${WORK}/kafka/data" "${WORK}/mlflow.db"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Polls `cmd` until it succeeds, at most `timeout` seconds.
wait_for() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for ${what}"
    sleep 0.2
  done
}

# ---- the MLflow tracking server -------------------------------------------------------------
version="$(sed -n 's/^mlflow-skinny==//p' "${ROOT}/tests/python/requirements.txt")"
[[ -n "${version}" ]] || die "no mlflow-skinny pin in tests/python/requirements.txt"
if [[ ! -x "${VENV}/bin/mlflow" ]] || [[ "$("${VENV}/bin/mlflow" --version 2>/dev/null)" != *"${version}"* ]]; then
  echo "peer_mlflow.sh: installing mlflow==${version} into ${VENV}" >&2
  python3 -m venv "${VENV}"
  "${VENV}/bin/pip" install -q --disable-pip-version-check "mlflow==${version}" >&2
fi

port="$(free_port)"
MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_JOBS}" setsid "${VENV}/bin/mlflow" server \
  --backend-store-uri "sqlite:///${WORK}/mlflow.db" --host 127.0.0.1 --port "${port}" \
  --workers "${MLFLOW_WORKERS}" --uvicorn-opts "--no-access-log" >"${WORK}/mlflow.log" 2>&1 &
MLFLOW_PGID=$!
wait_for 600 "mlflow server /health" curl -sf "http://127.0.0.1:${port}/health"
"${BUILD}/bin/mlflow_peer_bench" --url "http://127.0.0.1:${port}" --label "mlflow-${version}" --seconds "${SECONDS_MEASURED}" \
  --warmup "${WARMUP}" --connections "${CONNECTIONS}" --traces "${TRACES}" --server-pid "${MLFLOW_PGID}" | tee "${WORK}/mlflow.out"
# Stop the MLflow server (its whole process group) before tracefeed starts: one server at a time.
kill -TERM -- "-${MLFLOW_PGID}" 2>/dev/null || true
for _ in $(seq 1 150); do kill -0 "${MLFLOW_PGID}" 2>/dev/null || break; sleep 0.2; done
kill -KILL -- "-${MLFLOW_PGID}" 2>/dev/null || true
wait "${MLFLOW_PGID}" 2>/dev/null || true
MLFLOW_PGID=""

# ---- tracefeed on real Kafka ----------------------------------------------------------------
if [[ -n "${TRACEFEED_BENCH_KAFKA:-}" ]]; then
  bootstrap="${TRACEFEED_BENCH_KAFKA}"
else
  KAFKA_DIR="${WORK}/kafka"
  bootstrap="$("${ROOT}/scripts/kafka/start.sh" "${KAFKA_DIR}")"
fi
cat >"${WORK}/tracefeed.yaml" <<EOF
kafka: {brokers: "${bootstrap}", topic_prefix: "peer-$$-$(date +%s).", partitions: 8}
state: {dir: "${WORK}/state"}
http: {listen: "127.0.0.1:0"}
EOF
"${BUILD}/bin/tracefeed" run --config "${WORK}/tracefeed.yaml" >"${WORK}/tracefeed.out" 2>"${WORK}/tracefeed.log" &
TRACEFEED_PID=$!
wait_for 120 "tracefeed to be ready" grep -q "ready at" "${WORK}/tracefeed.out"
url="$(grep -o 'http://[0-9.]*:[0-9]*' "${WORK}/tracefeed.out" | head -1)"
"${BUILD}/bin/mlflow_peer_bench" --url "${url}" --label tracefeed --seconds "${SECONDS_MEASURED}" --warmup "${WARMUP}" \
  --connections "${CONNECTIONS}" --traces "${TRACES}" --server-pid "${TRACEFEED_PID}" | tee "${WORK}/tracefeed.bench"
kill -TERM "${TRACEFEED_PID}"
wait "${TRACEFEED_PID}" || die "tracefeed did not stop cleanly; see ${WORK}/tracefeed.log"
TRACEFEED_PID=""

# ---- the ratio ------------------------------------------------------------------------------
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$2" | tail -1; }
python3 - "$(field calls_per_s "${WORK}/tracefeed.bench")" "$(field calls_per_s "${WORK}/mlflow.out")" \
  "$(field server_cpu_s_per_1k_calls "${WORK}/tracefeed.bench")" "$(field server_cpu_s_per_1k_calls "${WORK}/mlflow.out")" <<'EOF'
import sys
tf, ml, tf_cpu, ml_cpu = (float(x) for x in sys.argv[1:])
print(f"peer ratio (tracefeed / mlflow server), same log_feedback calls: {tf / ml:.1f}x calls/s; "
      f"server CPU per call: mlflow uses {ml_cpu / tf_cpu:.1f}x tracefeed's")
EOF
echo "logs in ${WORK}" >&2
