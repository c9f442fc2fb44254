#!/usr/bin/env bash
# bench/resolver-pairs.sh -- dnslab's resolver against Unbound in interleaved
# pairs, for issue 3's two rate targets: cache-hit CPU per query (at most
# 0.8x Unbound's) and cache-miss resolutions per second (at least Unbound's).
#
# Why pairs: bench/resolver.sh runs the lab's bench-resolver.sh for Unbound,
# then for dnslab, minutes apart.  On this VM the cost of a query drifts by
# 10-20% over minutes (bench/README.md), as much as the difference being
# measured, so the ratio of the two phases
# wobbles around the target from one invocation to the next.  Here each pair
# measures both resolvers back to back, who goes first alternates, and the
# ratio is taken within the pair, so drift the pair shares cancels.  Reported:
# every pair, the median of the per-pair ratios, and how many pairs meet each
# target.
#
# Both resolvers start empty (the lab's Unbound is restarted, dnslab's is
# started here), then two phases of PAIRS pairs each, with the lab's
# settings (bench-resolver.sh):
#   hit:  after a pass that caches 10,020 names and a warm-up, DURATION s of
#         dnsperf (-c CLIENTS -q OUTSTANDING) over them: resolver CPU
#         (utime+stime of its process tree, the lab's lab_cpu_ticks) per
#         answered query.  Hits come first, while the caches hold little
#         else: once misses have filled Unbound's 4 MB caches, its hits cost
#         up to 20% more (bench/results/2026-12-06.md), and this order
#         measures Unbound at its best;
#   miss: N_MISS fresh names under the two wildcards, each asked once
#         (dnsperf -n 1 -q MISS_OUTSTANDING -c 8): resolutions/s.
# The resolvers and the lab's NSD servers run on CPU 0, dnsperf on CPU 1.
# Env: PAIRS [10] DURATION [5] N_MISS [10000] MISS_OUTSTANDING [100]
#      CLIENTS [16] OUTSTANDING [500] RESOLVER_ADDR [127.0.0.1]
#      RESOLVER_PORT [5336] DNSLAB_RESOLVER_ARGS ["--cache-size 50000"],
#      plus bench/lib.sh's.
# Output: $RESULTS_DIR/resolver-pairs.txt.  Time: about PAIRS x 2 x
# (DURATION + 4) s plus 20 s, and the lab's start.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PAIRS=${PAIRS:-10}; DURATION=${DURATION:-5}
N_MISS=${N_MISS:-10000}; MISS_OUTSTANDING=${MISS_OUTSTANDING:-100}
CLIENTS=${CLIENTS:-16}; OUTSTANDING=${OUTSTANDING:-500}
RADDR=${RESOLVER_ADDR:-127.0.0.1}; RPORT=${RESOLVER_PORT:-5336}
# as in bench/resolver.sh: the hit names must all stay cached
DNSLAB_RESOLVER_ARGS=${DNSLAB_RESOLVER_ARGS:---cache-size 50000}
case "$RADDR" in 127.*) ;; *) die "the resolver must listen on loopback ($RADDR)";; esac
command -v dnsperf >/dev/null || lab_install dnsperf
bench_build

out="$RESULTS_DIR/resolver-pairs.txt"
tmp=$(mktemp -d "$RUN_DIR/pairs.XXXXXX")
dnslab_pid=""
cleanup() {
    [ -n "$dnslab_pid" ] && kill -TERM "$dnslab_pid" 2>/dev/null
    rm -rf "$tmp"
    bench_lab_down
}
trap cleanup EXIT
bench_lab_up
# Both resolvers start with empty caches, as in every invocation: the lab's
# Unbound is restarted (as bench-resolver.sh does for its cold runs).
lab_stop unbound
SERVER_CPUS=$(cat "$RUN_DIR/server-cpus" 2>/dev/null || true) start_unbound
wait_answer "$UNBOUND_ADDR" "$UNBOUND_PORT" www.example.com A 10 >/dev/null || die "Unbound did not come back"

# shellcheck disable=SC2086
taskset -c 0 "$DNSLAB" resolver --listen "$RADDR:$RPORT" --root-hints "$ZONES_DIR/root.hints" \
    --upstream-port 53 $DNSLAB_RESOLVER_ARGS > "$tmp/dnslab.log" 2>&1 &
dnslab_pid=$!
wait_answer "$RADDR" "$RPORT" www.example.com A 10 >/dev/null ||
    die "dnslab resolver did not answer on $RADDR:$RPORT: $(tail -3 "$tmp/dnslab.log")"

declare -A addr=([unbound]=$UNBOUND_ADDR [dnslab]=$RADDR) port=([unbound]=$UNBOUND_PORT [dnslab]=$RPORT)
declare -A pid=([unbound]=$(lab_pid unbound) [dnslab]=$dnslab_pid)
hz=$(getconf CLK_TCK)

# wildcard names, each fresh for the tag: NAMES TAG
wildcard_names() {
    awk -v n="$1" -v t="$2" 'BEGIN { for (i = 1; i <= n; i++)
        if (i % 2) printf "m%d-%s.dyn.example.org A\n", i, t; else printf "m%d-%s.wild.example.com A\n", i, t }'
}
perf_to() { taskset -c 1 dnsperf -O suppress=timeout -s "${addr[$1]}" -p "${port[$1]}" "${@:2}"; }

