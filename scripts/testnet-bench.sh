#!/usr/bin/env bash
# testnet-bench.sh: committed tx/s and commit latency of a local ipdb-node
# testnet under load, then how fast a new follower syncs the chain.
#
# It builds ipdb-node, writes a fresh testnet (NODES caretakers and one
# follower) into a temporary directory, starts the caretakers, and runs
# `ipdb-node bench` with its POSTs spread round-robin over every caretaker's
# API. Then it starts the follower, which has no blocks, and reports how
# long it took to reach the caretakers' height (blocks/s). Every process it
# starts is stopped on exit and the directory removed (KEEP=1 keeps it).
#
# Settings (environment):
#   NODES     caretakers (4)              RATE      offered tx/s (3000)
#   DURATION  load duration (20s)         SIZE      bytes per tx (250)
#   WORKERS   POSTs in flight (256)       PARAMS    extra --param flags ("")
#   LOG_LEVEL node log level (warn)       KEEP      1 keeps the directory
#   MAX_TXS   transactions per block: genesis max_block_txs and [block]
#             max_txs of every home (1000)
#   BACKLOG   [backlog] max_txs of every home ("": the node's default,
#             four full blocks; four times MAX_TXS when that is above 1000)
#   PROFILE   a file: node0 serves pprof and a 10 s CPU profile taken
#             PROFILE_AT seconds (5) into the load is written there
#             ("": none)
#   BENCH_PROFILE  a file: the load generator's own CPU profile ("": none)
#   BACKOFF   1: workers refused with Retry-After wait it out (bench
#             --backoff), as clients that honour it do (0)
#   TIMELINE  1: the load generator prints each second's POSTs, refusals
#             and commits (bench --timeline) (0)
#   PROBE     1: time one Ed25519 check before the caretakers start and
#             after the follower's sync, and print both (1). This host's
#             speed drifts from minute to minute (37 to 61 us for the same
#             check), and the rates above follow it.
set -euo pipefail

NODES=${NODES:-4}
RATE=${RATE:-3000}
DURATION=${DURATION:-20s}
SIZE=${SIZE:-250}
WORKERS=${WORKERS:-256}
PARAMS=${PARAMS:-}
LOG_LEVEL=${LOG_LEVEL:-warn}
KEEP=${KEEP:-0}
MAX_TXS=${MAX_TXS:-1000}
BACKLOG=${BACKLOG:-}
if [ -z "$BACKLOG" ] && [ "$MAX_TXS" -gt 1000 ]; then BACKLOG=$((4 * MAX_TXS)); fi
PROFILE=${PROFILE:-}
PROFILE_AT=${PROFILE_AT:-5}
BENCH_PROFILE=${BENCH_PROFILE:-}
BACKOFF=${BACKOFF:-0}
PROBE=${PROBE:-1}
TIMELINE=${TIMELINE:-0}

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/ipdb-testnet-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

bin=$dir/ipdb-node
(cd "$root" && go build -o "$bin" ./cmd/ipdb-node)

# probe prints the microseconds one uncached Ed25519 check takes now
# (internal/ed25519verify's benchmark, 3,000 checks on one core).
probe() {
	[ "$PROBE" = 1 ] || return 0
	(cd "$root" && go test ./internal/ed25519verify -run '^$' -bench 'Verify/uncached' -benchtime 3000x) |
		awk '$1 ~ /^BenchmarkVerify\/uncached/ {printf "%.1f", $3 / 1000}'
}
before=$(probe)
# shellcheck disable=SC2086
"$bin" testnet --nodes "$NODES" --followers 1 --out "$dir/net" --param "max_block_txs=$MAX_TXS" $PARAMS >/dev/null

# api I prints the HTTP address of home I of testnet.json (0-based).
api() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])]['http'])" "$dir/net/testnet.json" "$1"; }

# height I prints the height a node's status reports. No python here: it
# polls while the follower syncs, and a python start per poll took a
# third of a core from the sync being measured.
height() { curl -fsS "http://$1/api/v1/status" | grep -o '"height": *[0-9]*' | head -1 | tr -dc 0-9; }

wait_up() {
	for _ in $(seq 1 300); do
		if curl -fsS "http://$1/api/v1/status" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "node at $1 did not come up" >&2
	return 1
}

for i in $(seq 0 $((NODES - 1))); do
	# [block] max_txs is the first max_txs key of the file.
	sed -i -e "s/^level = .*/level = \"$LOG_LEVEL\"/" -e "0,/^max_txs = .*/s//max_txs = $MAX_TXS/" "$dir/net/node$i/config.toml"
	if [ -n "$BACKLOG" ]; then
		sed -i "/^\[backlog\]/,/^\[/ s/^max_txs = .*/max_txs = $BACKLOG/" "$dir/net/node$i/config.toml"
	fi
	if [ -n "$PROFILE" ] && [ "$i" = 0 ]; then
		sed -i -e 's/^pprof_addr = .*/pprof_addr = "127.0.0.1:16060"/' "$dir/net/node$i/config.toml"
	fi
	"$bin" start --home "$dir/net/node$i" >"$dir/node$i.log" 2>&1 &
	pids+=($!)
