# bench/lib.sh -- shared by the bench/*.sh scripts.  Source it, don't run it.
#
# The benchmarks reuse the anchor lab (../shared/lab beside the repository,
# or LAB_DIR): its
# lib.sh starts NSD, Knot and Unbound exactly as the lab's published numbers
# were measured, and its bench-*.sh scripts do the measuring.  This file only
# adds what dnslab needs on top: where the repository, the lab and the
# release binary are, and how to print a ratio.
#
# Env: LAB_DIR       [<repo>/../shared/lab]  the anchor lab
#      LAB_RUN_DIR   [$TMPDIR/dns-anchor-lab] configs, pids, logs, query files
#      RESULTS_DIR   [<repo>/bench/out]       raw output of every run
#      DNSLAB        [$CARGO_TARGET_DIR or <repo>/target]/release/dnslab
#      NO_BUILD=1    use DNSLAB as it is, skip `cargo build --release`

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB_DIR="${LAB_DIR:-$BENCH_ROOT/../shared/lab}"
if [ ! -f "$LAB_DIR/lib.sh" ]; then
    echo "error: the anchor lab is not at $LAB_DIR (set LAB_DIR to its directory)" >&2
    exit 1
fi
# the lab's own results/ may be read-only, and ours must not overwrite its numbers
export RESULTS_DIR="${RESULTS_DIR:-$BENCH_ROOT/bench/out}"
export LAB_RUN_DIR="${LAB_RUN_DIR:-${TMPDIR:-/tmp}/dns-anchor-lab}"
# shellcheck source=/dev/null
. "$LAB_DIR/lib.sh"
mkdir -p "$RESULTS_DIR" "$RUN_DIR"

# bench_build: build the release binary (unless NO_BUILD=1) and set DNSLAB.
bench_build() {
    DNSLAB="${DNSLAB:-${CARGO_TARGET_DIR:-$BENCH_ROOT/target}/release/dnslab}"
    if [ -z "${NO_BUILD:-}" ]; then
        log "building the release binary (cargo build --release --bin dnslab)"
        (cd "$BENCH_ROOT" && cargo build --release --bin dnslab >&2) || die "cargo build --release failed"
    fi
    [ -x "$DNSLAB" ] || die "no dnslab binary at $DNSLAB"
}

# ratio A B [DIGITS] -> A/B with DIGITS [2] decimals, or n/a when either is
# missing or B is 0
ratio() {
    awk -v a="${1:-}" -v b="${2:-}" -v d="${3:-2}" 'BEGIN {
        if (a == "" || b == "" || a == "nan" || b == "nan" || b + 0 == 0) print "n/a"; else printf "%.*f\n", d, a / b }'
}

# result_median FILE LABEL KEY -> median of KEY=value over the lines of FILE
# that start with "RESULT label=LABEL " (the lab's machine-readable lines)
result_median() {
    grep "^RESULT label=$2 " "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$3=//p" | median
}

# bench_lab_up: reuse the lab's running hierarchy and Unbound (in
# LAB_RUN_DIR), or start them: NSD, every server pinned to CPU 0.  Sets
# BENCH_STARTED_LAB when it started them, so that bench_lab_down stops only
# what this script started.
bench_lab_up() {
    if lab_alive unbound && lab_alive auth-127.0.0.2; then
        log "reusing the running lab hierarchy in $RUN_DIR ($(cat "$RUN_DIR/auth-impl" 2>/dev/null))"
    else
        BENCH_STARTED_LAB=1
        SERVER_CPUS=0 "$LAB_DIR/up-peers.sh" nsd >&2
    fi
}
bench_lab_down() {
    [ -n "${BENCH_STARTED_LAB:-}" ] && "$LAB_DIR/down-peers.sh" >&2
    return 0
}

# big_zone RECORDS: generates, once, the lab's large zone (the file the lab's
# bench-bigzone.sh writes: big.lab. with SOA, NS and host1..hostN A
# records; 28 MB for 1M) in $RUN_DIR/big/ and sets BIG_ZONE to its path.
big_zone() {
    local records=$1
    mkdir -p "$RUN_DIR/big"
    BIG_ZONE="$RUN_DIR/big/big.lab.zone"
    if [ ! -s "$BIG_ZONE" ] || [ "$(head -1 "$BIG_ZONE")" != "; $records records" ]; then
        log "generating $BIG_ZONE with $records A records"
        awk -v n="$records" 'BEGIN {
            print "; " n " records"
            print "$ORIGIN big.lab."; print "$TTL 3600"
            print "@ IN SOA ns.big.lab. hostmaster.big.lab. 2024010101 7200 3600 1209600 300"
            print "@ IN NS ns"; print "ns IN A 127.0.0.23"
            for (i = 1; i <= n; i++) printf "host%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
        }' > "$BIG_ZONE"
    fi
}

# knot_edited NAME ADDR PORT ZONE=FILE SED_EXPR...: the lab's Knot
# (start_knot, one worker) serving ZONE from FILE, its configuration
# changed by the sed expressions (what a benchmark adds to the lab's: an
# ACL, a key), and started again with it.
knot_edited() {
    local name=$1 addr=$2 port=$3 zone=$4 expr edits=()
    shift 4
    KNOT_WORKERS=1 start_knot "$name" "$addr" "$port" "$zone"
    lab_stop "$name"
    for expr in "$@"; do edits+=(-e "$expr"); done
    sed -i "${edits[@]}" "$RUN_DIR/$name/knot.conf"
    lab_spawn "$name" knotd -c "$RUN_DIR/$name/knot.conf" >/dev/null
}
