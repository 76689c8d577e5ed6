# HSOF Control Center: `make run` to use it, `make test` to check everything.
# Both bootstrap what a fresh Debian/Ubuntu machine lacks (scripts/bootstrap.sh).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)
APP := target/debug/hsof-control-center
# target/debug/hsofctl exactly as `cargo test --workspace` builds it for the CLI suites (the
# same features, so nothing is compiled again after rust-test; `cargo build -p hsofctl`
# unifies features over hsofctl's graph alone and rebuilds ~150 dependencies).
HSOFCTL_AS_TESTED := cargo test --workspace --no-run -q --test cli

.PHONY: run demo test bootstrap bootstrap-demo bootstrap-test app lint unit rust-test test-dates e2e bindings bench soak package clean image image-offline

run: bootstrap app
	./$(APP)

# A simulated HSOF (fake cluster, exporter, Prometheus with the runbook rules, AlertManager)
# in a profile of its own, the app opened on it; closing the app stops it all.
demo: bootstrap-demo app
	cargo build -p hsofctl
	scripts/demo.sh

test: bootstrap-test lint unit rust-test test-dates app e2e package-check image-offline
	@echo "make test: all suites passed"

bootstrap:
	@scripts/bootstrap.sh run

bootstrap-demo:
	@scripts/bootstrap.sh demo

bootstrap-test:
	@scripts/bootstrap.sh test

# The suites that start no third-party server, again under libfaketime at a week's end,
# both Berlin DST changes, a leap day and a year's end (scripts/test-dates.sh).
test-dates:
	scripts/test-dates.sh

# The desktop binary with the UI embedded (vite build + cargo build with custom-protocol).
app:
	npx tauri build --debug --no-bundle

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	npm run check

unit:
	npm run test:unit

# What `cargo test --workspace` checks, its binaries run side by side (scripts/rust-test.sh;
# RUST_TEST_JOBS at a time, default 3).
rust-test:
	scripts/rust-test.sh

# The real app under Xvfb: the specs split over E2E_JOBS displays side by side (default 2),
# one spec at a time on each, each launching its own app (scripts/e2e.sh).
e2e: app
	scripts/e2e.sh

# Regenerate ui/src/lib/ipc/bindings.ts from the Rust commands.
bindings:
	UPDATE_BINDINGS=1 cargo test -p hsof-control-center --test bindings

# Ten minutes (HSOF_SOAK_SECS) of the core services under scheduled faults against the
# fake cluster, real Prometheus/AlertManager and a Slack receiver; figures in
# test-output/soak.json. Not part of `make test`.
soak: bootstrap-test
	cargo test -p hsof-tests --test soak -- --ignored --nocapture

bench:
	scripts/bench.sh

# The Debian package of a release build, hsofctl on the PATH beside the app:
# target/release/bundle/deb/*.deb (`sudo apt install ./target/release/bundle/deb/*.deb`).
package: bootstrap
	cargo build --release -p hsofctl
	mkdir -p target/package && cp target/release/hsofctl target/package/hsofctl
	npx tauri build --bundles deb
	scripts/package-check.sh target/release/bundle/deb

# What CI checks of the package: the same bundle from the debug build `make app` made,
# unpacked into a temporary root, its hsofctl and app run (scripts/package-check.sh).
package-check: app
	$(HSOFCTL_AS_TESTED)
	mkdir -p target/package && cp target/debug/hsofctl target/package/hsofctl
	npx tauri build --debug --bundles deb
	scripts/package-check.sh target/debug/bundle/deb

# The engine image for `[experiments.cluster] image` (image/Containerfile, CUDA runtime base)
# with Debian's buildah; pulling the base needs a registry.
image:
	cargo build --release -p hsofctl
	scripts/image.sh

# What CI checks without a registry: the debug hsofctl and its libraries on a scratch base,
# committed to target/image/hsof-engine.tar and run from the image's own files.
image-offline:
	$(HSOFCTL_AS_TESTED)
	scripts/image.sh offline

clean:
	cargo clean
	rm -rf dist node_modules test-output
