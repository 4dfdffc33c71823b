# mydocker — build, test, install.
#
#   make                       build the static release binary
#   make test                  everything: unit, host integration, e2e, the four QEMU VMs, one total line
#   make unit                  unit tests (no root needed)
#   make itest                 integration suite on this host (root; skips loudly otherwise)
#   make qemu                  the integration suite in all four VMs (x86_64/aarch64 x cgroup v1/v2)
#   make e2e                   podman and containerd drive runc, crun and mydocker (root; part of make test)
#   make qemu ARCH=aarch64 CGROUP=v2   one VM
#   make stress                2,000 containers with limits, 2 at a time, random signals, and 2,000
#                              runtimes SIGKILLed during start-up; nothing leaks, no container survives
#   make fuzz                  cargo-fuzz the parsers, FUZZ_SECONDS (60) each
#   make bench                 mydocker vs the kernel floor, unshare, bwrap, crun, runc (bench/results.md)
#   make rootfs                a busybox rootfs in $(BUILD)/rootfs for --rootfs demos and tests
#   make demo                  run a container that shows its PID 1 and hostname
#   make install               install to $(DESTDIR)$(PREFIX)/bin

SHELL := /bin/bash

# Rust target triple of the shipped binary (static musl).
TARGET  ?= x86_64-unknown-linux-musl
# Install prefix and staging root (make install PREFIX=/usr DESTDIR=/tmp/pkg).
PREFIX  ?= /usr/local
DESTDIR ?=
# cargo to use (rustup's by default).
CARGO   ?= cargo
# Where downloads (kernels, busybox), initramfs images and logs go.
BUILD   ?= build
# QEMU VMs: guest architecture(s) and cgroup layout(s); empty means all.
ARCH    ?=
CGROUP  ?=
# QEMU accelerator: tcg (nested KVM hangs on these machines; ACCEL=kvm to try).
ACCEL   ?= tcg
# Seconds one VM may take before it counts as hung.
QEMU_TIMEOUT ?= 600
# Containers in a row for the cleanup stress test inside each VM (200 on the host).
STRESS_N ?= 20

ARCHES  := $(or $(ARCH),x86_64 aarch64)
MODES   := $(or $(CGROUP),v1 v2)
BIN     := target/$(TARGET)/release/mydocker
SOURCES := Cargo.toml build.rs $(shell find src -name '*.rs')
LOGS    := $(BUILD)/logs

.PHONY: all prereq unit seccomp-prebuilt itest qemu test bench stress fuzz demo install clean rootfs e2e FORCE

all: $(BIN)

# The musl target comes from rustup; add it once, quietly, when missing.
prereq:
	@rustup target list --installed 2>/dev/null | grep -qx '$(TARGET)' || rustup target add $(TARGET)

# FORCE: cargo decides what to rebuild (build.rs keeps .eh_frame out at
# link time); the static check below follows every build.
$(BIN): $(SOURCES) FORCE | prereq
	$(CARGO) build --release --locked --target $(TARGET)
	@! readelf -l $(BIN) | grep -q 'INTERP' || { echo "error: $(BIN) is not statically linked"; exit 1; }
	@echo "built $(BIN): $$(stat -c %s $(BIN)) bytes"

unit: | prereq
	@mkdir -p $(LOGS)
	@tools/seccomp-prereq.sh
	set -o pipefail; $(CARGO) test --locked --target $(TARGET) --bins 2>&1 | tee $(LOGS)/unit.log

# Regenerates src/seccomp/prebuilt.rs (docker's default filter, as the
# compiler under test makes it; `make unit` fails while it is stale).
seccomp-prebuilt: | prereq
	MYDOCKER_REGEN=1 $(CARGO) test --locked --target $(TARGET) --bins the_prebuilt_default_filter_is_current

# A busybox rootfs for demos and the --rootfs tests: $(BUILD)/rootfs.
rootfs: $(BUILD)/rootfs/bin/busybox

$(BUILD)/rootfs/bin/busybox: tests/mkrootfs.sh
	tests/mkrootfs.sh $(BUILD)

