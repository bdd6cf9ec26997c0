#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time against a scratch copy of the committed
# corpus, so a run never grows what is committed. Fails when any target finds a crash; the
# input that crashed is kept under fuzz/work/artifacts/<target>/.
#
#   scripts/fuzz.sh [seconds-per-target]   (default: about 90 s in all)
#
# cargo-fuzz wants a nightly toolchain; none is needed. With the sanitizer off (`-s none`)
# the only unstable thing left is cargo-fuzz's own check for nightly, which RUSTC_BOOTSTRAP
# lifts: the coverage instrumentation it asks rustc for (`-Cpasses=sancov-module` and LLVM
# arguments) is stable. Panics, stack overflows, timeouts and debug assertions still stop a
# run; memory errors that only AddressSanitizer sees would not, and the fuzzed code is safe
# Rust.
#
# Per-target lines read "ok - ..." / "not ok - ...", as scripts/test.sh counts them.
#
# FUZZ_CARGO_LOCK=/path makes each cargo invocation wait for that lock (flock), for machines
# where other builds run alongside.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTC_BOOTSTRAP=1
cargo_() {
    if [[ -n ${FUZZ_CARGO_LOCK:-} ]]; then
        flock "$FUZZ_CARGO_LOCK" cargo "$@"
    else
        cargo "$@"
    fi
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo_ install cargo-fuzz --locked
fi

mapfile -t targets < <(find fuzz/fuzz_targets -name '*.rs' -printf '%f\n' | sed 's/\.rs$//' | sort)
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz: no targets in fuzz/fuzz_targets" >&2
    exit 1
fi
seconds=${1:-$(((90 + ${#targets[@]} - 1) / ${#targets[@]}))}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
    echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2
    exit 2
fi

echo "== building ${#targets[@]} fuzz targets"
start=$SECONDS
(cd fuzz && cargo_ fuzz build --sanitizer none --release --debug-assertions)
echo "built in $((SECONDS - start)) s"

bin_dir=fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release
work=fuzz/work
rm -rf "$work"
mkdir -p "$work"
passed=0
failed=0
failures=()
for target in "${targets[@]}"; do
    corpus=$work/corpus/$target
    artifacts=$work/artifacts/$target
    log=$work/$target.log
    mkdir -p "$corpus" "$artifacts"
    if [[ -d fuzz/corpus/$target ]]; then
        cp -R "fuzz/corpus/$target/." "$corpus/"
    fi
    # -timeout: an input that takes 10 s is a hang worth failing on; -max_len keeps inputs
    # near real request sizes (the parsers' own limits are tested by unit tests).
    status=0
    "$bin_dir/$target" "$corpus" \
        -max_total_time="$seconds" -timeout=10 -max_len=4096 -rss_limit_mb=4096 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    if [[ $status -eq 0 ]]; then
        passed=$((passed + 1))
        echo "ok - fuzz $target (${runs:-?} runs in ${seconds} s)"
    else
        failed=$((failed + 1))
        failures+=("$target")
        echo "not ok - fuzz $target (exit $status); log: $log"
        {
            grep -m 1 -A 1 "panicked at" "$log" || true
            grep -m 2 -E "overflowed|ERROR: libFuzzer|Test unit written" "$log" || true
        } | sed 's/^/     /'
    fi
done

if [[ $failed -gt 0 ]]; then
    echo "reproduce one with: $bin_dir/<target> fuzz/work/artifacts/<target>/<crash-file>"
    echo "failed targets: ${failures[*]}"
fi
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
