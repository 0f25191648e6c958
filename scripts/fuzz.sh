#!/usr/bin/env bash
# Fuzz every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 20),
# starting from a scratch copy of its committed corpus so the tree stays
# clean. Fails if any target crashes, and prints the crashing input.
# Needs the nightly toolchain; installs cargo-fuzz when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TERM_COLOR=never
seconds=${FUZZ_SECONDS:-20}
# The code under test forbids `unsafe`; `none` builds and runs faster.
sanitizer=${FUZZ_SANITIZER:-address}

cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# The fuzz build (nightly, instrumented) shares nothing with the main one; a
# target directory outside the checkout lets a fresh clone on the same
# machine reuse it instead of rebuilding everything.
target_dir=${PEERLAB_FUZZ_TARGET_DIR:-$HOME/.cache/peerlab/fuzz-target}
mkdir -p "$target_dir"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# One build for all targets; `fuzz run` below then only checks it is fresh.
cargo +nightly fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir"
mapfile -t targets < <(cargo +nightly fuzz list)

failed=()
for target in "${targets[@]}"; do
  printf '\n==> fuzz %s for %ss\n' "$target" "$seconds"
  mkdir -p "$scratch/corpus/$target" "$scratch/artifacts/$target"
  cp -R "corpus/$target/." "$scratch/corpus/$target/" 2>/dev/null || true
  log="$scratch/$target.log"
  if cargo +nightly fuzz run --sanitizer "$sanitizer" --target-dir "$target_dir" "$target" "$scratch/corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0 \
      -artifact_prefix="$scratch/artifacts/$target/" >"$log" 2>&1; then
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "$log" || tail -n 5 "$log"
  else
    failed+=("$target")
    grep -m1 -A3 'panicked at' "$log" || true
    tail -n 60 "$log"
    for artifact in "$scratch/artifacts/$target"/*; do
      [ -e "$artifact" ] || continue
      mkdir -p "artifacts/$target"
      cp "$artifact" "artifacts/$target/"
      echo "crashing input for $target: fuzz/artifacts/$target/$(basename "$artifact")"
      echo "  base64: $(base64 -w0 "$artifact")"
      od -A x -t x1z -v "$artifact" | head -n 32
      echo "  reproduce: cd fuzz && cargo +nightly fuzz run $target artifacts/$target/$(basename "$artifact")"
    done
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets that crashed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crashes"
