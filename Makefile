# The README's commands. Everything installs its own dependencies first (Debian 12, apt).
JOBS ?= $(shell nproc)
QCC_ARGS ?=

.PHONY: deps build install package run demo test test-release test-asan test-tsan test-fuzz test-quick bench bench-tokens format clean

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target qcc

# Installs qcc, its shell completions, docs and an example config under PREFIX (default /usr/local;
# DESTDIR for staging). The systemd unit comes with the Debian package.
PREFIX ?= /usr/local
install: build
	cmake --install build/release --prefix "$(PREFIX)" --component qcc

# The Debian package build/release/qcc_<version>_<arch>.deb (binary, unit, /etc/qcc/config.toml).
package: build
	cd build/release && cpack -G DEB

# Builds and runs QCC with the embedded SQLite store under ~/.qcc, on 127.0.0.1:7860.
run: build
	./build/release/src/qcc serve $(QCC_ARGS)

# Same, with three simulated upstreams: see QCC route and fail over without an API key.
demo: build
	./build/release/src/qcc serve --demo $(QCC_ARGS)

# Every test: unit + integration + e2e in a -Werror release build, again under ASan+UBSan, unit +
# integration under ThreadSanitizer with several workers, and the libFuzzer targets for a bounded
# time each. scripts/test-postgres.sh runs each ctest with a throwaway PostgreSQL (Unix socket only)
# for the PostgreSQL store tests, which skip when no server can start.
test: test-release test-asan test-tsan test-fuzz

test-release: deps
	cmake --preset ci-release >/dev/null
	cmake --build --preset ci-release -j $(JOBS)
	scripts/test-postgres.sh ctest --preset ci-release -j $(JOBS)

test-asan: deps
	cmake --preset ci-asan-ubsan >/dev/null
	cmake --build --preset ci-asan-ubsan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/test-postgres.sh ctest --preset ci-asan-ubsan -j $(JOBS)

test-tsan: deps
	cmake --preset ci-tsan >/dev/null
	cmake --build --preset ci-tsan -j $(JOBS)
	QCC_TEST_WORKERS=3 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  scripts/test-postgres.sh ctest --preset ci-tsan -j $(JOBS) -E '^(e2e_|module_boundaries)'

# libFuzzer targets (clang), each fuzzed for QCC_FUZZ_SECONDS (20) from its seed corpus, and the
# inputs that once crashed them replayed.
test-fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	ctest --preset fuzz -j $(JOBS)

# Debug build and tests only: the quick loop while developing.
test-quick: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)
	scripts/test-postgres.sh ctest --preset debug -j $(JOBS)

bench:
	@scripts/install-deps.sh --bench
	bench/run.sh

# How far the local count_tokens estimate (OpenAI endpoints) is from real tokenizers (npm).
bench-tokens: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target openai_translate_tool
	node bench/token_estimate/token_estimate.mjs $(CURDIR)/build/release/tests/openai_translate_tool

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
