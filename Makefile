# mydocker — build, test, install.
#
#   make            build the static release binary
#   make test       unit tests, then the integration suite on this host (root)
#   make demo       run a container that shows its PID and hostname
#   make install    install to $(DESTDIR)$(PREFIX)/bin

# Rust target triple of the shipped binary (static musl).
TARGET  ?= x86_64-unknown-linux-musl
# Install prefix and staging root (make install PREFIX=/usr DESTDIR=/tmp/pkg).
PREFIX  ?= /usr/local
DESTDIR ?=
# cargo to use (rustup's by default).
CARGO   ?= cargo

BIN     := target/$(TARGET)/release/mydocker
SOURCES := Cargo.toml build.rs $(shell find src -name '*.rs')

.PHONY: all prereq unit itest test demo install clean

all: $(BIN)

# The musl target comes from rustup; add it once, quietly, when missing.
prereq:
	@rustup target list --installed 2>/dev/null | grep -qx '$(TARGET)' || rustup target add $(TARGET)

$(BIN): $(SOURCES) | prereq
	$(CARGO) build --release --locked --target $(TARGET)
	@file $(BIN) | grep -q 'static' || { echo "error: $(BIN) is not statically linked"; exit 1; }
	@echo "built $(BIN): $$(stat -c %s $(BIN)) bytes"

# Unit tests: parsers, frame codec, PATH search, plans (no root needed).
unit: | prereq
	$(CARGO) test --locked --target $(TARGET) --bins

# Integration tests: the release binary, run for real (root; skips loudly otherwise).
itest: $(BIN)
	MYDOCKER_BIN=$(CURDIR)/$(BIN) $(CARGO) test --locked --target $(TARGET) --test '*' -- --test-threads=2

test: unit itest

demo: $(BIN)
	$(BIN) run --hostname demo sh -c 'echo "I am PID $$$$ on $$(hostname); my processes:"; ps -o pid,comm 2>/dev/null || ls /proc | grep "^[0-9]"'

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mydocker

clean:
	$(CARGO) clean
