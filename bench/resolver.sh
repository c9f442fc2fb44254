#!/usr/bin/env bash
# bench/resolver.sh -- dnslab's recursive resolver against Unbound, over the
# lab's toy hierarchy, with the lab's bench-resolver.sh.
#
# Needs the hierarchy (12 NSD instances on 127.0.0.2-.13:53, all pinned to
# CPU 0) and the lab's Unbound on 127.0.0.1:5335: if they are not running
# (in LAB_RUN_DIR), this script starts them with `SERVER_CPUS=0 up-peers.sh
# nsd` and stops them again at the end.  Then, one after the other:
#
#   1. Unbound (1 thread, CPU 0): bench-resolver.sh as the lab runs it;
#   2. dnslab resolver on RESOLVER_ADDR:RESOLVER_PORT (127.0.0.1:5336),
#      pinned to CPU 0, upstream port 53, root hints zones/root.hints.
#      bench-resolver.sh restarts it for every cold run (RESTART_CMD); a
#      small supervisor shell (whose process tree is RESOLVER_PID, so CPU
#      accounting follows the restarted resolver) starts a fresh process
#      each time the previous one is stopped by its PID.
#
# Each run: cold (20 names from an empty cache, upstream queries counted
# with tcpdump), miss (fresh wildcard names: resolutions/s and upstream
# queries per name), hit (cached names: QPS and resolver us per query).
# Prints both summaries and the ratios dnslab/Unbound.  Raw output:
# $RESULTS_DIR/resolver-{unbound,dnslab}.txt and the cold traces.
# Env: COLD_RUNS [3] N_MISS [10000] RUNS [3] DURATION [10] (the lab's knobs),
#      RESOLVER_ADDR, RESOLVER_PORT, DNSLAB_RESOLVER_ARGS ["--cache-size 50000"],
#      plus bench/lib.sh's.
# Time: about 2 x (COLD_RUNS x 5 s + COLD_RUNS x miss + RUNS x DURATION);
# each resolver run is also capped by `timeout` (RUN_TIMEOUT, 900 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RADDR=${RESOLVER_ADDR:-127.0.0.1}
RPORT=${RESOLVER_PORT:-5336}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
# The hit phase asks 10,020 cached names and expects no upstream query;
# dnslab's default cache (10,000 RRsets) is a little too small for that,
# Unbound's default 4 MB caches are not.
DNSLAB_RESOLVER_ARGS=${DNSLAB_RESOLVER_ARGS:---cache-size 50000}
case "$RADDR" in 127.*) ;; *) die "the resolver must listen on loopback ($RADDR)";; esac
command -v tcpdump >/dev/null && command -v dnsperf >/dev/null || lab_install tcpdump dnsperf
bench_build

sup_dir="$RUN_DIR/dnslab-resolver"
sup_pid=""
cleanup() {
    if [ -n "$sup_pid" ]; then
        rm -f "$sup_dir/keep"
        [ -f "$sup_dir/pid" ] && kill -TERM "$(cat "$sup_dir/pid")" 2>/dev/null
        for _ in $(seq 100); do [ -d "/proc/$sup_pid" ] || break; sleep 0.1; done
        if [ -d "/proc/$sup_pid" ]; then
            for p in $(lab_tree_pids "$sup_pid"); do kill -KILL "$p" 2>/dev/null; done
        fi
    fi
    bench_lab_down
}
trap cleanup EXIT

bench_lab_up

# ------------------------------------------------------------- Unbound ---
log "== Unbound"
CLIENT_CPUS=1 timeout "$RUN_TIMEOUT" "$LAB_DIR/bench-resolver.sh" >&2 || log "Unbound run failed"
mv "$RESULTS_DIR/resolver.txt" "$RESULTS_DIR/resolver-unbound.txt" 2>/dev/null || true
mv "$RESULTS_DIR/resolver-cold-trace.txt" "$RESULTS_DIR/resolver-cold-trace-unbound.txt" 2>/dev/null || true

