#!/usr/bin/env bash
# Mutation testing of the code that decides a verdict (README, "Mutation testing"): cargo-mutants
# with the repository's configuration (.cargo/mutants.toml: the files, the unit tests that
# catch their mutants, and each equivalent mutant excluded with its reason).
#
# Usage:
#   benches/mutants.sh               every mutant (about an hour on a shared 2-core machine)
#   benches/mutants.sh --shard K/N   the K-th of N shards, K from 0 (cargo-mutants' numbering)
#   benches/mutants.sh --ci          one rotating shard of MUTANTS_CI_SHARDS (default 100): the
#                                    day of the year picks it, so every shard runs in turn
#   benches/mutants.sh --list        the mutants, nothing built
# Anything after `--` goes to `cargo mutants` as it is (e.g. `-- --re 'src/contract/answer'` to
# narrow by name; cargo-mutants 27.1 keeps its struct-field deletions whatever the `--re`; `-f`
# adds to the configuration's files rather than narrowing them).
#
# Mutants are applied in place (`--in-place`): the tree's own target/ is reused, so a mutant
# costs one incremental build of the library's unit tests, not a build of every dependency.
# cargo-mutants puts each file back after its mutant, also on Ctrl-C; do not edit src/ while it
# runs. Results land in target/mutants/mutants.out/ (caught.txt, missed.txt, timeout.txt).
#
# Exits 0 when every viable mutant was caught; non-zero on a missed mutant (2), a timeout (3),
# unmutated tests failing (4), or a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=27.1.0
CI_SHARDS=${MUTANTS_CI_SHARDS:-100}

mode=all
shard=""
extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --shard)
            [ $# -ge 2 ] || { echo "benches/mutants.sh: --shard needs K/N" >&2; exit 2; }
            mode=shard
            shard=$2
            shift 2
            ;;
        --ci) mode=ci; shift ;;
        --list) mode=list; shift ;;
        --) shift; extra=("$@"); break ;;
        *) echo "benches/mutants.sh: unknown argument \`$1\` (--shard K/N, --ci, --list, -- ARGS)" >&2; exit 2 ;;
    esac
done
if [ "$mode" = shard ] && ! [[ $shard =~ ^[0-9]+/[1-9][0-9]*$ ]]; then
    echo "benches/mutants.sh: --shard expects K/N (e.g. 3/40), found \`$shard\`" >&2
    exit 2
fi

echo "== cargo-mutants $VERSION"
if ! cargo mutants --version 2>/dev/null | grep -qx "cargo-mutants $VERSION"; then
    echo "   installing from crates.io (cargo install --locked)"
    cargo install --locked --version "$VERSION" cargo-mutants
fi

# Every build and test of a mutant with the committed Cargo.lock, as the rest of CI builds.
args=(--in-place --output target/mutants --no-shuffle --cargo-arg=--locked)
# In place, a failing property test must not write its regression file into the tree; and a
# mutant caught by one needs no shrinking.
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1 PROPTEST_MAX_SHRINK_ITERS=0
case $mode in
    list)
        exec cargo mutants --list "${extra[@]}"
        ;;
    ci)
        day=$((10#$(date -u +%j)))
        shard="$((day % CI_SHARDS))/$CI_SHARDS"
        # CI has just run the whole test suite: the unmutated baseline is known to pass, so it
        # is skipped, and the timeouts are set here instead of measured from it.
        args+=(--baseline skip --timeout 120 --build-timeout 600)
        ;;
esac
[ -n "$shard" ] && args+=(--shard "$shard")

echo "== mutants: ${shard:-every shard}; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
mkdir -p target/mutants
src_before=$(git diff -- src | sha256sum)
start=$(date +%s)
rc=0
cargo mutants "${args[@]}" "${extra[@]}" || rc=$?
echo "== mutants: ${shard:-every shard} took $(($(date +%s) - start)) s, exit $rc"
out=target/mutants/mutants.out
# A mutant cargo-mutants could not classify (its build killed, say) is counted nowhere in its
# summary and leaves the exit code at 0: it is not caught, so it fails the run here.
unclassified=$(python3 - "$out/outcomes.json" <<'PY'
import json, sys
try:
    outcomes = json.load(open(sys.argv[1]))["outcomes"]
except (OSError, ValueError, KeyError):
    sys.exit(0)
for o in outcomes:
    scenario = o.get("scenario")
    if isinstance(scenario, dict) and o.get("summary") not in ("CaughtMutant", "Unviable", "MissedMutant", "Timeout"):
        print(scenario.get("Mutant", {}).get("name", scenario), "->", o.get("summary"))
PY
)
if [ -n "$unclassified" ]; then
    echo "-- neither caught nor unviable (rerun them):"
    echo "$unclassified"
    [ "$rc" = 0 ] && rc=1
fi
for kind in missed timeout; do
    if [ -s "$out/$kind.txt" ]; then
        echo "-- $kind:"
        cat "$out/$kind.txt"
    fi
done
# Nothing may stay mutated (cargo-mutants restores every file; this says so if it could not).
if [ "$(git diff -- src | sha256sum)" != "$src_before" ]; then
    echo "benches/mutants.sh: src/ is not as it was before the run: check \`git diff src\`" >&2
    [ "$rc" = 0 ] && rc=1
fi
exit "$rc"
