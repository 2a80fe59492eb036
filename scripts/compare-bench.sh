#!/usr/bin/env bash
# compare-bench.sh: ipdb-node beside CometBFT on this machine, in
# alternating runs, with the ratio of each pair.
#
# One figure alone says little on a host whose speed drifts (the same
# Ed25519 check takes 37 to 61 us here from one minute to the next, and the
# rates follow it); two runs made back to back on the same cores say more.
# Each pair runs scripts/testnet-bench.sh (4 caretakers, the load spread
# over their APIs) and the peer benchmark, ../shared/peer-bench's
# cometbft-4node.sh (CometBFT 1.0.1's kvstore on 4 validators, which checks
# no signatures), and prints both steady-window rates and ours over theirs.
# The order within a pair alternates, so that a drift favours neither. The
# runs' whole output is kept in a directory it names.
#
# Settings (environment):
#   PAIRS       pairs of runs (3)
#   RATE        tx/s offered to ours (3300). Offer more than it commits,
#               so that its window rate is what it can do (CometBFT's
#               clients are closed-loop and find theirs): 3,300 is that in
#               a slow hour here, but a fast host commits all of it, and
#               then RATE=5000 is needed
#   DURATION    seconds of load in each run (20)
#   COMETBFT    the cometbft binary (default: the one on PATH)
#   PEER_BENCH  the peer script (default: ../shared/peer-bench/
#               cometbft-4node.sh beside the repository)
set -euo pipefail

PAIRS=${PAIRS:-3}
RATE=${RATE:-3300}
DURATION=${DURATION:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
PEER_BENCH=${PEER_BENCH:-$root/../shared/peer-bench/cometbft-4node.sh}
COMETBFT=${COMETBFT:-$(command -v cometbft || true)}
if [ ! -x "$PEER_BENCH" ]; then
	echo "compare-bench: no peer script at $PEER_BENCH (set PEER_BENCH)" >&2
	exit 1
fi
if [ -z "$COMETBFT" ] || [ ! -x "$COMETBFT" ]; then
	echo "compare-bench: no cometbft binary (set COMETBFT, or: go install github.com/cometbft/cometbft/cmd/cometbft@v1.0.1)" >&2
	exit 1
fi
logs=$(mktemp -d /tmp/compare-bench.XXXXXX)
echo "compare-bench: $PAIRS pairs, ours offered $RATE tx/s for ${DURATION}s; logs in $logs"

# ours I runs testnet-bench into $logs/oursI.log and prints its window
# rate, p99 and the host probes.
ours() {
	RATE=$RATE DURATION=${DURATION}s "$root/scripts/testnet-bench.sh" >"$logs/ours$1.log" 2>&1 || true
	awk '/^committed / {for (i = 1; i <= NF; i++) {if ($i == "sustained") w = $(i + 1); if ($i == "p99") p = $(i + 1)}}
		/^== host:/ {h = $7 "/" $12}
		END {printf "%d %s %s", w, p, h}' "$logs/ours$1.log"
}

# theirs I runs the peer script into $logs/cometbftI.log and prints its
# window rate, or nothing if it failed (its log says why).
theirs() {
	COMETBFT=$COMETBFT DURATION=$DURATION LIGHT_S=0 LOG_LEVEL=error BASE_PORT=31000 \
		"$PEER_BENCH" >"$logs/cometbft$1.log" 2>&1 || true
	grep -o 'committed_tps=[0-9]*' "$logs/cometbft$1.log" | tail -1 | cut -d= -f2 || true
}

for i in $(seq 1 "$PAIRS"); do
	if [ $((i % 2)) = 1 ]; then
		read -r w p h <<<"$(ours "$i")"
		c=$(theirs "$i")
	else
		c=$(theirs "$i")
		read -r w p h <<<"$(ours "$i")"
	fi
	awk -v i="$i" -v w="$w" -v p="$p" -v h="$h" -v c="${c:-0}" 'BEGIN {
		r = c > 0 && w > 0 ? sprintf("%.2fx", w / c) : "n/a (a run failed: see its log)"
		printf "pair %d: ipdb-node %d tx/s (p99 %.2f s; Ed25519 %s us before/after) | CometBFT %d tx/s | %s\n", i, w, p / 1000, h, c, r
	}'
done
