#!/usr/bin/env bash
# bench/update.sh -- acknowledged dynamic updates per second (RFC 2136,
# signed with TSIG) with durability on, dnslab and Knot side by side in one
# run: one update at a time, and 16 in flight; medians over RUNS and the
# ratios dnslab/knot (above 1: dnslab acknowledges more).
#
# Both servers serve the same zone from a fresh copy each run, once for
# each N in SIZES: bench.lab. (SOA, NS, the name server's A) for 0, else
# bigzone.sh's big.lab. with N host records, so that what a batch costs
# on a big zone shows; on 127.0.0.30 (dnslab) and 127.0.0.31
# (Knot), PORT, one UDP worker each, unpinned, their state on the same
# disk (RUN_DIR):
#   dnslab  --allow-update key:bench, its journal in a data directory:
#           every update fdatasync'ed before it is answered, updates
#           waiting together sharing one flush;
#   Knot    the lab's configuration (zonefile-sync: -1: no zone file
#           written, as dnslab), with an ACL with action update and the
#           key, and journal-content: changes (its LMDB journal, synced on
#           every commit).
# The client is bench/update_load.rs for both (IN_FLIGHT threads, each with
# its own UDP socket, sending one signed update and waiting for its answer
# before the next; each update adds a name of its own). Per measurement:
#   rate     acknowledged (NOERROR) updates per second,
#   p50/p99  latency of an acknowledged update, ms,
#   cpu_us   the server's CPU per acknowledged update (clock ticks of its
#            process tree, 10 ms resolution),
# plus refused and timed-out counts (both should be 0). Order: size by
# size, run by run, server by server, each doing IN_FLIGHT 1 then 16, so
# that the machine's drift is shared. Target: at least Knot's rate.
# Raw output: $RESULTS_DIR/update.txt.
# Env: PORT [53] RUNS [3] DURATION [5] FLIGHTS ["1 16"] SIZES ["0 1000000"]
#      QUIET_WAIT [10] UPDATE_LOAD [the release build of the example],
#      plus bench/lib.sh's.
# Time: SIZES x RUNS x 2 servers x FLIGHTS x DURATION s, plus starts and
# the big zone's loads (~3 min).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=${PORT:-53}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
FLIGHTS=${FLIGHTS:-"1 16"}
SIZES=${SIZES:-"0 1000000"}
# the lab waits for a quiet machine before each measurement; not forever
export QUIET_WAIT=${QUIET_WAIT:-10}
impls="dnslab knot"
addr_of() { case "$1" in dnslab) echo 127.0.0.30 ;; knot) echo 127.0.0.31 ;; esac; }
SECRET="aW1lcnNpYmxlLXVwZGF0ZS1iZW5jaC1rZXktMzI4OTQ="
KEY="hmac-sha256:bench:$SECRET"
command -v knotd >/dev/null || lab_install knot
bench_build
LOAD="${UPDATE_LOAD:-${CARGO_TARGET_DIR:-$BENCH_ROOT/target}/release/examples/update_load}"
if [ -z "${NO_BUILD:-}" ]; then
    (cd "$BENCH_ROOT" && cargo build --release --example update_load >&2) || die "cannot build update_load"
fi
[ -x "$LOAD" ] || die "no update_load at $LOAD"

# zone_of RECORDS: sets ZONE and ZONE_FILE: bench.lab. (SOA, NS and the
# name server's A) for 0, else the lab's big.lab. with RECORDS host
# records (bench/lib.sh's big_zone, the file bigzone.sh and axfr.sh load).
zone_of() {
    if [ "$1" -gt 0 ]; then
        big_zone "$1"
        ZONE=big.lab. ZONE_FILE=$BIG_ZONE
        return
    fi
    ZONE=bench.lab. ZONE_FILE="$RUN_DIR/update-bench.lab.zone"
    cat > "$ZONE_FILE" <<'EOF'
$ORIGIN bench.lab.
$TTL 300
@   IN SOA ns.bench.lab. admin.bench.lab. 1 3600 600 86400 300
@   IN NS  ns.bench.lab.
ns  IN A   127.0.0.53
EOF
}

# start_server IMPL: IMPL on its address with a fresh copy of ZONE_FILE
# and fresh state. Knot runs the lab's configuration (knot_edited), plus
# what updates need: the key, an ACL that lets it update the zone, and a
# journal that keeps changes.
start_server() {
    local name="update-$1" d="$RUN_DIR/update-$1" zone="$RUN_DIR/update-$1.zone" addr
    addr=$(addr_of "$1")
    cp "$ZONE_FILE" "$zone"
    case "$1" in
        dnslab)
            rm -rf "$d"; mkdir -p "$d"
            printf 'key "bench" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$SECRET" > "$d/bench.key"
            lab_spawn "$name" "$DNSLAB" auth --listen "$addr:$PORT" --udp-workers 1 \
                --zone "$ZONE=$zone" --tsig-key "$d/bench.key" \
                --allow-update key:bench --data-dir "$d/data" >/dev/null ;;
        knot)
            knot_edited "$name" "$addr" "$PORT" "$ZONE=$zone" \
                's|journal-content: none|journal-content: changes|' \
                "s|^template:\$|key:\n  - id: bench\n    algorithm: hmac-sha256\n    secret: $SECRET\nacl:\n  - id: update\n    address: 127.0.0.0/8\n    key: bench\n    action: update\ntemplate:|" \
                's|^    file: "\(.*\)"$|    file: "\1"\n    acl: update|' ;;
    esac
}

