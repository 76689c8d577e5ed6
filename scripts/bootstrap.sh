#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build (`run`), run the demo
# environment (`demo`: `run` plus Prometheus and AlertManager) or test (`test`)
# HSOF Control Center. Idempotent: every step checks first and skips what is there.
# Only package registries are used (apt, crates.io, npm, PyPI); nothing is downloaded elsewhere.
set -euo pipefail
mode="${1:-run}"
cd "$(dirname "$0")/.."

say() { printf '\033[1mbootstrap:\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mbootstrap:\033[0m %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: install the packages listed in scripts/bootstrap.sh by hand"
  SUDO="sudo"
fi

# System packages: Tauri's WebKitGTK stack for `run`; Xvfb and the WebKit WebDriver for `test`.
run_pkgs=(build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  librsvg2-dev libayatana-appindicator3-dev libsoup-3.0-dev curl file)
test_pkgs=(buildah docker-registry xvfb xauth webkit2gtk-driver prometheus prometheus-alertmanager python3-venv faketime libfaketime tzdata
  gnome-keyring dbus-bin)
pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")
[ "$mode" = demo ] && pkgs+=(prometheus prometheus-alertmanager)
# kubectl: Debian's kubernetes-client, unless a kubectl is already installed (a cloud
# SDK's, say), whose /usr/bin/kubectl the package would collide with.
if [ "$mode" = test ] && ! command -v kubectl >/dev/null; then
  pkgs+=(kubernetes-client)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} with your package manager"
  say "installing system packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node.js (>= 18 for Vite 6): Debian's package when absent.
if ! command -v npm >/dev/null; then
  say "installing nodejs and npm from apt"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "Node.js $node_major is too old: Vite needs 18 or newer"

# Rust: the exact toolchain rust-toolchain.toml pins (with rustfmt and clippy), through rustup
# when it is present; Debian's rustc is older than Tauri 2's minimum (1.90).
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
command -v cargo >/dev/null || die "Rust is not installed: install it with rustup (https://rustup.rs), then re-run"
pinned=$(sed -nE 's/^channel *= *"([^"]+)".*/\1/p' rust-toolchain.toml)
if command -v rustup >/dev/null; then
  if ! rustup run "$pinned" cargo clippy --version >/dev/null 2>&1 \
    || ! rustup run "$pinned" cargo fmt --version >/dev/null 2>&1; then
    say "installing the pinned Rust toolchain $pinned (rustfmt, clippy) through rustup"
    rustup toolchain install "$pinned" --profile minimal --component rustfmt --component clippy
  fi
elif ! rustc --version | grep -q "^rustc $pinned "; then
  say "warning: rustup not found and rustc is $(rustc --version), not the pinned $pinned"
fi
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
[ "$rust_minor" -ge 90 ] || die "rustc $(rustc --version) is too old: run \`rustup update stable\` (1.90 or newer)"
if [ "$mode" = test ]; then
  for c in rustfmt clippy; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
      command -v rustup >/dev/null || die "cargo $c is missing and rustup is not available to add it"
      say "adding rust component $c"
      rustup component add "$c"
    fi
  done
fi

# npm packages, exactly as locked.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# tauri-driver: the WebDriver bridge between the specs and the app (from crates.io).
tauri_driver_version=2.1.0
# (it has no --version: cargo's install list says which version is there)
if [ "$mode" = test ] && ! cargo install --list 2>/dev/null | grep -qxF "tauri-driver v$tauri_driver_version:"; then
  say "installing tauri-driver $tauri_driver_version (cargo install --locked)"
  cargo install tauri-driver --locked --version "$tauri_driver_version"
fi
# NVRTC, CUDA's run-time compiler, from PyPI (nvidia-cuda-nvrtc-cu12): the kernel test compiles
# every kernels/*.cu with it, which needs no GPU and no driver. It lives in a venv under
# ~/.cache, where the test (hsof-select/tests/kernels_compile.rs) looks for it.
if [ "$mode" = test ]; then
  nvrtc_venv="$HOME/.cache/hsof-nvrtc-venv"
  if ! compgen -G "$nvrtc_venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12" >/dev/null; then
    say "installing NVRTC (pip: nvidia-cuda-nvrtc-cu12) into $nvrtc_venv"
    python3 -m venv "$nvrtc_venv"
    "$nvrtc_venv/bin/pip" install -q --disable-pip-version-check "nvidia-cuda-nvrtc-cu12>=12.4,<13"
  fi
fi
say "ready ($mode)"
