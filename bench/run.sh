#!/usr/bin/env bash
# mailgate benchmark harness (`npm run bench`): the same bounded loads against a bare smtp-sink,
# a private Postfix, Haraka (smtp_forward) and mailgate (policy off / every check on), in turn,
# A B A B ... for ROUNDS rounds, then a table + JSON (bench/report.ts).
# Recipes reused from ../shared/bench-peers (lib.sh: bench(), CPU/memory accounting; the Postfix
# and Haraka setup scripts). Loopback only; every run bounded (RUN_TIMEOUT, DRAIN_TIMEOUT, counts).
#
#   ROUNDS=3                       rounds (A B A B ...)
#   TARGETS="sink postfix haraka mailgate-off mailgate-full"
#                                  also: smtp-server, smtp-server-fsync, smtp-relay, smtp-relay-fsync,
#                                  smtp-relay-journal
#                                  (ceilings: the libraries alone, see start_smtp-server below)
#   LOADS="A 20 20000;B 1 2000"    load (1) and load (2): "NAME SESSIONS MESSAGES"
#   HARAKA_LOADS="A 20 5000;B 1 400"  Haraka stock stalls ~40 ms/message (Nagle): smaller counts
#   LAT_N=2000 HARAKA_LAT_N=400    messages of our latency client (load 2 latency)
#   IDLE_N=1000 IDLE_HOLD=30       load (3): idle connections held while load (1) runs again
#   MAILGATE_WORKERS=0             serve --workers (0 = one per core)
#   SKIP_BUILD=1                   use dist/ as it is
#   PROFILE=1                      mailgate started with --cpu-prof (profiles in $PB/prof)
#   PHASES=1                       the latency client also times each step (p50/p99 per step, in
#                                  $OUT/logs/latency-TARGET.log)
#   BASELINE_DIST=/path/to/dist    adds targets mailgate-off-baseline / mailgate-full-baseline: another
#                                  build (e.g. before a change), interleaved in the same rounds
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEERS=${PEERS:-$(cd "$ROOT/../shared/bench-peers" && pwd)}
export PB=${PB:-/tmp/mailgate-bench}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$PB/run-$STAMP
mkdir -p "$OUT"
export RESULTS=$OUT/results.csv CPU_RESULTS=$OUT/cpu.csv LAT_RESULTS=$OUT/latency-py.csv LOGDIR=$OUT/logs
BENCH_LOADS=${LOADS:-A 20 20000;B 1 2000}
unset LOADS
ROUNDS=${ROUNDS:-3}
TARGETS=${TARGETS:-sink postfix haraka mailgate-off mailgate-full}
HARAKA_LOADS=${HARAKA_LOADS:-A 20 5000;B 1 400}
LAT_N=${LAT_N:-2000}
HARAKA_LAT_N=${HARAKA_LAT_N:-400}
IDLE_N=${IDLE_N:-1000}
IDLE_HOLD=${IDLE_HOLD:-30}
export DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-180} RUN_TIMEOUT=${RUN_TIMEOUT:-300} RUNS=1 WARMUP=0
MG_PORT=2527
SENDER_DOMAIN=bench.invalid
LATCSV=$OUT/latency.csv IDLECSV=$OUT/idle.csv
TSX=(node --import tsx)

command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null || bash "$PEERS/00-install-system.sh"
# shellcheck source=/dev/null
. "$PEERS/lib.sh"
echo "target,round,messages,ok,p50_ms,p90_ms,p99_ms,max_ms,mean_ms,wall_s" >"$LATCSV"
echo "target,round,wanted,opened,banners,rss_before_kb,rss_open_kb,rss_peak_kb,rss_after_kb,extra_mb,open_s" >"$IDLECSV"