cleanup() { for i in $impls; do lab_stop "update-$i"; done; }
trap cleanup EXIT

out="$RESULTS_DIR/update.txt"
{
    echo "# bench/update.sh $(date -u +%FT%TZ) duration=${DURATION}s runs=$RUNS sizes=\"$SIZES\" $(nproc) cores, state on $(df --output=source "$RUN_DIR" | tail -1)"
    echo "# $("$DNSLAB" --version) | $(knotd -V 2>&1 | head -1)"
    printf '%-7s %8s %-4s %9s %9s %9s %9s %8s %8s %8s\n' impl records run in_flight rate p50_ms p99_ms cpu_us refused timeouts
} | tee "$out"

hz=$(getconf CLK_TCK)
for size in $SIZES; do
    zone_of "$size"
    for r in $(seq "$RUNS"); do
        for i in $impls; do
            start_server "$i"
            addr=$(addr_of "$i")
            # the last name of the zone answers once all of it is loaded
            last=ns.$ZONE; [ "$size" -gt 0 ] && last="host$size.$ZONE"
            if ! wait_answer "$addr" "$PORT" "$last" A 60 norec >/dev/null; then
                log "$i did not answer; see $RUN_DIR/update-$i.out"
                lab_stop "update-$i"
                continue
            fi
            for flight in $FLIGHTS; do
                lab_wait_quiet
                pid=$(lab_pid "update-$i")
                t0=$(lab_cpu_ticks "$pid")
                line=$("$LOAD" "$addr:$PORT" "$ZONE" "$KEY" "$flight" "$DURATION" "s$size-r$r-f$flight" | grep '^RESULT')
                t1=$(lab_cpu_ticks "$pid")
                val() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
                awk -v i="$i" -v n="$size" -v r="$r" -v f="$flight" -v rate="$(val rate)" -v p50="$(val p50_ms)" \
                    -v p99="$(val p99_ms)" -v acked="$(val acked)" -v a="$t0" -v b="$t1" -v hz="$hz" \
                    -v ref="$(val refused)" -v to="$(val timeouts)" \
                    'BEGIN { cpu = acked > 0 ? (b - a) / hz * 1e6 / acked : 0
                             printf "%-7s %8s %-4s %9s %9s %9s %9s %8.1f %8s %8s\n", i, n, r, f, rate, p50, p99, cpu, ref, to }' | tee -a "$out"
            done
            lab_stop "update-$i"
        done
    done
done

# column C's median over IMPL's runs on SIZE with IN_FLIGHT F
med() { awk -v i="$1" -v n="$2" -v f="$3" -v c="$4" '$1 == i && $2 == n && $3 ~ /^[0-9]+$/ && $4 == f { print $c }' "$out" | median; }
{
    echo "# medians"
    for size in $SIZES; do
        for flight in $FLIGHTS; do
            for i in $impls; do
                printf '%-7s %8s %-4s %9s %9s %9s %9s %8s\n' "$i" "$size" med "$flight" "$(med "$i" "$size" "$flight" 5)" \
                    "$(med "$i" "$size" "$flight" 6)" "$(med "$i" "$size" "$flight" 7)" "$(med "$i" "$size" "$flight" 8)"
            done
        done
    done
    echo "# ratios dnslab/knot (rate above 1: dnslab acknowledges more; latency and cpu below 1: dnslab is faster, cheaper)"
    printf '%8s %-9s %9s %9s %9s %8s\n' records in_flight rate p50_ms p99_ms cpu_us
    for size in $SIZES; do
        for flight in $FLIGHTS; do
            printf '%8s %-9s %9s %9s %9s %8s\n' "$size" "$flight" \
                "$(ratio "$(med dnslab "$size" "$flight" 5)" "$(med knot "$size" "$flight" 5)")" \
                "$(ratio "$(med dnslab "$size" "$flight" 6)" "$(med knot "$size" "$flight" 6)")" \
                "$(ratio "$(med dnslab "$size" "$flight" 7)" "$(med knot "$size" "$flight" 7)")" \
                "$(ratio "$(med dnslab "$size" "$flight" 8)" "$(med knot "$size" "$flight" 8)")"
        done
    done
} | tee -a "$out"
lab_sanitize "$out"
