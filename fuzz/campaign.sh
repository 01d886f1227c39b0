#!/usr/bin/env bash
# Runs ferry's fuzz targets one after another, each for a fixed time, then minimizes each
# corpus and re-archives it into fuzz/minimized/TARGET.tar.gz (what the stable test run
# replays). Prints one summary line per target for docs/RELIABILITY.md §4.
#
#   fuzz/campaign.sh [--seconds N] [--rss-mb M] [TARGET...]    (default: every target, 600 s)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Logs go to
# fuzz/artifacts/TARGET.log; a crash leaves its input in fuzz/artifacts/TARGET/ and stops
# the campaign with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")"

seconds=600
rss_mb=2048
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --rss-mb) rss_mb="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' Cargo.toml | grep -v '^ferry-'))
fi

cargo +nightly fuzz build -O >/dev/null

for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    # Start from the seeds and the archived minimized corpus, so a fresh checkout resumes.
    cp -n "seeds/$t"/* "corpus/$t/" 2>/dev/null || true
    if [ -f "minimized/$t.tar.gz" ]; then
        tar -C "corpus/$t" --skip-old-files -xzf "minimized/$t.tar.gz"
    fi
    log="artifacts/$t.log"
    start=$(date +%s)
    status=0
    cargo +nightly fuzz run -O "$t" -- -max_total_time="$seconds" -rss_limit_mb="$rss_mb" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    took=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$status" -ne 0 ]; then
        echo "$t: FAILED after ${took}s (exit $status); see fuzz/$log" >&2
        grep -E '^(==|SUMMARY|artifact_prefix|Test unit written)' "$log" | tail -5 >&2 || true
        exit 1
    fi
    cargo +nightly fuzz cmin -O "$t" -- -rss_limit_mb="$rss_mb" >"artifacts/$t.cmin.log" 2>&1
    n=$(find "corpus/$t" -type f | wc -l)
    tar -C "corpus/$t" -czf "minimized/$t.tar.gz" .
    echo "$t: ${took}s clean, ${execs:-?} executions, minimized corpus $n"
done
