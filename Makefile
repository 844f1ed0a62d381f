# The two set-up commands: `make run` and `make test` (see README.md).
# Everything else is a plain CMake build in build/ (release) and build-asan/
# (ASan+UBSan, unit tests).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all setup build build-asan test test-unit run format clean

all: build

setup:
	./scripts/setup

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# The ASan+UBSan unit run comes first; the whole suite last, so the output
# ends with ctest's summary of everything.
test: setup build build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) -L unit --output-on-failure -j$(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 600

test-unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure -j$(JOBS)

run: setup build
	./scripts/run

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
