#!/usr/bin/env bash
# bench/axfr.sh -- AXFR of a 1,000,000-record zone from dnslab, NSD and Knot
# to the same client, side by side in one run: wall time, client CPU and
# server CPU of each transfer, their medians over RUNS transfers per server
# (interleaved server by server, so that the machine's drift is shared),
# and the ratios dnslab/NSD and dnslab/Knot.
#
# The zone is bench/bigzone.sh's (the lab's big.lab., generated once in
# $LAB_RUN_DIR/big/).  The three servers are started on 127.0.0.25-27:PORT
# with one worker each, unpinned, and load the zone (the lab's wait_answer
# on hostN); then, RUNS times, each gives one AXFR to CLIENT (kdig by
# default; dig with CLIENT=dig), its output kept for counting; then they
# are stopped by PID.  Per transfer:
#   wall_s      the client's wall time, connect to last message,
#   client_cpu  the client's user + system CPU seconds (the same client
#               for every server: its parsing is most of the work),
#   server_cpu  the server's CPU seconds over the transfer (clock ticks of
#               its process tree before and after, 10 ms resolution),
#   records     what the client counted (1,000,004: SOA twice),
# then the ratios (below 1: dnslab is faster / cheaper).  The target is a
# wall time no worse than the fastest peer's.
#
# The peers' configurations are the lab's (start_nsd, start_knot: one
# server process / one worker, no journal) plus the one line each needs to
# allow the transfer (NSD provide-xfr, Knot an ACL); dnslab runs with
# --allow-transfer and a data directory of its own.
# Raw output: $RESULTS_DIR/axfr.txt.
# Env: RECORDS [1000000] PORT [53] CLIENT [kdig] RUNS [3], plus bench/lib.sh's.
# Time: the three loads, then 3 x RUNS transfers of a few seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RECORDS=${RECORDS:-1000000}
PORT=${PORT:-53}
CLIENT=${CLIENT:-kdig}
RUNS=${RUNS:-3}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
impls="dnslab nsd knot"
# one address each, so that all three hold the zone at once
addr_of() { case "$1" in dnslab) echo 127.0.0.25 ;; nsd) echo 127.0.0.26 ;; knot) echo 127.0.0.27 ;; esac; }
command -v nsd >/dev/null && command -v knotd >/dev/null && command -v kdig >/dev/null || lab_install nsd knot knot-dnsutils
bench_build

big_zone "$RECORDS"
zf=$BIG_ZONE
last="host$RECORDS.big.lab."

# start_server IMPL: the server on $addr:$PORT serving the zone, transfers
# allowed to 127.0.0.0/8.
start_server() {
    local name="axfr-$1" d="$RUN_DIR/axfr-$1" addr
    addr=$(addr_of "$1")
    case "$1" in
        dnslab)
            rm -rf "$d"; mkdir -p "$d"
            lab_spawn "$name" "$DNSLAB" auth --listen "$addr:$PORT" --udp-workers 1 \
                --zone "big.lab.=$zf" --allow-transfer 127.0.0.0/8 --data-dir "$d/data" >/dev/null ;;
        nsd)
            NSD_SERVERS=1 start_nsd "$name" "$addr" "$PORT" "big.lab.=$zf"
            lab_stop "$name"
            echo "    provide-xfr: 127.0.0.0/8 NOKEY" >> "$d/nsd.conf"
            lab_spawn "$name" nsd -d -c "$d/nsd.conf" >/dev/null ;;
        knot)
            knot_edited "$name" "$addr" "$PORT" "big.lab.=$zf" \
                's|^zone:$|acl:\n  - id: transfer\n    address: 127.0.0.0/8\n    action: transfer\nzone:|' \
                's|^    file: "\(.*\)"$|    file: "\1"\n    acl: transfer|' ;;
    esac
}

cleanup() { for i in $impls; do lab_stop "axfr-$i"; done; }
trap cleanup EXIT

out="$RESULTS_DIR/axfr.txt"
{
    echo "# bench/axfr.sh $(date -u +%FT%TZ) records=$RECORDS file=$(du -h "$zf" | cut -f1) client=$CLIENT $(nproc) cores"
    echo "# $("$DNSLAB" --version) | $(nsd -v 2>&1 | head -1) | $(knotd -V 2>&1 | head -1) | $(if [ "$CLIENT" = dig ]; then dig -v 2>&1; else "$CLIENT" -V 2>&1; fi | head -1)"
    printf '%-7s %-4s %8s %11s %11s %9s %8s\n' impl run wall_s client_cpu server_cpu records messages
} | tee "$out"

hz=$(getconf CLK_TCK)
for i in $impls; do
    start_server "$i"
    if ! wait_answer "$(addr_of "$i")" "$PORT" "$last" A "$LOAD_TIMEOUT" norec >/dev/null; then
        log "$i did not answer $last within $LOAD_TIMEOUT s; see $RUN_DIR/axfr-$i.out"
        lab_stop "axfr-$i"
    fi
done
sleep 1
for r in $(seq "$RUNS"); do
    for i in $impls; do
        lab_alive "axfr-$i" || continue
        lab_wait_quiet
        pid=$(lab_pid "axfr-$i")
        t0=$(lab_cpu_ticks "$pid")
        stats=$(mktemp)
        # GNU time's format: wall, user, system.
        /usr/bin/time -f "TIME %e %U %S" -o "$stats" "$CLIENT" "@$(addr_of "$i")" -p "$PORT" big.lab. AXFR > "$RUN_DIR/axfr-$i.client" 2>&1 || true
        t1=$(lab_cpu_ticks "$pid")
        records=$(grep -v '^;' "$RUN_DIR/axfr-$i.client" | grep -c 'IN' || true)
        # kdig: "(1645 messages, ...)"; dig: "(messages 1645, ...)"
        messages=$(grep -oE '[0-9]+ messages|messages [0-9]+' "$RUN_DIR/axfr-$i.client" | grep -oE '[0-9]+' | tail -1 || true)
        wall=nan user=0 sys=0
        read -r _ wall user sys < <(grep '^TIME' "$stats") || log "$i: no timing from $CLIENT: $(cat "$stats")"
        rm -f "$stats"
        awk -v i="$i" -v r="$r" -v w="$wall" -v u="$user" -v s="$sys" -v a="$t0" -v b="$t1" -v hz="$hz" -v n="$records" -v m="${messages:-?}" \
            'BEGIN { printf "%-7s %-4s %8.2f %11.2f %11.2f %9d %8s\n", i, r, w, u + s, (b - a) / hz, n, m }' | tee -a "$out"
    done
done

# column C's median over the transfers of IMPL
med() { awk -v i="$1" -v c="$2" '$1 == i && $2 ~ /^[0-9]+$/ { print $c }' "$out" | median; }
{
    echo "# medians"
    for i in $impls; do
        printf '%-7s %-4s %8s %11s %11s\n' "$i" med "$(med "$i" 3)" "$(med "$i" 4)" "$(med "$i" 5)"
    done
    echo "# ratios (below 1: dnslab is faster / cheaper)"
    printf '%-12s %8s %11s %11s\n' ratio wall_s client_cpu server_cpu
    for peer in nsd knot; do
        printf '%-12s %8s %11s %11s\n' "dnslab/$peer" \
            "$(ratio "$(med dnslab 3)" "$(med "$peer" 3)")" "$(ratio "$(med dnslab 4)" "$(med "$peer" 4)")" \
            "$(ratio "$(med dnslab 5)" "$(med "$peer" 5)")"
    done
} | tee -a "$out"
lab_sanitize "$out"
