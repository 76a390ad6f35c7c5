#!/usr/bin/env bash
# Stops the broker that start.sh DIR started and waits for it to exit (SIGTERM for a clean
# shutdown, SIGKILL after TRACEFEED_KAFKA_STOP_TIMEOUT seconds, default 30). Keeps DIR's logs.
# Succeeds if nothing is running.
set -euo pipefail

die() { echo "stop.sh: error: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 DIR"
DIR="$1"
TIMEOUT_S="${TRACEFEED_KAFKA_STOP_TIMEOUT:-30}"

if [[ ! -f "${DIR}/kafka.pid" ]]; then
  echo "stop.sh: no broker pid in ${DIR}" >&2
  exit 0
fi
PID="$(cat "${DIR}/kafka.pid")"
[[ "${PID}" =~ ^[0-9]+$ ]] || die "bad pid file ${DIR}/kafka.pid"

# Only signal the process if it is still the java broker we started (pids get reused).
if kill -0 "${PID}" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/${PID}/cmdline" 2>/dev/null; then
  kill -TERM "${PID}" 2>/dev/null || true
  deadline=$((SECONDS + TIMEOUT_S))
  while kill -0 "${PID}" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "${PID}" 2>/dev/null; then
    echo "stop.sh: broker ${PID} did not exit in ${TIMEOUT_S}s; killing" >&2
    kill -KILL "${PID}" 2>/dev/null || true
    while kill -0 "${PID}" 2>/dev/null; do sleep 0.1; done
  fi
fi
rm -f "${DIR}/kafka.pid" "${DIR}/bootstrap"
