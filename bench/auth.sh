#!/usr/bin/env bash
# bench/auth.sh -- authoritative QPS of dnslab against NSD and Knot, in one
# sitting, on the lab's example.com zone.
#
# Builds the release binary, starts the three servers side by side (each on
# its own loopback address, port 53, pinned to CPU 0 with one worker: dnslab
# sees one CPU through taskset, NSD server-count 1, Knot 1 UDP worker) and
# runs the lab's bench-auth.sh against them, interleaved run by run (run 1
# of each, run 2 of each, ...) so that drifts of background load hit all
# three alike.  dnsperf is pinned to CPU 1 (CLIENT_CPUS=1).  Two modes:
#
#   pinned : saturated, dnsperf offers as much as it can
#   fixed  : dnsperf offers FIXED_QPS (default 100000) queries/s: compares
#            server CPU per query where one dnsperf core cannot saturate
#
# Prints per mode and server the median QPS and server microseconds per
# query, and the ratios dnslab/NSD and dnslab/Knot (QPS: > 1 is better;
# us/query: < 1 is better).  Raw output: $RESULTS_DIR/auth-<mode>.txt.
#
# Env: RUNS [3] DURATION [10] s per run, MODES ["pinned fixed"], FIXED_QPS,
#      ZONE_FILE [lab zones/example.com.zone], PORT [53], DNSLAB_AUTH_ARGS [],
#      plus bench/lib.sh's.
# Time: about MODES x RUNS x 3 x (DURATION + 2 s warm-up + quiet wait);
# every dnsperf run is bounded by -l, every server is stopped by PID on exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
export DURATION=${DURATION:-10}
MODES=${MODES:-pinned fixed}
PORT=${PORT:-53}
zf=${ZONE_FILE:-$ZONES_DIR/example.com.zone}
origin=$(awk '/^\$ORIGIN/{print $2; exit}' "$zf")
impls="dnslab nsd knot"
declare -A addr=([nsd]=127.0.0.20 [knot]=127.0.0.21 [dnslab]=127.0.0.24)

command -v dnsperf >/dev/null || lab_install dnsperf
command -v nsd >/dev/null && command -v knotd >/dev/null || lab_install nsd knot
bench_build

cleanup() { for i in $impls; do lab_stop "bench-$i"; done; }
trap cleanup EXIT

# one worker each, all on CPU 0 (lab_spawn applies SERVER_CPUS with taskset)
export SERVER_CPUS=0 NSD_SERVERS=1 KNOT_WORKERS=1
export AUTH_CMD="$DNSLAB auth ${DNSLAB_AUTH_ARGS:-} --listen {addr}:{port} {zones}"
for i in $impls; do
    impl=$i; [ "$i" = dnslab ] && impl=cmd
    start_auth "$impl" "bench-$i" "${addr[$i]}" "$PORT" "$origin=$zf"
done
for i in $impls; do
    wait_answer "${addr[$i]}" "$PORT" "$origin" SOA 20 norec >/dev/null \
        || die "$i did not answer SOA $origin on ${addr[$i]}:$PORT; see $RUN_DIR/bench-$i.out"
done

for mode in $MODES; do
    out="$RESULTS_DIR/auth-$mode.txt"
    echo "# bench/auth.sh mode=$mode zone=$origin $(date -u +%FT%TZ) $(nproc) cores; $("$DNSLAB" --version) | $(nsd -v 2>&1 | head -1) | $(knotd -V 2>&1 | head -1)" > "$out"
    case $mode in
        pinned) unset MAX_QPS ;;
        fixed) export MAX_QPS=${FIXED_QPS:-100000} ;;
        *) die "unknown mode $mode (pinned|fixed)" ;;
    esac
    for r in $(seq "$RUNS"); do
        for i in $impls; do
            echo "== mode=$mode impl=$i run=$r" >> "$out"
            # bounded twice: dnsperf -l inside, timeout around the whole run
            SERVER_PID=$(lab_pid "bench-$i") CLIENT_CPUS=1 RUNS=1 LABEL="$i/$mode" \
                timeout $((DURATION + 120)) "$LAB_DIR/bench-auth.sh" "${addr[$i]}" "$PORT" "$zf" >> "$out" 2>&1 \
                || echo "run failed" >> "$out"
            tail -1 "$out" | sed "s/^/[$mode run $r] /" >&2
        done
    done
done

echo
printf '%-7s %-11s %10s %10s %12s   %s\n' mode server qps us/query qps_per_core runs_qps
for mode in $MODES; do
    out="$RESULTS_DIR/auth-$mode.txt"
    declare -A qps=() usq=()
    for i in $impls; do
        qps[$i]=$(result_median "$out" "$i/$mode" qps_median)
        usq[$i]=$(result_median "$out" "$i/$mode" server_us_per_query)
        printf '%-7s %-11s %10s %10s %12s   %s\n' "$mode" "$i" "${qps[$i]}" "${usq[$i]}" \
            "$(result_median "$out" "$i/$mode" qps_per_server_core)" \
            "$(grep "^RESULT label=$i/$mode " "$out" | sed -n 's/.*qps_median=\([0-9]*\).*/\1/p' | tr '\n' ' ')"
    done
    printf '%-7s %-11s %10s %10s\n' "$mode" dnslab/nsd "$(ratio "${qps[dnslab]}" "${qps[nsd]}")" "$(ratio "${usq[dnslab]}" "${usq[nsd]}")"
    printf '%-7s %-11s %10s %10s\n' "$mode" dnslab/knot "$(ratio "${qps[dnslab]}" "${qps[knot]}")" "$(ratio "${usq[dnslab]}" "${usq[knot]}")"
done
lab_sanitize "$RESULTS_DIR"/auth-*.txt
