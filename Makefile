# hashi: top-level entry points. `make demo` and `make check` do all the set-up they need.
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=

.PHONY: all deps build build-asan build-fuzz check unit asan-check fuzz-smoke interop demo bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHASHI_SANITIZE=ON -DHASHI_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHASHI_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Everything: unit + in-memory session tests under ASan/UBSan, fuzz smoke, then interop with real peers.
check: build build-asan build-fuzz
	@scripts/check.sh

demo: build
	@scripts/demo.sh

bench: build
	@scripts/bench.sh

fuzz: build-fuzz
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} scripts/fuzz.sh

clean:
	rm -rf build build-asan build-fuzz
