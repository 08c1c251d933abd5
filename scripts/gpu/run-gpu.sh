#!/usr/bin/env bash
# The prepared GPU run. `cargo xtask gpu [OUTDIR]` builds the bundle this script sits in on a
# machine without a GPU; on the GPU machine run, from anywhere:
#
#   OUTDIR/run-gpu.sh LOGDIR [--quick] [--force]
#
# It writes everything to LOGDIR (created): facts.txt (nvidia-smi, driver, toolkit, torch),
# one log per step, examples.jsonl + examples-summary.txt (each example on cuda and cpu, one
# epoch), bench.jsonl + bench-summary.md (Strata and PyTorch on the same GPU) and summary.txt
# (PASS/FAIL per step). Steps, in order:
#   1. facts; stops here (exit 3) when nvidia-smi finds no GPU, unless --force;
#   2. every test binary with REQUIRE_GPU=1 (a skip is a failure), one test thread;
#   3. every test binary once under `compute-sanitizer --tool memcheck` (fewer cases);
#   4. every example with --device cuda and --device cpu, --epochs 1 --json;
#   5. the GPU benches: bin/workloads --device cuda (W1-W5, conv2d and LSTM op timings);
#   6. the PyTorch twins on the same GPU (torch/torch_cuda.py; TORCH_PYTHON or python3).
# --quick: 16 conformance cases instead of 64, examples on cuda only, one bench repetition.
# Exit status: 0 when every step passed, 1 otherwise (summary.txt says which).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$#" -lt 1 ] || [ "${1#-}" != "$1" ]; then
  echo "usage: $0 LOGDIR [--quick] [--force]" >&2
  exit 2
fi
mkdir -p "$1"
LOG="$(cd "$1" && pwd)"
shift
QUICK=0
FORCE=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    --force) FORCE=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
SUMMARY="$LOG/summary.txt"
: >"$SUMMARY"
FAILED=0
PY="${TORCH_PYTHON:-python3}"
STEP_TIMEOUT="${STEP_TIMEOUT:-900}"

note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME COMMAND...: runs COMMAND with its output in LOG/NAME.log, records PASS or FAIL.
step() {
  local name="$1"
  shift
  local start rc
  start=$(date +%s)
  echo "== $name: $*"
  timeout "$STEP_TIMEOUT" "$@" >"$LOG/$name.log" 2>&1
  rc=$?
  local took=$(($(date +%s) - start))
  if [ "$rc" -eq 0 ]; then
    note "PASS $name (${took}s)"
  else
    [ "$rc" -eq 124 ] && echo "(killed after ${STEP_TIMEOUT}s)" >>"$LOG/$name.log"
    note "FAIL $name (exit $rc, ${took}s): $LOG/$name.log"
    FAILED=1
  fi
  return "$rc"
}

# ---- 1. facts -------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -a)"
  echo "bundle: $HERE"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm \
      --format=csv
  else
    echo "nvidia-smi: not found"
  fi
  command -v nvcc >/dev/null && nvcc --version | tail -2
  command -v compute-sanitizer >/dev/null && compute-sanitizer --version | head -2
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
      "available", torch.cuda.is_available())' 2>&1 || echo "torch: not importable with $PY"
} >"$LOG/facts.txt" 2>&1
cat "$LOG/facts.txt"

if ! nvidia-smi -L >/dev/null 2>&1; then
  note "NO GPU: nvidia-smi finds no NVIDIA GPU on $(hostname); this run needs one."
  if [ "$FORCE" -eq 0 ]; then
    note "stopping before the tests (pass --force to run them anyway: they fail under REQUIRE_GPU=1)"
    exit 3
  fi
fi

# cuBLAS 13 must be loadable; cudarc dlopens it by name.
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.13'; then
  found="$(find / -name 'libcublas.so.13*' -not -path '/proc/*' 2>/dev/null | head -1)"
  if [ -n "$found" ]; then
    export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    note "libcublas.so.13 from $(dirname "$found") (added to LD_LIBRARY_PATH)"
  else
    note "WARNING: libcublas.so.13 not found; the CUDA backend will refuse to start"
  fi
fi

export STRATA_DATA="$HERE/data"
if [ "$QUICK" -eq 1 ]; then
  export STRATA_CONFORMANCE_CASES="${STRATA_CONFORMANCE_CASES:-16}"
fi