{
  echo "date: $(date -Is)"; echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo; grep MemTotal /proc/meminfo; uname -srvm
  echo "fs of $PB: $(df -T "$PB" | awk 'NR==2{print $2, $1}')"
  echo "node $(node --version); $(postconf -d mail_version 2>/dev/null); smtp-source/smtp-sink from Debian postfix"
  echo "rounds: $ROUNDS; loads: $BENCH_LOADS; haraka loads: $HARAKA_LOADS; idle: $IDLE_N x ${IDLE_HOLD}s; latency msgs: $LAT_N (haraka $HARAKA_LAT_N)"
  echo "mailgate: serve --workers ${MAILGATE_WORKERS:-0} ($( [ "${MAILGATE_WORKERS:-0}" = 0 ] && nproc || echo "${MAILGATE_WORKERS}") receive processes + 1 queue owner), git $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo '+dirty')"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

if [ "${SKIP_BUILD:-0}" != 1 ]; then (cd "$ROOT" && npm run build >"$LOGDIR/build.log" 2>&1) || { log "build failed: $LOGDIR/build.log"; exit 1; }; fi

# --- what we started, stopped by PID on exit -----------------------------------------------------
SINK_PID= DNS_PID= CUR_STOP=
cleanup() {
  [ -n "$CUR_STOP" ] && $CUR_STOP
  stop_pid "$DNS_PID"; stop_pid "$SINK_PID"; rm -f "$PB/sink.pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# smtp-sink with running counters (-c): the one next hop, and the delivered count of every target
SINK_OUT=$OUT/sink.out
port_free() { ! ss -Hltn "sport = :$1" | grep -q . || { log "port $1 is taken; stop that first"; return 1; }; }
port_free $SINK_PORT || exit 1
smtp-sink -u nobody -c -C 127.0.0.1:$SINK_PORT 2048 >"$SINK_OUT" 2>&1 &
SINK_PID=$!; echo "$SINK_PID" >"$PB/sink.pid"
wait_listen $SINK_PORT || exit 1
sink_count() { tail -c 64 "$SINK_OUT" | tr '\r' '\n' | awk -F'mesg=' 'NF>1{n=$2} END{print n+0}'; }
export PRE_RUN='SINK0=$(sink_count)'
# evaluated inside lib.sh bench(): $m is that run's message count
DRAIN='[ "$(sink_count)" -ge $((SINK0 + m)) ]'

if [[ " $TARGETS " == *" mailgate-full"* || " $TARGETS " == *" mailgate-rules"* ]]; then
  rm -f "$PB/dns.addr"
  (cd "$ROOT" && exec "${TSX[@]}" bench/dns.ts "$PB/dns.addr" "$SENDER_DOMAIN") >"$LOGDIR/dns.log" 2>&1 &
  DNS_PID=$!
  for _ in $(seq 1 100); do [ -s "$PB/dns.addr" ] && break; sleep 0.1; done
  DNS_ADDR=$(cat "$PB/dns.addr") || { log "dns server did not start"; exit 1; }
  log "loopback DNS at $DNS_ADDR"
fi

# --- targets: start_<t> sets PORT and TARGET_PID; stop_<t> stops what start started ----------------
start_sink() { PORT=$SINK_PORT; TARGET_PID=$SINK_PID; }
stop_sink() { :; }

PF_ETC=$PB/postfix/etc
start_postfix() {
  bash "$PEERS/30-setup-postfix.sh" >"$LOGDIR/postfix-setup.log" 2>&1 || return 1
  postfix -c "$PF_ETC" status >/dev/null 2>&1 && script -qec "postfix -c $PF_ETC stop" /dev/null >&2
  script -qec "postfix -c $PF_ETC start" /dev/null >&2
  PORT=$POSTFIX_PORT; wait_listen $PORT || return 1
  TARGET_PID=$(tr -d ' ' <"$PB/postfix/spool/pid/master.pid")
}
stop_postfix() { script -qec "postfix -c $PF_ETC stop" /dev/null >&2; wait_closed $POSTFIX_PORT; }

HARAKA_PID=
start_haraka() {
  bash "$PEERS/20-setup-haraka.sh" 1 >"$LOGDIR/haraka-setup.log" 2>&1 || return 1
  (cd "$PB/haraka-app" && exec node node_modules/Haraka/bin/haraka -c "$PB/haraka-app/inst") >>"$LOGDIR/haraka.log" 2>&1 &
  HARAKA_PID=$!; PORT=$HARAKA_PORT; TARGET_PID=$HARAKA_PID
  wait_listen $PORT || return 1
  sleep 2 # cluster worker
}
stop_haraka() { stop_pid "$HARAKA_PID"; wait_closed $HARAKA_PORT; HARAKA_PID=; }

# Ceilings: ../shared/bench-peers' node-min, the smtp-server version mailgate uses and nothing else
# (accept RCPT for example.com, read DATA, 250; no policy, no relay, so drained = accepted), with
# smtp-server's fixed 100 ms banner delay taken out as mailgate does. smtp-server-fsync also writes
# each message to a new file and fsyncs it before the 250: what any durable gateway on this stack
# pays before it does anything of its own. Each runs in as many cluster workers as mailgate has
# receive workers (in-cluster.ts), so it may use the same cores.
NM_PID=
start_node_min() { # $1 = 0 (read and discard) | 1 (write + fsync a file per message)
  SMTP_SERVER_VERSION=$(cd "$ROOT" && node -p "require('smtp-server/package.json').version") \
    bash "$PEERS/40-setup-node-min.sh" >"$LOGDIR/node-min-setup.log" 2>&1 || return 1
  rm -rf "$PB/node-min/spool"
  port_free $NODEMIN_PORT || return 1
  (cd "$ROOT" && PORT=$NODEMIN_PORT FSYNC=$1 SPOOL="$PB/node-min/spool" NO_GREETING_DELAY=1 \
    exec "${TSX[@]}" bench/in-cluster.ts "${MAILGATE_WORKERS:-0}" "$PB/node-min/server.js") >>"$LOGDIR/node-min-fsync$1.log" 2>&1 &
  NM_PID=$!; PORT=$NODEMIN_PORT; TARGET_PID=$NM_PID
  wait_listen $PORT
}
stop_node_min() { stop_pid "$NM_PID"; wait_closed $NODEMIN_PORT; NM_PID=; rm -rf "$PB/node-min/spool"; }
start_smtp-server() { start_node_min 0; }
stop_smtp-server() { stop_node_min; }
start_smtp-server-fsync() { start_node_min 1; }
stop_smtp-server-fsync() { stop_node_min; }
# smtp-relay: smtp-server answers 250 at once and nodemailer's pool relays to the sink, as the
# queue owner does (bench/relay-ceiling.ts): receive + relay with nothing durable, no policy
# smtp-relay-fsync: the same, with each message written to a new file and fsynced before the 250
RC_PID= RC_PORT=2611
start_relay_ceiling() { # extra arguments of relay-ceiling.ts (--fsync DIR)
  port_free $RC_PORT || return 1
  rm -rf "$PB/relay-spool"
  (cd "$ROOT" && exec "${TSX[@]}" bench/in-cluster.ts "${MAILGATE_WORKERS:-0}" bench/relay-ceiling.ts --port $RC_PORT --next-hop $SINK_PORT "$@") \
    >>"$LOGDIR/smtp-relay.log" 2>&1 &
  RC_PID=$!; PORT=$RC_PORT; TARGET_PID=$RC_PID
  wait_listen $PORT
}
stop_relay_ceiling() { # the relay exits 1 when the next hop refused anything
  stop_pid "$RC_PID"; wait "$RC_PID" 2>/dev/null || log "smtp-relay: the next hop refused messages (see $LOGDIR/smtp-relay.log)"
  wait_closed $RC_PORT; RC_PID=; rm -rf "$PB/relay-spool"
}
start_smtp-relay() { start_relay_ceiling; }
stop_smtp-relay() { stop_relay_ceiling; }
start_smtp-relay-fsync() { start_relay_ceiling --fsync "$PB/relay-spool"; }
stop_smtp-relay-fsync() { stop_relay_ceiling; }
# smtp-relay-journal: the same, each message appended to a per-process journal (a ring in a file of
# zeros) and one fdatasync covering every message appended before it began (group commit)
start_smtp-relay-journal() { start_relay_ceiling --journal "$PB/relay-spool"; }
stop_smtp-relay-journal() { stop_relay_ceiling; }

MG_PID=
start_mailgate() { # $1 = off | full, $2 = dist dir (default: this checkout's build)
  local mode=$1 dist=${2:-$ROOT/dist} dir=$PB/mailgate-$1 env=(MAILGATE_LOG_LEVEL=warn) prof=()
  rm -rf "$dir"; mkdir -p "$dir"
  # A baseline build gets its configuration from its own checkout's writer (its schema may not know a newer setting).
  local root; root=$(cd "$dist/.." && pwd); [ -f "$root/bench/mailgate-config.ts" ] || root=$ROOT
  (cd "$root" && "${TSX[@]}" bench/mailgate-config.ts "$dir" "$mode" $MG_PORT $SINK_PORT $SENDER_DOMAIN) >>"$LOGDIR/mailgate-$mode.log" 2>&1 || return 1
  if [ "$mode" = full ] || [ "$mode" = rules ]; then env+=(MAILGATE_DNS_SERVERS="$DNS_ADDR"); else env+=(MAILGATE_DNS_SERVERS=127.0.0.1:1); fi
  [ "${PROFILE:-0}" = 1 ] && { mkdir -p "$PB/prof"; prof=(--cpu-prof --cpu-prof-dir "$PB/prof"); }
  env "${env[@]}" node "${prof[@]}" "$dist/cli/main.js" --data "$dir" serve --workers "${MAILGATE_WORKERS:-0}" \
    >>"$LOGDIR/mailgate-$mode.log" 2>&1 &
  MG_PID=$!; PORT=$MG_PORT; TARGET_PID=$MG_PID
  wait_listen $PORT || return 1
  sleep 2 # every cluster worker up
}
stop_mailgate() { stop_pid "$MG_PID"; wait_closed $MG_PORT; MG_PID=; }
start_mailgate-off() { start_mailgate off; }
stop_mailgate-off() { stop_mailgate; }
start_mailgate-full() { start_mailgate full; }
stop_mailgate-full() { stop_mailgate; }
start_mailgate-rules() { start_mailgate rules; }
stop_mailgate-rules() { stop_mailgate; }
start_mailgate-off-baseline() { start_mailgate off "${BASELINE_DIST:?set BASELINE_DIST}"; }
stop_mailgate-off-baseline() { stop_mailgate; }
start_mailgate-full-baseline() { start_mailgate full "${BASELINE_DIST:?set BASELINE_DIST}"; }
stop_mailgate-full-baseline() { stop_mailgate; }

# --- the loads against one target ----------------------------------------------------------------
measure() { # target round
  local t=$1 round=$2 spec l1 l2 latn=$LAT_N drain=$DRAIN
  spec=$BENCH_LOADS
  [ "$t" = haraka ] && { spec=$HARAKA_LOADS; latn=$HARAKA_LAT_N; }
  case $t in smtp-server*) drain= ;; esac                           # these ceilings relay nothing
  IFS=';' read -r l1 l2 <<<"$spec"
  LOADS=("$l1"); bench "$t" "$PORT" "$drain"                       # (1) throughput, many sessions
  if [ -n "$l2" ]; then LOADS=("$l2"); bench "$t" "$PORT" "$drain"; fi  # (2) one session
  sync
  (cd "$ROOT" && timeout "$RUN_TIMEOUT" "${TSX[@]}" bench/latency.ts --port "$PORT" -n "$latn" --bytes "$MSG_BYTES" \
    --from "$FROM" --to "$RCPT" --target "$t" --round "$round" ${PHASES:+--phases}) >>"$LATCSV" 2>>"$LOGDIR/latency-$t.log"
  tail -1 "$LATCSV" >&2
  if [ "$IDLE_N" -gt 0 ] && [[ $t != smtp-* ]]; then                 # (3) idle connections during (1)
    local ready=$OUT/idle.ready ipid
    rm -f "$ready"
    (cd "$ROOT" && exec timeout $((IDLE_HOLD + 120)) "${TSX[@]}" bench/idle.ts --port "$PORT" --pid "$TARGET_PID" -n "$IDLE_N" \
      --hold "$IDLE_HOLD" --ready "$ready" --target "$t" --round "$round") >>"$IDLECSV" 2>>"$LOGDIR/idle-$t.log" &
    ipid=$!
    for _ in $(seq 1 600); do [ -s "$ready" ] && break; kill -0 $ipid 2>/dev/null || break; sleep 0.1; done
    LOADS=("A+idle ${l1#* }"); bench "$t" "$PORT" "$drain"
    wait $ipid; tail -1 "$IDLECSV" >&2
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  for t in $TARGETS; do
    log "round $round/$ROUNDS: $t"
    CUR_STOP="stop_$t" # also if interrupted while it starts
    if "start_$t"; then
      measure "$t" "$round"
    else
      log "$t did not start (see $LOGDIR)"
    fi
    "stop_$t"; CUR_STOP=
  done
done
log "sink counted $(sink_count) messages in total"
(cd "$ROOT" && "${TSX[@]}" bench/report.ts "$OUT") | tee "$OUT/summary.md"
