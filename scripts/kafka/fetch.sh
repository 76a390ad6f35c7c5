#!/usr/bin/env bash
# Resolves Apache Kafka (broker jars + runtime deps + a log4j 1.x-compatible logging binding)
# from Maven Central into a cache OUTSIDE the work tree, for the real-broker test bed.
#
#   scripts/kafka/fetch.sh            # prints the lib dir on stdout
#
# Env:
#   TRACEFEED_CACHE_DIR   cache root (default: $HOME/.cache/tracefeed)
#   TRACEFEED_KAFKA_VERSION  broker version (default: 3.9.1 — the pinned partner for librdkafka 2.0.2)
#
# Idempotent: when "<cache>/kafka-<ver>/lib/.complete" exists it does nothing. The download goes
# to a temporary directory that is renamed into place only on success, so an interrupted run never
# leaves a half-filled lib dir that later runs would trust.
set -euo pipefail

KAFKA_VERSION="${TRACEFEED_KAFKA_VERSION:-3.9.1}"
SCALA_VERSION="2.13"
# The logging binding Kafka 3.x ships with in its own distribution.
SLF4J_VERSION="1.7.36"
RELOAD4J_VERSION="1.2.25"

CACHE_DIR="${TRACEFEED_CACHE_DIR:-${HOME:-/root}/.cache/tracefeed}"
KAFKA_HOME="${CACHE_DIR}/kafka-${KAFKA_VERSION}"
LIB_DIR="${KAFKA_HOME}/lib"

die() { echo "fetch.sh: error: $*" >&2; exit 1; }

if [[ -f "${LIB_DIR}/.complete" ]]; then
  echo "${LIB_DIR}"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (install maven)"
command -v java >/dev/null 2>&1 || die "java not found on PATH (Java 17 is required)"

mkdir -p "${KAFKA_HOME}" || die "cannot create ${KAFKA_HOME}"
WORK="$(mktemp -d "${KAFKA_HOME}/.fetch.XXXXXX")"
trap 'rm -rf "${WORK}"' EXIT

cat > "${WORK}/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tracefeed</groupId>
  <artifactId>kafka-testbed</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>ch.qos.reload4j</groupId>
      <artifactId>reload4j</artifactId>
      <version>${RELOAD4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
POM

echo "fetch.sh: resolving org.apache.kafka:kafka_${SCALA_VERSION}:${KAFKA_VERSION} into ${LIB_DIR}" >&2
# The local Maven repository lives in the cache too, so deleting the cache really empties it.
if ! mvn -q -B -f "${WORK}/pom.xml" \
    -Dmaven.repo.local="${CACHE_DIR}/m2" \
    dependency:copy-dependencies \
    -DincludeScope=runtime \
    -DoutputDirectory="${WORK}/lib" >"${WORK}/mvn.log" 2>&1; then
  cat "${WORK}/mvn.log" >&2
  die "mvn could not resolve Kafka ${KAFKA_VERSION} (is Maven Central reachable?)"
fi

ls "${WORK}/lib"/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar >/dev/null 2>&1 \
  || die "kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar missing after resolution"
touch "${WORK}/lib/.complete"
rm -rf "${LIB_DIR}"
mv "${WORK}/lib" "${LIB_DIR}"
echo "${LIB_DIR}"
