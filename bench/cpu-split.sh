#!/usr/bin/env bash
# Per-process CPU of mailgate (queue owner + each receive worker) for one load A, from /proc
# (utime + stime), for one or more modes of bench/mailgate-config.ts in turn: where the CPU of the
# policy path goes (full vs noauth vs off), without the profiler's wall-time sampling.
#   bash bench/cpu-split.sh [full noauth off]      modes, in this order, REPS times (default 2)
#   N=8000 REPS=2 SESSIONS=20 DIST=dist bash bench/cpu-split.sh
# Loopback only: smtp-sink on 127.0.0.1:2600, mailgate on 127.0.0.1:2527, the bench DNS server;
# every smtp-source run is bounded by RUN_TIMEOUT; everything started here is stopped by its PID.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-8000}; REPS=${REPS:-2}; SESSIONS=${SESSIONS:-20}; DIST=${DIST:-$ROOT/dist}; RUN_TIMEOUT=${RUN_TIMEOUT:-300}
MODES=("$@"); [ ${#MODES[@]} -gt 0 ] || MODES=(full noauth off)
SCRATCH=${PB:-/tmp/mailgate-bench}/cpu-split
SRC=(-l 2000 -f sender@bench.invalid -t user@example.com -M client.bench.invalid 127.0.0.1:2527)
command -v smtp-source >/dev/null || bash "$ROOT/../shared/bench-peers/00-install-system.sh"
[ -f "$DIST/cli/main.js" ] || (cd "$ROOT" && npm run build >/dev/null)
for port in 2600 2527; do
  if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is taken; stop that first" >&2; exit 1; fi
done

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
(cd "$ROOT" && exec node --import tsx bench/dns.ts "$SCRATCH/dns.addr" bench.invalid) >"$SCRATCH/dns.log" 2>&1 & PIDS+=($!)
smtp-sink -u nobody -c -C 127.0.0.1:2600 2048 >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$SCRATCH/dns.addr" ] && break; sleep 0.1; done

ticks() { for p in "$1" $(pgrep -P "$1"); do echo "$p $(awk '{print $14 + $15}' "/proc/$p/stat")"; done; }
wait_port() { for _ in $(seq 1 100); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done; return 1; }

echo "CPU s per 1,000 messages (load A: $SESSIONS sessions x $N, 2,000 bytes, new connection per message), $(nproc) cores"
for rep in $(seq 1 "$REPS"); do
  for mode in "${MODES[@]}"; do
    dir=$SCRATCH/$mode-$rep; mkdir -p "$dir"
    (cd "$ROOT" && node --import tsx bench/mailgate-config.ts "$dir" "$mode" 2527 2600 bench.invalid) >/dev/null
    dns=127.0.0.1:1; [ "$mode" = off ] || dns=$(cat "$SCRATCH/dns.addr")
    MAILGATE_LOG_LEVEL=warn MAILGATE_DNS_SERVERS=$dns node "$DIST/cli/main.js" --data "$dir" serve --workers 0 >"$dir/log" 2>&1 &
    mg=$!; PIDS+=("$mg")
    wait_port 2527; sleep 2 # every cluster worker up
    timeout "$RUN_TIMEOUT" smtp-source -s "$SESSIONS" -m 2000 "${SRC[@]}" >/dev/null 2>&1 # warm-up, not counted
    ticks "$mg" | sort >"$dir/t0"; t0=$(date +%s%N)
    timeout "$RUN_TIMEOUT" smtp-source -s "$SESSIONS" -m "$N" "${SRC[@]}" >/dev/null 2>&1
    t1=$(date +%s%N); sleep 2 # the queue owner finishes relaying
    ticks "$mg" | sort >"$dir/t1"
    join "$dir/t0" "$dir/t1" | awk -v mg="$mg" -v n="$N" -v mode="$mode" -v rep="$rep" -v ms=$(( (t1 - t0) / 1000000 )) \
      '{ d = ($3 - $2) / 100 / (n / 1000); tot += d; parts = parts sprintf("  %s %.2f", ($1 == mg ? "owner" : "worker"), d) }
       END { printf "%-7s rep %s: %6d ms accepted;%s  total %.2f\n", mode, rep, ms, parts, tot }'
    kill "$mg"; wait "$mg" 2>/dev/null || true
    for _ in $(seq 1 100); do ss -Hltn "sport = :2527" | grep -q . || break; sleep 0.1; done
  done
done
