#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, nice'd, and prints one line per
# target: executions, corpus size, crashes. Usage: fuzz/run.sh [SECONDS]
# (per target, default 60). Seeds each corpus from real messages first:
# queries as dig writes them, responses from `dnslab auth`, the shipped zone
# files and topologies. Exits 1 if any target found a crash; the inputs are
# in fuzz/artifacts/<target>/. Exits 2 if the targets do not build.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
toolchain="${FUZZ_TOOLCHAIN:-+nightly}"
root="$(cd .. && pwd)"
mkdir -p corpus logs

seed_dir() { mkdir -p "corpus/$1"; echo "corpus/$1"; }

# Queries: the exact octets dig sends, for the request path.
if command -v dig >/dev/null && command -v python3 >/dev/null; then
    python3 capture.py queries "$(seed_dir auth_request)"
fi

# Zone files: every shipped master file, for the reader and checks.
zones="$(seed_dir zone_file)"
find "$root/zones" "$root/tests/data" -name '*.zone' -exec cp {} "$zones/" \;

# Topologies, if the target exists.
if [ -d "$root/src/topology" ]; then
    topo="$(seed_dir topology)"
    find "$root/zones" "$root/tests/data" -name '*.yaml' -exec cp {} "$topo/" \;
fi

# Responses: a real authoritative server answering dig's queries, for the
# resolver's classification. Needs a built dnslab; skipped without one.
dnslab="${DNSLAB:-$root/target/release/dnslab}"
if [ -x "$dnslab" ] && command -v python3 >/dev/null; then
    port=$((20000 + RANDOM % 20000))
    "$dnslab" auth --listen "127.0.0.1:$port" \
        --zone "$root/zones/example.com.zone" >logs/seed-auth.log 2>&1 &
    auth_pid=$!
    sleep 1
    python3 capture.py responses "$(seed_dir resolver_response)" 127.0.0.1 "$port" || true
    kill "$auth_pid" 2>/dev/null || true
    wait "$auth_pid" 2>/dev/null || true
fi

# Build every target once; a build failure is not a finding.
if ! nice -n 19 cargo "$toolchain" fuzz build >logs/build.log 2>&1; then
    tail -20 logs/build.log >&2
    echo "fuzz: the targets do not build (fuzz/logs/build.log)" >&2
    exit 2
fi

crashed=0
for target in $(cargo "$toolchain" fuzz list); do
    mkdir -p "corpus/$target"
    log="logs/$target.log"
    # -rss_limit_mb and -timeout turn memory blow-ups and hangs into
    # findings; -max_len covers a whole TCP message.
    if nice -n 19 cargo "$toolchain" fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -max_len=65535 -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        crashed=1
    fi
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
    echo "$target: $status, $execs execs in ${seconds}s, corpus $(ls "corpus/$target" | wc -l) inputs (log: fuzz/$log)"
done
exit "$crashed"
