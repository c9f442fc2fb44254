#!/usr/bin/env bash
# bench/bigzone.sh -- a 1,000,000-record zone loaded by dnslab, NSD and Knot:
# load time and memory, with the ratios dnslab/NSD and dnslab/Knot.
#
# The zone is the lab's bench-bigzone.sh zone (the same file in
# $LAB_RUN_DIR/big/, generated once): big.lab. with SOA, NS and
# host1..hostN A records (28 MB of text for 1M).  Each server is started
# LOAD_RUNS times on 127.0.0.23:PORT with one worker, unpinned, the three
# interleaved run by run; per load:
#   load_s    exec until "hostN.big.lab A" is answered with AA (the lab's
#             wait_answer, dig polled every 50 ms, so +-50 ms),
#   memory    1 s after the load: VmRSS and VmHWM of the process holding the
#             zone (NSD's "nsd: main", else the server), RSS and PSS summed
#             over its process tree (NSD forks; PSS counts its copy-on-write
#             zone once),
# then the server is stopped by PID.  Prints every load, the medians and the
# ratios (below 1: dnslab loads faster / uses less).
# Raw output: $RESULTS_DIR/bigzone.txt.
# Env: RECORDS [1000000] LOAD_RUNS [3] PORT [53], plus bench/lib.sh's.
# Time: about 3 x LOAD_RUNS x (load time + 2 s); each load is bounded at
# LOAD_TIMEOUT (300) s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RECORDS=${RECORDS:-1000000}
LOAD_RUNS=${LOAD_RUNS:-3}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
PORT=${PORT:-53}
addr=127.0.0.23
impls="dnslab nsd knot"
command -v nsd >/dev/null && command -v knotd >/dev/null || lab_install nsd knot
bench_build
export AUTH_CMD="$DNSLAB auth --listen {addr}:{port} {zones}"
export NSD_SERVERS=1 KNOT_WORKERS=1 SERVER_CPUS= POLL_S=0.05

big_zone "$RECORDS"
zf=$BIG_ZONE
last="host$RECORDS.big.lab."

cleanup() { for i in $impls; do lab_stop "big-$i"; done; }
trap cleanup EXIT

out="$RESULTS_DIR/bigzone.txt"
{
    echo "# bench/bigzone.sh $(date -u +%FT%TZ) records=$RECORDS file=$(du -h "$zf" | cut -f1) $(nproc) cores"
    echo "# $("$DNSLAB" --version) | $(nsd -v 2>&1 | head -1) | $(knotd -V 2>&1 | head -1)"
    printf '%-7s %-4s %9s %10s %10s %10s %10s %5s\n' impl run load_s vmrss_mb vmhwm_mb treerss_mb treepss_mb procs
} | tee "$out"

for r in $(seq "$LOAD_RUNS"); do
    for i in $impls; do
        impl=$i; [ "$i" = dnslab ] && impl=cmd
        sync; lab_wait_quiet
        t0=$(date +%s.%N)
        start_auth "$impl" "big-$i" "$addr" "$PORT" "big.lab.=$zf"
        pid=$(lab_pid "big-$i")
        if ! wait_answer "$addr" "$PORT" "$last" A "$LOAD_TIMEOUT" norec >/dev/null; then
            log "$i did not answer $last within $LOAD_TIMEOUT s; see $RUN_DIR/big-$i.out"
            lab_stop "big-$i"; continue
        fi
        t1=$(date +%s.%N)
        sleep 1
        read -r trss tpss np < <(lab_mem "$pid")
        mp=$pid
        for c in $(lab_tree_pids "$pid"); do grep -q '^Name:.*nsd: main' "/proc/$c/status" 2>/dev/null && mp=$c; done
        rss=$(awk '/^VmRSS:/{print $2}' "/proc/$mp/status"); hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$mp/status")
        awk -v i="$i" -v r="$r" -v t0="$t0" -v t1="$t1" -v rss="$rss" -v hwm="$hwm" -v trss="$trss" -v tpss="$tpss" -v np="$np" \
            'BEGIN { printf "%-7s %-4s %9.2f %10.1f %10.1f %10.1f %10.1f %5d\n", i, r, t1 - t0, rss / 1024, hwm / 1024, trss / 1024, tpss / 1024, np }' | tee -a "$out"
        lab_stop "big-$i"
    done
done

# column C's median over the rows of IMPL
med() { awk -v i="$1" -v c="$2" '$1 == i && $2 ~ /^[0-9]+$/ { print $c }' "$out" | median; }
{
    echo "# medians"
    for i in $impls; do
        printf '%-7s %-4s %9s %10s %10s %10s %10s\n' "$i" med "$(med "$i" 3)" "$(med "$i" 4)" "$(med "$i" 5)" "$(med "$i" 6)" "$(med "$i" 7)"
    done
    echo "# ratios (below 1: dnslab is faster / smaller)"
    printf '%-12s %9s %10s %10s %10s %10s\n' ratio load_s vmrss vmhwm treerss treepss
    for peer in nsd knot; do
        printf '%-12s %9s %10s %10s %10s %10s\n' "dnslab/$peer" \
            "$(ratio "$(med dnslab 3)" "$(med "$peer" 3)")" "$(ratio "$(med dnslab 4)" "$(med "$peer" 4)")" \
            "$(ratio "$(med dnslab 5)" "$(med "$peer" 5)")" "$(ratio "$(med dnslab 6)" "$(med "$peer" 6)")" \
            "$(ratio "$(med dnslab 7)" "$(med "$peer" 7)")"
    done
} | tee -a "$out"
lab_sanitize "$out"
