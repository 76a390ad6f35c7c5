#!/usr/bin/env bash
# Starts a single-node KRaft Kafka broker (combined broker+controller) on 127.0.0.1 for tests.
#
#   scripts/kafka/start.sh DIR     # prints the bootstrap address; also writes DIR/bootstrap
#
# DIR holds everything: server.properties, data (DIR/data), logs (DIR/server.log, DIR/kafka.out),
# the pid (DIR/kafka.pid) and the bootstrap address (DIR/bootstrap). Stop with stop.sh DIR.
# If a broker started by an earlier run in DIR is still alive, that one is reused.
#
# Readiness is a condition, not a sleep: the process is alive, the port accepts connections and
# the broker logged that it finished starting (in KRaft that happens only once the broker is
# registered and unfenced, i.e. metadata requests succeed) — bounded by
# TRACEFEED_KAFKA_START_TIMEOUT seconds (default 90).
#
# Env: TRACEFEED_CACHE_DIR, TRACEFEED_KAFKA_VERSION (see fetch.sh), JAVA (default: java),
# TRACEFEED_KAFKA_PROPERTIES (extra server.properties lines, appended after the defaults).
set -euo pipefail

die() { echo "start.sh: error: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 DIR"
mkdir -p "$1" || die "cannot create $1"
DIR="$(cd "$1" && pwd)"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAVA="${JAVA:-java}"
TIMEOUT_S="${TRACEFEED_KAFKA_START_TIMEOUT:-90}"

command -v "${JAVA}" >/dev/null 2>&1 || die "java not found (set JAVA or install Java 17)"

# Reuse a live broker from an earlier start in the same DIR.
if [[ -f "${DIR}/kafka.pid" ]] && kill -0 "$(cat "${DIR}/kafka.pid")" 2>/dev/null && [[ -s "${DIR}/bootstrap" ]]; then
  cat "${DIR}/bootstrap"
  exit 0
fi

LIB_DIR="$("${SCRIPT_DIR}/fetch.sh")" || die "fetch.sh failed"

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
free_port() {
  # Ask the kernel for an ephemeral port; fall back to probing a random range.
  local p
  if command -v python3 >/dev/null 2>&1 &&
     p="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null)"; then
    echo "${p}"; return 0
  fi
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 30000))
    if port_is_free "${p}"; then echo "${p}"; return 0; fi
  done
  return 1
}

PORT="$(free_port)" || die "no free loopback port"
CPORT="$(free_port)" || die "no free loopback port"
while [[ "${CPORT}" == "${PORT}" ]]; do CPORT="$(free_port)"; done

rm -rf "${DIR}/data" "${DIR}/bootstrap" "${DIR}/kafka.pid"
mkdir -p "${DIR}/data"

cat > "${DIR}/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CPORT}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CPORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${DIR}/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
PROPS
# Extra broker properties, one per line (e.g. thread counts for a benchmark), appended last.
if [[ -n "${TRACEFEED_KAFKA_PROPERTIES:-}" ]]; then
  printf '%s\n' "${TRACEFEED_KAFKA_PROPERTIES}" >> "${DIR}/server.properties"
fi

cat > "${DIR}/log4j.properties" <<LOG
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${DIR}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
LOG

JAVA_OPTS=(-Xmx512m -Xms128m -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j.configuration=file:${DIR}/log4j.properties" "-Dkafka.logs.dir=${DIR}")

CLUSTER_ID="$("${JAVA}" -cp "${LIB_DIR}/*" "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid 2>>"${DIR}/format.log")" \
  || die "StorageTool random-uuid failed (see ${DIR}/format.log)"
"${JAVA}" -cp "${LIB_DIR}/*" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format \
  -t "${CLUSTER_ID}" -c "${DIR}/server.properties" >>"${DIR}/format.log" 2>&1 \
  || die "StorageTool format failed (see ${DIR}/format.log)"

: > "${DIR}/server.log"
# setsid: the broker must outlive this script (and ctest's process group for the fixture).
setsid "${JAVA}" -cp "${LIB_DIR}/*" "${JAVA_OPTS[@]}" kafka.Kafka "${DIR}/server.properties" \
  >"${DIR}/kafka.out" 2>&1 < /dev/null &
PID=$!
echo "${PID}" > "${DIR}/kafka.pid"

deadline=$((SECONDS + TIMEOUT_S))
ready=""
while (( SECONDS < deadline )); do
  if ! kill -0 "${PID}" 2>/dev/null; then
    tail -n 30 "${DIR}/kafka.out" "${DIR}/server.log" >&2 || true
    die "broker exited during startup (logs in ${DIR})"
  fi
  if ! port_is_free "${PORT}" && grep -q 'Kafka Server started' "${DIR}/server.log" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2  # poll interval of the readiness condition, not a synchronisation sleep
done
if [[ -z "${ready}" ]]; then
  kill "${PID}" 2>/dev/null || true
  tail -n 30 "${DIR}/server.log" >&2 || true
  die "broker not ready within ${TIMEOUT_S}s (logs in ${DIR})"
fi

echo "127.0.0.1:${PORT}" > "${DIR}/bootstrap.tmp"
mv "${DIR}/bootstrap.tmp" "${DIR}/bootstrap"
cat "${DIR}/bootstrap"