# The release binary, run for real. --nocapture so skip reasons are printed and counted.
itest: $(BIN) rootfs
	@mkdir -p $(LOGS)
	@tools/itest-prereq.sh
	set -o pipefail; MYDOCKER_BIN=$(CURDIR)/$(BIN) MYDOCKER_ROOTFS=$(CURDIR)/$(BUILD)/rootfs $(CARGO) test --locked --target $(TARGET) --test '*' -- --test-threads=2 --nocapture 2>&1 | tee $(LOGS)/itest.log

# podman and containerd (Debian's, installed by tests/e2e/prereq.sh) drive
# each runtime of E2E_RUNTIMES through the same cases; the first is the
# reference the others must match. E2E_ONLY: a regex over case names.
E2E_RUNTIMES ?= runc crun mydocker
E2E_ONLY ?=
e2e: $(BIN) rootfs
	@mkdir -p $(LOGS)
	tests/e2e/prereq.sh
	set -o pipefail; /usr/bin/python3 tests/e2e/run.py --build $(BUILD) --rootfs $(BUILD)/rootfs \
	  --mydocker $(CURDIR)/$(BIN) --only '$(E2E_ONLY)' $(E2E_RUNTIMES) 2>&1 | tee $(LOGS)/e2e.log

qemu:
	@mkdir -p $(LOGS)
	qemu/prereq.sh $(BUILD) $(ARCHES)
	@rc=0; for a in $(ARCHES); do for m in $(MODES); do \
	  echo "== qemu $$a-$$m"; \
	  ACCEL=$(ACCEL) QEMU_TIMEOUT=$(QEMU_TIMEOUT) STRESS_N=$(STRESS_N) CARGO=$(CARGO) \
	    qemu/vm.sh $(BUILD) $$a $$m 2>&1 | tee $(LOGS)/qemu-$$a-$$m.log; \
	  [ $${PIPESTATUS[0]} = 0 ] || rc=1; \
	done; done; exit $$rc

# Every step runs even if an earlier one failed, so the total line is complete.
test:
	@rm -rf $(LOGS); mkdir -p $(LOGS)
	@rc=0; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory itest || rc=1; \
	$(MAKE) --no-print-directory e2e E2E_ONLY= || rc=1; \
	$(MAKE) --no-print-directory qemu ARCH= CGROUP= || rc=1; \
	echo "== summary"; \
	tests/summary.sh $(LOGS)/unit.log $(LOGS)/itest.log $(LOGS)/e2e.log $(foreach a,x86_64 aarch64,$(foreach m,v1 v2,$(LOGS)/qemu-$(a)-$(m).log)) || rc=1; \
	exit $$rc

# Hygiene under load (not a timed test): STRESS_COUNT containers with limits,
# 2 at a time, a third of them signalled; nothing may be left behind.
STRESS_COUNT ?= 2000
stress: $(BIN) rootfs
	/usr/bin/python3 tests/stress.py $(CURDIR)/$(BIN) $(STRESS_COUNT) $(CURDIR)/$(BUILD)/rootfs

# Fuzzing with cargo-fuzz (libFuzzer, nightly): FUZZ_SECONDS per target. A
# crash or a hang (-timeout) fails it, and the input is kept in
# fuzz/regressions/<target>/, which the unit tests replay from then on.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := cli frame values cgroup json seccomp config
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
	  rm -rf fuzz/artifacts/$$t; \
	  if ! cargo +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=1024; then \
	    rc=1; mkdir -p fuzz/regressions/$$t; cp fuzz/artifacts/$$t/* fuzz/regressions/$$t/ 2>/dev/null; \
	    echo "fuzz $$t: FAILED, input kept in fuzz/regressions/$$t"; \
	  fi; \
	done; exit $$rc

# One run, all launchers side by side; only ratios within the run count.
bench: $(BIN) rootfs
	CARGO=$(CARGO) bench/run.sh $(BUILD) $(BIN)

demo: $(BIN)
	$(BIN) run --hostname demo sh -c 'echo "I am PID $$$$ on $$(hostname); my processes:"; ps -o pid,comm 2>/dev/null || ls /proc | grep "^[0-9]"'

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mydocker

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
