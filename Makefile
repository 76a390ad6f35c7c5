# The README's commands. `make run` and `make test` work on a fresh Debian machine as root.
.PHONY: run build test test-unit test-debug deps test-deps bench docs clean

CONFIG ?= config/tracefeed.yaml
CTEST_ARGS ?=

# Installs what is missing, builds release and starts every role on the embedded broker.
run: build
	./build/bin/tracefeed run --config $(CONFIG)

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

# Leaves the binary at build/bin/tracefeed.
build: deps
	@cmake --preset release >/dev/null
	cmake --build --preset release

# Every test tier: unit, component (embedded broker, temp RocksDB), integration (a real Kafka
# broker started from Maven Central jars by the tests themselves), e2e.
test: test-deps build
	ctest --test-dir build --output-on-failure --no-tests=error -j 2 $(CTEST_ARGS)

test-unit: build
	ctest --test-dir build --output-on-failure -L unit -j 2

# unit + component tiers under ASan and UBSan.
test-debug: deps
	@cmake --preset debug >/dev/null
	cmake --build --preset debug
	ctest --test-dir build-debug --output-on-failure -L 'unit|component' -j 2

bench: build
	./build/bin/event_json_bench

# Regenerates docs/configuration.md from the config schema.
docs: build
	cmake --build build --target docs-config

clean:
	rm -rf build build-debug
