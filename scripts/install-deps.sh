#!/usr/bin/env bash
# Installs what tracefeed needs from Debian's packages, only what is missing.
#   scripts/install-deps.sh build   — compilers and libraries to build tracefeed
#   scripts/install-deps.sh test    — build + what the test tiers need (Java and Maven for the
#                                     real Kafka broker)
# Runs as root (CI and the dev machines are root); otherwise uses sudo when present.
set -euo pipefail

what="${1:-build}"

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev librocksdb-dev libsimdjson-dev prometheus-cpp-dev libyaml-cpp-dev
  libspdlog-dev libcli11-dev libcpp-httplib-dev libprotobuf-dev protobuf-compiler zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev ccache libjemalloc2
)
test_pkgs=(openjdk-17-jre-headless maven curl chromium)

pkgs=("${build_pkgs[@]}")
if [ "$what" = "test" ]; then
  pkgs+=("${test_pkgs[@]}")
elif [ "$what" != "build" ]; then
  echo "usage: $0 build|test" >&2
  exit 2
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# A JDK other than Debian's (e.g. Temurin) also runs Kafka: only ask for Java when none works.
if command -v java >/dev/null 2>&1 && java -version >/dev/null 2>&1; then
  missing=("${missing[@]/openjdk-17-jre-headless}")
fi
command -v mvn >/dev/null 2>&1 && missing=("${missing[@]/maven}")
read -r -a missing <<<"${missing[*]}"

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