# -------------------------------------------------------------- dnslab ---
log "== dnslab resolver on $RADDR:$RPORT"
rm -rf "$sup_dir"; mkdir -p "$sup_dir"; touch "$sup_dir/keep"
# supervisor: run the resolver, start a new one whenever it exits, until
# keep is removed; the current resolver's PID is in $sup_dir/pid
# shellcheck disable=SC2016
setsid bash -c 'while [ -e "$0/keep" ]; do
        # shellcheck disable=SC2086
        taskset -c 0 "$1" resolver --listen "$2" --root-hints "$3" --upstream-port 53 $4 >> "$0/out.log" 2>&1 &
        echo $! > "$0/pid"; wait $!
        sleep 0.05      # no busy loop if the resolver cannot start at all
    done' "$sup_dir" "$DNSLAB" "$RADDR:$RPORT" "$ZONES_DIR/root.hints" "$DNSLAB_RESOLVER_ARGS" </dev/null >/dev/null 2>&1 &
sup_pid=$!
cat > "$sup_dir/restart.sh" <<RESTART
#!/usr/bin/env bash
# stop the current resolver by PID and wait (at most 10 s) for its successor
old=\$(cat "$sup_dir/pid")
kill -TERM "\$old" 2>/dev/null
for _ in \$(seq 200); do
    new=\$(cat "$sup_dir/pid")
    [ "\$new" != "\$old" ] && [ -d "/proc/\$new" ] && exit 0
    sleep 0.05
done
echo "dnslab resolver did not restart; see $sup_dir/out.log" >&2; exit 1
RESTART
chmod +x "$sup_dir/restart.sh"
for _ in $(seq 100); do [ -s "$sup_dir/pid" ] && break; sleep 0.05; done

RESTART_CMD="$sup_dir/restart.sh" RESOLVER_PID=$sup_pid CLIENT_CPUS=1 \
    timeout "$RUN_TIMEOUT" "$LAB_DIR/bench-resolver.sh" "$RADDR" "$RPORT" >&2 || log "dnslab run failed; see $sup_dir/out.log"
mv "$RESULTS_DIR/resolver.txt" "$RESULTS_DIR/resolver-dnslab.txt" 2>/dev/null || true
mv "$RESULTS_DIR/resolver-cold-trace.txt" "$RESULTS_DIR/resolver-cold-trace-dnslab.txt" 2>/dev/null || true

# ------------------------------------------------------------- summary ---
# pick NUMBER out of the summary line starting with PREFIX, matching REGEX
pick() { grep "^$2" "$1" 2>/dev/null | tail -1 | sed -n "s|.*$3.*|\1|p"; }
row() {
    local what=$1 prefix=$2 re=$3 u d
    u=$(pick "$RESULTS_DIR/resolver-unbound.txt" "$prefix" "$re")
    d=$(pick "$RESULTS_DIR/resolver-dnslab.txt" "$prefix" "$re")
    printf '%-34s %12s %12s %14s\n' "$what" "${u:-n/a}" "${d:-n/a}" "$(ratio "$d" "$u")"
}
echo
for f in unbound dnslab; do
    echo "# $f:"; grep -E '^(cold|miss|hit):' "$RESULTS_DIR/resolver-$f.txt" 2>/dev/null | sed 's/^/#   /'
done
printf '%-34s %12s %12s %14s\n' metric unbound dnslab dnslab/unbound
row "cold: upstream queries (20 names)" "cold:" 'upstream queries \([0-9]*\)'
row "cold: upstream queries per name" "cold:" ', \([0-9.]*\) per name'
row "cold: sum of latencies (ms)" "cold:" 'latencies \([0-9.]*\) ms'
row "miss: resolutions/s" "miss:" ' \([0-9]*\) resolutions/s'
row "miss: upstream queries per name" "miss:" ' \([0-9.]*\) upstream queries per name'
row "hit: QPS" "hit:" 'qps_median=\([0-9]*\)'
row "hit: resolver us/query" "hit:" 'server_us_per_query=\([0-9.]*\)'
