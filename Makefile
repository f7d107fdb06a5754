# The README's commands. Everything installs its own dependencies first (Debian 12, apt).
JOBS ?= $(shell nproc)
QCC_ARGS ?=

.PHONY: deps build run demo test test-release test-asan test-quick bench format clean

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target qcc

# Builds and runs QCC with the embedded SQLite store under ~/.qcc, on 127.0.0.1:7860.
run: build
	./build/release/src/qcc serve $(QCC_ARGS)

# Same, with three simulated upstreams: see QCC route and fail over without an API key.
demo: build
	./build/release/src/qcc serve --demo $(QCC_ARGS)

# Every test: unit + integration in a -Werror release build, then again under ASan+UBSan.
test: test-release test-asan

test-release: deps
	cmake --preset ci-release >/dev/null
	cmake --build --preset ci-release -j $(JOBS)
	ctest --preset ci-release -j $(JOBS)

test-asan: deps
	cmake --preset ci-asan-ubsan >/dev/null
	cmake --build --preset ci-asan-ubsan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset ci-asan-ubsan -j $(JOBS)

# Debug build and tests only: the quick loop while developing.
test-quick: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)
	ctest --preset debug -j $(JOBS)

bench:
	@scripts/install-deps.sh --bench
	bench/run.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