# ---- 2. tests with REQUIRE_GPU=1 ------------------------------------------------------
for t in "$HERE"/tests/*; do
  name="test-$(basename "$t")"
  step "$name" env REQUIRE_GPU=1 "$t" --test-threads=1
  if grep -q 'SKIP: no CUDA device' "$LOG/$name.log"; then
    note "FAIL $name printed a SKIP line under REQUIRE_GPU=1"
    FAILED=1
  fi
done

# ---- 3. compute-sanitizer -------------------------------------------------------------
SANITIZER="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)"
if [ -n "$SANITIZER" ]; then
  for t in "$HERE"/tests/*; do
    step "memcheck-$(basename "$t")" env REQUIRE_GPU=1 STRATA_CONFORMANCE_CASES=4 \
      "$SANITIZER" --tool memcheck --error-exitcode 1 --print-limit 20 \
      "$t" --test-threads=1
  done
else
  note "FAIL memcheck: compute-sanitizer not found (looked on PATH and /usr/local/cuda*/bin)"
  FAILED=1
fi

# ---- 4. examples on cuda and cpu ------------------------------------------------------
: >"$LOG/examples.jsonl"
devices="cuda cpu"
[ "$QUICK" -eq 1 ] && devices="cuda"
for ex in "$HERE"/examples/*; do
  name="$(basename "$ex")"
  for dev in $devices; do
    if step "example-$name-$dev" "$ex" --device "$dev" --epochs 1 --json; then
      tail -n 1 "$LOG/example-$name-$dev.log" >>"$LOG/examples.jsonl"
    fi
  done
done
"$PY" - "$LOG/examples.jsonl" >"$LOG/examples-summary.txt" 2>&1 <<'PYEOF'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        d = json.loads(line)
        rows.setdefault(d.get("example", "?"), {})[d.get("device", "?").split(":")[0]] = d
print("| example | metric | cuda | cpu | samples/s cuda | samples/s cpu | agree |")
print("|---|---|---|---|---|---|---|")
bad = 0
for ex, by in sorted(rows.items()):
    metric = "test_accuracy" if any("test_accuracy" in d for d in by.values()) else "test_rmse"
    g, c = by.get("cuda", {}).get(metric), by.get("cpu", {}).get(metric)
    # One epoch from the same seed: the same up to float summation order.
    tol = 0.02 if metric == "test_accuracy" else 0.05 * abs(c or 1.0)
    ok = "-" if g is None or c is None else ("yes" if abs(g - c) <= tol else "NO")
    bad += ok == "NO"
    sps = lambda d: d.get("train_samples_per_sec", "-")
    print(f"| {ex} | {metric} | {g} | {c} | {sps(by.get('cuda', {}))} | {sps(by.get('cpu', {}))} | {ok} |")
ran_on_gpu = sum("cuda" in by for by in rows.values())
if not ran_on_gpu:
    print("no example finished on the GPU")
sys.exit(1 if bad or not ran_on_gpu else 0)
PYEOF
if [ $? -eq 0 ]; then
  note "PASS examples: GPU and CPU metrics agree where both ran (examples-summary.txt)"
else
  note "FAIL examples: none finished on the GPU, or GPU and CPU disagree: $LOG/examples-summary.txt"
  FAILED=1
fi

# ---- 5. Strata's GPU benches ------------------------------------------------------------
REPS=5
[ "$QUICK" -eq 1 ] && REPS=1
step bench-strata "$HERE/bin/workloads" --device cuda --reps "$REPS" \
  W1_mlp_train W2_cnn_train W3_lstm_train W4_conv1d_text_train W5_cnn_infer \
  micro_conv2d_fwd micro_conv2d_bwd micro_lstm_fwd_bwd micro_lstm_fwd

# ---- 6. PyTorch on the same GPU ---------------------------------------------------------
for s in "$HERE"/torch/w*.py "$HERE"/torch/micro_*.py; do
  [ -e "$s" ] || continue
  step "torch-$(basename "$s" .py)" "$PY" "$HERE/torch/torch_cuda.py" "$s" --threads 1 \
    --reps "$REPS"
done
cat "$LOG"/bench-strata.log "$LOG"/torch-*.log 2>/dev/null | grep '^{' >"$LOG/bench.jsonl"
if [ -e "$HERE/torch/summarize.py" ]; then
  "$PY" "$HERE/torch/summarize.py" <"$LOG/bench.jsonl" >"$LOG/bench-summary.md" 2>&1
fi

echo
echo "== summary ($SUMMARY)"
cat "$SUMMARY"
[ -e "$LOG/examples-summary.txt" ] && cat "$LOG/examples-summary.txt"
[ -e "$LOG/bench-summary.md" ] && cat "$LOG/bench-summary.md"
exit "$FAILED"
