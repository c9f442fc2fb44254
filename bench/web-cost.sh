#!/usr/bin/env bash
# bench/web-cost.sh -- what the live view costs a query while no page is
# open: bench/probe.rs's cache-hit ns per query (`hit`) and resolver CPU
# per cache miss through the UDP transport (`served`), with the web server
# off and on (`web`: lookups published on an event bus nobody watches,
# every answer counted, the web server serving on loopback), interleaved
# ROUNDS times so that the machine's drift falls on both alike; and, when
# BASE names a commit (e.g. the one before the live view), the same two
# probes built from it, interleaved too. Prints every run and the medians.
# A script, not a test: nothing here asserts. Needs neither the lab nor
# root; it starts nothing that outlives a probe.
#
# Env: ROUNDS  [5]      rounds of every variant
#      PROBES  ["hit served"]  which probes
#      PROBE_N [20000]  fresh names per `served` run
#      BASE    []       a commit to build the probe from too (a git worktree
#                       in $TMPDIR, built with the same target directory)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-5}"
probes="${PROBES:-hit served}"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d "${TMPDIR:-/tmp}/dnslab-web-cost.XXXXXX")"
base_tree=""

cleanup() {
    if [ -n "$base_tree" ]; then
        git -C "$root" worktree remove --force "$base_tree" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "building the probe (release)" >&2
(cd "$root" && cargo build --release --example probe >&2)
cp "$target/release/examples/probe" "$work/probe-head"
variants=("head:" "head:web")
if [ -n "${BASE:-}" ]; then
    base_tree="$work/base"
    git -C "$root" worktree add --detach "$base_tree" "$BASE" >&2
    echo "building the probe at $BASE (release)" >&2
    (cd "$base_tree" && CARGO_TARGET_DIR="$target" cargo build --release --example probe >&2)
    cp "$target/release/examples/probe" "$work/probe-base"
    variants+=("base:")
fi

# run VARIANT PROBE -> the probe's figure (ns per hit, or µs CPU per miss)
run() {
    local binary="${1%%:*}" web="${1#*:}" probe="$2" out
    out="$("$work/probe-$binary" "$probe" $web 2>/dev/null)"
    case "$probe" in
        hit) sed -n 's/^cache hit: \([0-9]*\) ns.*/\1/p' <<<"$out" ;;
        served) sed -n 's/.*: resolver \([0-9.]*\) µs CPU per miss.*/\1/p' <<<"$out" ;;
    esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-6s %-10s %-8s %s\n' round variant probe figure
for round in $(seq 1 "$rounds"); do
    for probe in $probes; do
        # Who goes first alternates with the round.
        ordered=("${variants[@]}")
        if [ $((round % 2)) -eq 0 ]; then
            ordered=()
            for ((i = ${#variants[@]} - 1; i >= 0; i--)); do ordered+=("${variants[i]}"); done
        fi
        for variant in "${ordered[@]}"; do
            figure="$(run "$variant" "$probe")"
            printf '%-6s %-10s %-8s %s\n' "$round" "$variant" "$probe" "$figure"
            echo "$variant $probe $figure" >>"$work/figures"
        done
    done
done
echo
echo "MEDIAN (hit: ns per cache hit; served: resolver µs CPU per miss)"
for variant in "${variants[@]}"; do
    for probe in $probes; do
        m="$(awk -v v="$variant" -v p="$probe" '$1 == v && $2 == p { print $3 }' "$work/figures" | median)"
        printf '%-10s %-8s %s\n' "$variant" "$probe" "$m"
    done
done
