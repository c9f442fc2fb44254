#!/usr/bin/env bash
# bench/bigzone.sh -- a 1,000,000-record zone loaded by dnslab, NSD and Knot:
# load time and memory, with the ratios dnslab/NSD and dnslab/Knot.
#
# Runs the lab's bench-bigzone.sh with dnslab as its "cmd" server, so the
# zone (big.lab.: SOA, NS and host1..hostN A, generated once into
# $LAB_RUN_DIR/big/), the address (127.0.0.23:53) and the measurements are
# the lab's own, for each server LOAD_RUNS times:
#   load time = exec until "hostN.big.lab A" is answered with AA (dig
#               polled every 50 ms),
#   memory 1 s after the load: VmRSS and VmHWM of the process holding the
#               zone, RSS and PSS summed over its process tree (NSD forks).
# With BIG_QPS=1 it also measures QPS on the big zone (pinned 1+1, BIG_QPS_RUNS
# runs of DURATION s); off by default here to keep the run short.
#
# Prints the lab's table (impl "cmd" = dnslab) and the ratios (lower is
# better for all of them).  Raw output: $RESULTS_DIR/bigzone.txt.
# Env: RECORDS [1000000] LOAD_RUNS [3] BIG_QPS [0] BIG_QPS_RUNS [3] DURATION [10]
# Time: about 3 servers x LOAD_RUNS x (load time + 2 s); each load is bounded
# at 300 s by the lab script, every server is stopped by PID.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export RECORDS=${RECORDS:-1000000} LOAD_RUNS=${LOAD_RUNS:-3} BIG_QPS=${BIG_QPS:-0}
command -v nsd >/dev/null && command -v knotd >/dev/null || lab_install nsd knot
bench_build
export AUTH_CMD="$DNSLAB auth --listen {addr}:{port} {zones}"

"$LAB_DIR/bench-bigzone.sh" cmd nsd knot

out="$RESULTS_DIR/bigzone.txt"
# median rows: "impl med load_s vmrss_mb vmhwm_mb treerss_mb treepss_mb"
med() { awk -v i="$1" -v c="$2" '$1 == i && $2 == "med" { print $c }' "$out" | tail -1; }
echo
echo "# dnslab = impl cmd above; ratios (lower is better)"
printf '%-10s %10s %10s %10s %10s\n' ratio load_s vmrss vmhwm treepss
for peer in nsd knot; do
    printf '%-10s %10s %10s %10s %10s\n' "dnslab/$peer" \
        "$(ratio "$(med cmd 3)" "$(med "$peer" 3)")" "$(ratio "$(med cmd 4)" "$(med "$peer" 4)")" \
        "$(ratio "$(med cmd 5)" "$(med "$peer" 5)")" "$(ratio "$(med cmd 7)" "$(med "$peer" 7)")"
done | tee -a "$out"