done
apis=()
for i in $(seq 0 $((NODES - 1))); do
	a=$(api "$i")
	wait_up "$a"
	apis+=("http://$a")
done
echo "== load: $RATE tx/s offered for $DURATION over ${#apis[@]} caretakers"
if [ -n "$PROFILE" ]; then
	(sleep "$PROFILE_AT" && curl -fsS -o "$PROFILE" "http://127.0.0.1:16060/debug/pprof/profile?seconds=10") &
fi
TIMEFORMAT="== load generator's CPU seconds: %U user, %S system"
{ time "$bin" bench --api "$(IFS=,; echo "${apis[*]}")" --rate "$RATE" --duration "$DURATION" \
	--size "$SIZE" --workers "$WORKERS" ${BENCH_PROFILE:+--cpuprofile "$BENCH_PROFILE"} \
	$([ "$BACKOFF" = 1 ] && echo --backoff) $([ "$TIMELINE" = 1 ] && echo --timeline) |
	if [ "$TIMELINE" = 1 ]; then grep -v '^bench: signing'; else tail -5; fi; } 2>&1

# CPU seconds (user + system) each caretaker used so far, from /proc.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
used=()
for p in "${pids[@]}"; do used+=("$(cpu "$p")"); done
echo "== caretakers' CPU seconds so far: ${used[*]}"
# Every caretaker's metrics, read once after the load: metrics/I.txt.
mkdir -p "$dir/metrics"
for i in "${!apis[@]}"; do curl -fsS -o "$dir/metrics/$i.txt" "${apis[$i]}/metrics" || true; done
# Heights decided after round 0 (a timeout or a late proposal), from
# node0's decision-round histogram.
awk '$1 ~ /^ipdb_consensus_decision_round_(bucket\{le="0"\}|count)$/ {v[$1 ~ /count/] = $2}
	END {printf "== heights decided: %d, after round 0: %d\n", v[1], v[1] - v[0]}' "$dir/metrics/0.txt" || true
# total NAME prints the sum of counter NAME over the caretakers' metrics.
total() { cat "$dir"/metrics/*.txt | awk -v name="$1" '$1 == name {n += $2} END {printf "%d", n}'; }
# Blocks the caretakers stored by block sync instead of deciding them.
echo "== blocks the caretakers synced instead of deciding: $(total ipdb_sync_blocks_total)"
# Transaction gossip the caretakers received, first copies and duplicates,
# over the transactions committed (node0's count).
committed=$(awk '$1 == "ipdb_txs_committed_total" {printf "%d", $2}' "$dir/metrics/0.txt")
cat "$dir"/metrics/*.txt | awk -v n="${committed:-0}" '
	$1 ~ /^ipdb_gossip_received_bytes_total\{/ && $1 ~ /topic="txs"/ {v[$1 ~ /duplicate/] += $2}
	END {if (n > 0) printf "== txs gossip the caretakers received: %.1f MB first copies, %.1f MB duplicates (%.0f and %.0f bytes per committed tx)\n", v[0] / 1e6, v[1] / 1e6, v[0] / n, v[1] / n}' || true
# Transactions the caretakers lacked when a proposal named them, fetched
# from the proposer before voting.
echo "== transactions the caretakers fetched for proposals: $(total ipdb_txs_fetched_total)"
target=$(height "${apis[0]#http://}")
fa=$(api "$NODES")
echo "== sync: a new follower catches up to height $target"
start=$(date +%s.%N)
"$bin" start --home "$dir/net/follower0" >"$dir/follower0.log" 2>&1 &
pids+=($!)
wait_up "$fa"
while [ "$(height "$fa")" -lt "$target" ]; do sleep 0.05; done
end=$(date +%s.%N)
# Transactions in the synced chain: the follower's commit counter.
txs=$(curl -fsS "http://$fa/metrics" | awk '$1 == "ipdb_txs_committed_total" {printf "%d", $2}')
# The follower's own account of its catch-ups (without its start-up),
# logged once each ends.
for _ in $(seq 1 40); do grep -q 'msg="synced blocks"' "$dir/follower0.log" && break; sleep 0.05; done
grep -o 'msg="synced blocks".*' "$dir/follower0.log" | sed 's/^/== follower: /' || true
python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); b=int(sys.argv[3]); n=int(sys.argv[4]); print(f'synced {b} blocks ({n} txs, {n/max(b,1):.0f} per block) in {t:.2f} s from the follower\'s start: {b/t:.1f} blocks/s, {n/t:.0f} tx/s')" "$start" "$end" "$target" "$txs"
after=$(probe)
if [ -n "$before$after" ]; then echo "== host: one Ed25519 check took $before us before the run, $after us after it"; fi
