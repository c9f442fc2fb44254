#!/usr/bin/env bash
# bench/soak.sh -- a bounded soak of `dnslab up` through its resolver.
#
# Starts the built-in hierarchy (a copy of zones/default with a CNAME
# loop added) from the release binary, sends DURATION seconds of
# dnsperf at a fixed RATE to the resolver, mixing four kinds of names:
#   cached    the textbook names, asked over and over;
#   uncached  random names under the *.tea-shop.co.uk wildcard (a walk each);
#   nxdomain  random names under umass.edu that do not exist;
#   failing   a CNAME loop added to the com. zone (loopa.com <-> loopb.com):
#             SERVFAIL once the resolver's chain limit is reached (the
#             topology checks refuse lame or dangling delegations, so a
#             loop is the failure a valid topology can still hold);
# then reports answers, errors, latency percentiles (from dnsperf -v) and
# the process's RSS at start and end. It stops what it started, by PID.
# A script, not a test: nothing here asserts.
#
# Env: DURATION [120]  seconds of load     RATE [500]  queries per second
#      PORT     [random high]  the hierarchy's port; the resolver gets PORT+1
#      DNSLAB   [$CARGO_TARGET_DIR or <repo>/target]/release/dnslab
#      NO_BUILD=1  use DNSLAB as it is
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
duration="${DURATION:-120}"
rate="${RATE:-500}"
port="${PORT:-$((20000 + RANDOM % 30000))}"
resolver_port=$((port + 1))
dnslab="${DNSLAB:-${CARGO_TARGET_DIR:-$root/target}/release/dnslab}"
work="$(mktemp -d "${TMPDIR:-/tmp}/dnslab-soak.XXXXXX")"
up_pid=""

cleanup() {
    if [ -n "$up_pid" ] && kill -0 "$up_pid" 2>/dev/null; then
        kill "$up_pid"
        wait "$up_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

command -v dnsperf >/dev/null || { echo "soak: needs dnsperf (apt-get install dnsperf)" >&2; exit 1; }
if [ -z "${NO_BUILD:-}" ]; then
    (cd "$root" && cargo build --release --bin dnslab >&2)
fi
[ -x "$dnslab" ] || { echo "soak: no dnslab binary at $dnslab" >&2; exit 1; }

# The hierarchy, plus a name that cannot be resolved.
cp -r "$root/zones/default" "$work/zones"
printf '\n; soak: a CNAME loop, for names that fail\nloopa IN CNAME loopb.com.\nloopb IN CNAME loopa.com.\n' \
    >>"$work/zones/com.zone"

# The query mix: a quarter of each kind, shuffled.
awk -v n="$((duration * rate))" -v seed="$RANDOM" 'BEGIN {
    srand(seed)
    split("gaia.cs.umass.edu www.busy-site.org www.enterprise.com video.netcinema.com www.networkutopia.com www.tea-shop.co.uk", cached, " ")
    for (i = 0; i < n; i++) {
        kind = i % 4
        if (kind == 0) print cached[1 + i % 6] " A"
        else if (kind == 1) printf "u%d-%d.tea-shop.co.uk A\n", i, int(rand() * 1e9)
        else if (kind == 2) printf "nx%d-%d.umass.edu A\n", i, int(rand() * 1e9)
        else print ((i % 8 == 3) ? "loopa.com A" : "loopb.com A")
    }
}' | shuf >"$work/queries"

"$dnslab" up "$work/zones/topology.yaml" --port "$port" \
    --resolver "127.0.0.1:$resolver_port" --no-log-queries >"$work/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 50); do
    dig +short +tries=1 +time=1 -p "$resolver_port" @127.0.0.1 www.busy-site.org A >/dev/null 2>&1 && break
    kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; exit 1; }
    sleep 0.2
done
rss_start="$(ps -o rss= -p "$up_pid" | tr -d ' ')"

echo "soak: ${duration}s at ${rate} q/s through the resolver on 127.0.0.1:$resolver_port (dnslab up PID $up_pid)"
dnsperf -s 127.0.0.1 -p "$resolver_port" -d "$work/queries" -l "$duration" -Q "$rate" \
    -c 8 -q 500 -t 5 -v >"$work/dnsperf.out" 2>&1 || true
rss_end="$(ps -o rss= -p "$up_pid" 2>/dev/null | tr -d ' ' || echo '?')"
kill -0 "$up_pid" 2>/dev/null && alive=yes || alive=NO

# The summary dnsperf prints, then our own figures.
sed -n '/Statistics:/,$p' "$work/dnsperf.out"
# -v lines: "> RCODE name type latency-seconds"
grep '^> ' "$work/dnsperf.out" | awk '{print $NF}' | sort -g >"$work/latencies"
percentile() {
    awk -v p="$1" '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        i = int(NR * p / 100); if (i < 1) i = 1; if (i > NR) i = NR
        printf "%.2f ms\n", v[i] * 1000 }' "$work/latencies"
}
echo "answers by rcode:"
grep '^> ' "$work/dnsperf.out" | awk '{print "  " $2}' | sort | uniq -c
echo "latency: p50 $(percentile 50), p90 $(percentile 90), p99 $(percentile 99), p99.9 $(percentile 99.9), max $(percentile 100)"
echo "RSS of dnslab up: start ${rss_start} KiB, end ${rss_end} KiB; still running: $alive"
