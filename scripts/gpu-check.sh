#!/usr/bin/env bash
# The GPU checks of issue #8, for a machine with an NVIDIA GPU and driver. Builds, then runs:
#   - the kernel-compile test (every kernels/*.cu through NVRTC, PTX and sm_80/sm_90 CUBINs),
#   - the CUDA/CPU parity tests (tests/cuda_parity.rs, whose documentation lists the paths:
#     stage 1 on classes and on regression targets cut into bins, text columns' one-hot groups,
#     missing-value indicators, the interaction screen, sharded stage-1 facts, whole runs with
#     plain, grouped and time-ordered outer folds, a step that falls back to the CPU; same columns
#     kept, same selections; HSOF_REQUIRE_GPU=1 so a GPU that cannot be used fails instead of
#     skipping),
#   - hsof-gpu's NVML reading and `hsofctl gpu --json` on the real device,
#   - the benchmarks: gpu_stage1 (GPU kernel throughput as a share of the card's memory
#     bandwidth, and stage 1's speed-up over the CPU backend on this machine, with two classes
#     and with a regression target) and the CPU-only
#     stage1_throughput for reference.
# Everything is written to OUTDIR (summary.md plus one log per step). Exit status: 0 when every
# test passed, 1 otherwise (the benchmarks run either way).
# NVRTC (libnvrtc.so.12) is looked for in $HSOF_NVRTC_LIB, ~/.cache/hsof-nvrtc-venv (the test
# bootstrap's pip install), $CUDA_HOME/lib64 and /usr/local/cuda/lib64; when none has it and PyPI
# is reachable, it is pip-installed into the venv first.
# Usage: scripts/gpu-check.sh OUTDIR
set -uo pipefail
out="${1:?usage: scripts/gpu-check.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
status=0
step() { printf '\n== %s\n' "$*" | tee -a "$out/summary.md"; }

{
  echo "# GPU check $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo '```'
  uname -srm
  nproc | sed 's/^/CPU cores: /'
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv
  cargo --version
  echo '```'
} > "$out/summary.md" 2>&1

nvrtc_venv="$HOME/.cache/hsof-nvrtc-venv"
if [ -z "${HSOF_NVRTC_LIB:-}" ] \
  && ! compgen -G "$nvrtc_venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12" >/dev/null \
  && ! compgen -G "${CUDA_HOME:-/usr/local/cuda}/lib64/libnvrtc.so*" >/dev/null; then
  step "NVRTC not found: trying pip (nvidia-cuda-nvrtc-cu12)"
  { python3 -m venv "$nvrtc_venv" && "$nvrtc_venv/bin/pip" install -q "nvidia-cuda-nvrtc-cu12>=12.4,<13"; } \
    >> "$out/summary.md" 2>&1 || echo "pip failed: the CUDA backend cannot compile its kernels here" | tee -a "$out/summary.md"
fi

step "build (release)"
if ! cargo build --release -p hsof-select -p hsof-gpu -p hsofctl --tests --benches > "$out/build.log" 2>&1; then
  echo "build FAILED (see build.log)" | tee -a "$out/summary.md"
  tail -30 "$out/build.log"
  exit 1
fi

run_test() { # name, cargo args...
  local name="$1"; shift
  if HSOF_REQUIRE_GPU=1 cargo "$@" -- --nocapture > "$out/$name.log" 2>&1; then
    echo "$name: passed" | tee -a "$out/summary.md"
  else
    echo "$name: FAILED (see $name.log)" | tee -a "$out/summary.md"
    status=1
  fi
  grep -E "^test |test result|skipped" "$out/$name.log" >> "$out/summary.md" || true
}

step "tests"
run_test kernels-compile test --release -p hsof-select --test kernels_compile
run_test cuda-parity test --release -p hsof-select --test cuda_parity
run_test nvml test --release -p hsof-gpu
run_test hsofctl-gpu test --release -p hsofctl --test gpu
cargo run -q --release -p hsofctl -- gpu --json > "$out/hsofctl-gpu.json" 2>> "$out/summary.md" || status=1

step "benchmarks"
cargo bench -q -p hsof-select --bench gpu_stage1 > "$out/bench-gpu-stage1.txt" 2>&1 || status=1
cat "$out/bench-gpu-stage1.txt" | tee -a "$out/summary.md"
cargo bench -q -p hsof-select --bench stage1_throughput > "$out/bench-cpu-stage1.txt" 2>&1 || true
cat "$out/bench-cpu-stage1.txt" >> "$out/summary.md"

step "done: $([ $status -eq 0 ] && echo 'all tests passed' || echo 'FAILURES above')"
exit $status