# miss WHO TAG -> resolutions/s over N_MISS fresh names
miss() {
    wildcard_names "$N_MISS" "$2" > "$tmp/miss.q"
    perf_to "$1" -d "$tmp/miss.q" -n 1 -l 60 -q "$MISS_OUTSTANDING" -c 8 -t 5 > "$tmp/miss.dp" 2>&1 || true
    parse_dnsperf "$tmp/miss.dp" | awk '{printf "%.0f\n", $1}'
}

# hit WHO -> "QPS us_per_query" over DURATION s of cached names, right after
# 1 s of the same load (discarded), so that neither resolver is measured
# coming out of the idle wait
hit() {
    local t0 t1
    lab_wait_quiet
    perf_to "$1" -d "$tmp/hit.q" -c "$CLIENTS" -q "$OUTSTANDING" -l 1 >/dev/null 2>&1 || true
    t0=$(lab_cpu_ticks "${pid[$1]}")
    perf_to "$1" -d "$tmp/hit.q" -c "$CLIENTS" -q "$OUTSTANDING" -t 2 -l "$DURATION" > "$tmp/hit.dp" 2>&1 || true
    t1=$(lab_cpu_ticks "${pid[$1]}")
    parse_dnsperf "$tmp/hit.dp" | awk -v t="$((t1 - t0))" -v hz="$hz" '{
        printf "%.0f %.3f\n", $1, ($6 > 0 ? t / hz * 1e6 / $6 : 0) }'
}

# warm WHO: ask every hit name once, so that all are cached, then 5 s of
# load, discarded
warm() {
    perf_to "$1" -d "$tmp/hit.q" -n 1 -q 100 -t 5 >/dev/null 2>&1 || true
    perf_to "$1" -d "$tmp/hit.q" -c "$CLIENTS" -q "$OUTSTANDING" -l 5 >/dev/null 2>&1 || true
}

# the hit names: the lab's 20 cold names and 10,000 wildcard names (the lab
# asks the last miss run's names)
{ grep -v '^[[:space:]]*\(#\|$\)' "$LAB_DIR/resolver-names.txt"; wildcard_names 10000 h; } > "$tmp/hit.q"

# pair I -> the order of the pair: who goes first alternates
order() { if [ $(($1 % 2)) = 1 ]; then echo unbound dnslab; else echo dnslab unbound; fi; }

declare -A miss_rate=() hit_cost=()
run=$(date +%s)     # miss names are fresh for a resolver that ran this before
log "hit phase: $PAIRS pairs"
for who in unbound dnslab; do warm "$who"; done
for i in $(seq "$PAIRS"); do
    for who in $(order "$i"); do hit_cost[$i$who]=$(hit "$who"); done
done
log "miss phase: $PAIRS pairs"
for i in $(seq "$PAIRS"); do
    for who in $(order "$i"); do miss_rate[$i$who]=$(miss "$who" "$run-$i$who"); done
done

{
    echo "# resolver-pairs $(date -u +%FT%TZ) host: $(nproc) cores; auth servers: $(cat "$RUN_DIR/auth-impl" 2>/dev/null || echo '?')"
    echo "# $(unbound -V 2>&1 | head -1) (lab config) against $("$DNSLAB" --version 2>/dev/null) $DNSLAB_RESOLVER_ARGS"
    echo "# $PAIRS pairs; miss: $N_MISS fresh names, -q $MISS_OUTSTANDING; hit: ${DURATION}s, -c $CLIENTS -q $OUTSTANDING"
    printf '%-4s %-8s %12s %12s %10s %10s %10s %10s %9s %9s\n' pair first miss_unb miss_dns miss_ratio hit_us_unb hit_us_dns hit_ratio qps_unb qps_dns
} | tee "$out"

for i in $(seq "$PAIRS"); do
    read -r qu hu <<<"${hit_cost[${i}unbound]}"; read -r qd hd <<<"${hit_cost[${i}dnslab]}"
    mu=${miss_rate[${i}unbound]} md=${miss_rate[${i}dnslab]}
    printf '%-4s %-8s %12s %12s %10s %10s %10s %10s %9s %9s\n' "$i" "$(order "$i" | cut -d' ' -f1)" \
        "$mu" "$md" "$(ratio "$md" "$mu" 3)" "$hu" "$hd" "$(ratio "$hd" "$hu" 3)" "$qu" "$qd" | tee -a "$out"
done

# medians of the columns and of the per-pair ratios; pairs meeting each target
awk '!/^#/ && $1 != "pair" {
        n++; mu[n] = $3; md[n] = $4; mr[n] = $5; hu[n] = $6; hd[n] = $7; hr[n] = $8
        if ($5 >= 1) miss_met++; if ($8 <= 0.8) hit_met++ }
    function med(a,   i, j, t, k) { k = n
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    END {
        printf "MEDIAN miss_unbound=%.0f miss_dnslab=%.0f miss_ratio=%.3f hit_us_unbound=%.3f hit_us_dnslab=%.3f hit_ratio=%.3f\n",
            med(mu), med(md), med(mr), med(hu), med(hd), med(hr)
        printf "TARGETS miss_ratio>=1 in %d of %d pairs; hit_ratio<=0.8 in %d of %d pairs\n", miss_met, n, hit_met, n
    }' "$out" | tee -a "$out"
lab_sanitize "$out"
