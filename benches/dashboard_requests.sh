#!/usr/bin/env bash
# The dashboard's answers as the project grows: a server started on each
# fixture, then each request timed with curl.
#
#   benches/dashboard_requests.sh [-r RUNS] [-e EVENTS] [-n MISSIONS] [BIN...]
#
# RUNS (default 50) requests of each route, on one kept-alive connection
# (one curl: no process start or connect per request, which under load
# were most of a sub-millisecond figure's spread); EVENTS (default 1000000) events in
# the big log; MISSIONS (default 437) missions in the many-missions project.
# BIN defaults to target/release/spec-kitty; give older builds first to compare
# before and after in one run. Fixtures (made once, by the last BIN, before any
# timing; each binary serves its own copy of them):
#   - log-1000 / log-EVENTS: one 10-WP mission whose status log holds that
#     many events (benches/make_big_log.sh); routes: the WP page
#     (/missions/001-bench/wp/WP01), the board JSON (/api/missions/001-bench),
#     the board page (/missions/001-bench/board);
#   - missions-1 / missions-MISSIONS: that many missions of 5 WPs and 25
#     events each (benches/make_many_missions.sh); routes: the index (/) and
#     the mission list (/api/missions).
# Per server: "start" is the wall time from exec until /api/health answers
# and the CPU time (user+sys, all threads) spent by then; on the log fixtures
# the server is then stopped and started again ("restart": what a saved fold
# spares); per route: the median wall time of RUNS requests (curl's
# time_total) and the server's CPU time per request (the rise of its
# threads' run time over the RUNS requests, /proc/PID/task/*/schedstat, the
# file watcher's thread left out: its periodic re-stat of every mission is
# not the request's); "peak RSS" is the server's VmHWM after every request.
# Prints one markdown table.
set -euo pipefail
RUNS=50
EVENTS=1000000
declare -A WALL CPUR
MISSIONS=437
while getopts r:e:n: opt; do
  case $opt in
    r) RUNS=$OPTARG ;;
    e) EVENTS=$OPTARG ;;
    n) MISSIONS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
BINS=("$@")
[[ ${#BINS[@]} -gt 0 ]] || BINS=("$ROOT/target/release/spec-kitty")
for b in "${BINS[@]}"; do [[ -x $b ]] || { echo "no binary at $b" >&2; exit 1; }; done
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
SCRATCH=$(mktemp -d)
SERVER=
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1 HOME="$SCRATCH/home"
mkdir -p "$HOME"
last=${BINS[${#BINS[@]}-1]}
"$ROOT/benches/make_big_log.sh" "$SCRATCH/fixture-log-1000" 1000 "$last"
"$ROOT/benches/make_big_log.sh" "$SCRATCH/fixture-log-$EVENTS" "$EVENTS" "$last"
"$ROOT/benches/make_many_missions.sh" "$SCRATCH/fixture-missions-1" 1 "$last"
"$ROOT/benches/make_many_missions.sh" "$SCRATCH/fixture-missions-$MISSIONS" "$MISSIONS" "$last"
FIXTURES=(log-1000 "log-$EVENTS" missions-1 "missions-$MISSIONS")
k=0
for bin in "${BINS[@]}"; do
  for f in "${FIXTURES[@]}"; do cp -a "$SCRATCH/fixture-$f" "$SCRATCH/copy-$k-$f"; done
  k=$((k + 1))
done

# CPU time (ms) of PID, dead threads included (clock ticks).
process_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1000 / hz }' /proc/"$1"/stat
}
# Start BIN's dashboard in $dir on $port; t0/t1: exec and first answer.
serve() {
  t0=$(date +%s%N)
  (cd "$dir" && exec "$bin" dashboard --port "$port" >/dev/null 2>&1) &
  SERVER=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/api/health"; do
    kill -0 "$SERVER" 2>/dev/null || { echo "$bin dashboard exited in $dir" >&2; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
}
median() {
  sort -n | awk '{a[NR]=$1} END { m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m }'
}

echo "Median of $RUNS requests per route; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| binary | fixture | start: wall / CPU | route | wall ms (median) | server CPU ms / request | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
k=0
for bin in "${BINS[@]}"; do
  for f in "${FIXTURES[@]}"; do
    case $f in
      log-*) routes=(/missions/001-bench/wp/WP01 /api/missions/001-bench /missions/001-bench/board) ;;
      missions-*) routes=(/ /api/missions) ;;
    esac
    dir="$SCRATCH/copy-$k-$f"
    port=$(free_port)
    serve
    start="$(( (t1 - t0) / 1000000 )) / $(process_ms "$SERVER") ms"
    if [[ $f == log-* ]]; then
      kill "$SERVER" && wait "$SERVER" 2>/dev/null || true
      serve
      start="$start; restart $(( (t1 - t0) / 1000000 )) / $(process_ms "$SERVER") ms"
    fi
    for r in "${routes[@]}"; do
      url="http://127.0.0.1:$port$r"
      curl -sf -o /dev/null "$url" # the first answer may render what later ones reuse
      c0=$(threads_ns "$SERVER")
      args=()
      for ((i = 0; i < RUNS; i++)); do args+=(-o /dev/null "$url"); done
      walls=$(curl -sf -w '%{time_total}\n' "${args[@]}")
      [[ $(wc -l <<<"$walls") -eq $RUNS ]] || { echo "$bin: GET $r failed in $dir" >&2; exit 1; }
      c1=$(threads_ns "$SERVER")
      wall=$(awk '{ print $1 * 1000 }' <<<"$walls" | median)
      cpu=$(awk -v a="$c0" -v b="$c1" -v n="$RUNS" 'BEGIN { printf "%.2f", (b - a) / n / 1e6 }')
      rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' /proc/"$SERVER"/status)
      echo "| $(basename "$bin") | $f | $start | \`$r\` | $wall | $cpu | $rss |"
      WALL["$k $f $r"]=$wall
      CPUR["$k $f $r"]=$cpu
      start=
    done
    kill "$SERVER" && wait "$SERVER" 2>/dev/null || true
    SERVER=
  done
  k=$((k + 1))
done
echo
echo "| binary | route | ratio $MISSIONS / 1 missions: wall / server CPU |"
echo "|---|---|---|"
k=0
for bin in "${BINS[@]}"; do
  for r in / /api/missions; do
    echo "| $(basename "$bin") | \`$r\` | $(awk -v a="${WALL["$k missions-1 $r"]}" -v b="${WALL["$k missions-$MISSIONS $r"]}" \
      -v c="${CPUR["$k missions-1 $r"]}" -v d="${CPUR["$k missions-$MISSIONS $r"]}" \
      'BEGIN { printf "%.1fx / ", b / a; if (c + 0 > 0) printf "%.1fx", d / c; else printf "-" }') |"
  done
  k=$((k + 1))
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
