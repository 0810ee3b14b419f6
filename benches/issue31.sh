#!/usr/bin/env bash
# Every measurement of issue 31 (a command's cost grows with the change, not
# with the history), for a BEFORE and an AFTER binary, in one run, printed as
# one markdown table on stdout (progress on stderr).
#
#   benches/issue31.sh BEFORE_BIN AFTER_BIN [RUNS]
#
# RUNS (default 5) timed runs per cell. The two binaries alternate run by run
# (and which one goes first alternates too). Each run works in its own copy of
# a fixture (benches/lib.sh's copy_fixture: the git objects and the big status
# logs are hard links), every copy made, warmed where the row says so, and
# flushed to disk (`sync`) before the first timed run: no run pays for a
# restore or for inodes freed just before it. The fixtures are made once, by
# AFTER_BIN, with the makers of benches/lib.sh, benches/make_big_log.sh and
# benches/make_many_missions.sh, in a scratch directory removed at the end.
#
# Cells, milliseconds: wall is the median of `perf stat`'s duration_time, CPU
# the median of its task-clock (the process and its children, on a CPU: user
# plus system time, from the kernel). Peak RSS (status and next rows only) is
# /usr/bin/time's maximum resident set size, from one more run in the first
# copy right after its timed run (on a "cold" row the saved fold is deleted
# again first). Dashboard rows: the time from its start until
# /api/health answers and until /api/version answers (a server may answer
# health before its first view is built; pages wait for that view); then
# curl's time_total of a request to a
# server started for that run on a free port (stopped after it), the CPU
# time its threads (but the file watcher's) spent meanwhile
# (/proc/PID/task/*/schedstat), and the server's peak RSS (VmHWM) once it
# answered. Floors are binary-independent: they are in the
# after columns. Anything that fails (a non-zero exit, an answer other than
# 200, an implement or move without its auto_commit commit, a read-only row
# that changed a shared status log) stops the script with exit 1: a benchmark
# of a failing command is meaningless.
#
# Environment:
#   BEFORE_SLOW_RUNS=N  runs of BEFORE_BIN on its slow rows (default 1): the
#                       big log's status, next and dashboard, the middle and
#                       big implement, the big move-task and finalize
#   EVENTS="1000 300000 1000000"  status log sizes: small, middle, big
#                       (multiples of 40: make_big_log.sh's cycles end where
#                       the finalize bootstrap continues them, which
#                       validate-workflow checks)
#   WPS_IMPLEMENT="10 2000 5000"  implement's missions (move-task: first, last)
#   WPS_FINALIZE="10 1000 5000"   finalize's missions (re-run: the middle one)
#   MISSIONS=437        the many-missions project (against one mission)
#   RUNLOG="10 100000"  previous `next` calls in the run log of the
#                       10-WP project (benches/lib.sh make_run_log): few, many
#   DASH_REQS=50        dashboard rows: requests of each route on one kept-alive
#                       connection after the first two (median wall; server CPU
#                       per request, the file watcher's thread left out)
#   WRITE_FLOOR=PATH    the write_floor example binary (default:
#                       target/release/examples/write_floor, built when missing)
#   BENCH_TMP=DIR       where the scratch directory goes (default $TMPDIR or /tmp;
#                       the big log's fixture takes about 0.7 GB)
#   KEEP=1              keep the scratch directory (its path is printed)
#   ONLY=REGEX          time only the rows whose key matches (keys: st, stc, nx,
#                       nxc, dwp, gd (status doctor), gm (status migrate
#                       --dry-run), gr (status reconcile), gs (orchestrator-api
#                       mission-state), gl (list-ready), gv (validate-workflow:
#                       it reads every event, streaming), ima, imb, mv, imo,
#                       mvo, gc, wt, fi, fir, fis, ml, mlc, mlf, dix, nr
#                       (next after many calls), nrc (the same, cold) with
#                       their size, e.g. ONLY='^(st|nx)'; version, st10, nx10,
#                       im10, true); the fixtures are all made anyway
#
# A quick end-to-end check with small sizes:
#   EVENTS="400 1200 4000" WPS_IMPLEMENT="10 20 50" WPS_FINALIZE="10 20 50" \
#     MISSIONS=5 benches/issue31.sh OLD_BIN NEW_BIN 1
set -euo pipefail
export LC_ALL=C
if [[ $# -lt 2 ]]; then
  echo "usage: benches/issue31.sh BEFORE_BIN AFTER_BIN [RUNS]  (see the comment at its top)" >&2
  exit 2
fi
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
RUNS=${3:-5}
SLOW=${BEFORE_SLOW_RUNS:-1}
read -r EV_S EV_M EV_B <<<"${EVENTS:-1000 300000 1000000}"
read -r IM_S IM_M IM_B <<<"${WPS_IMPLEMENT:-10 2000 5000}"
read -r FI_S FI_M FI_B <<<"${WPS_FINALIZE:-10 1000 5000}"
NM=${MISSIONS:-437}
read -r RL_S RL_B <<<"${RUNLOG:-10 100000}"
DASH_REQS=${DASH_REQS:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"

die() {
  echo "issue31.sh: $*" >&2
  exit 1
}
for b in "$BEFORE" "$AFTER"; do [[ -x $b ]] || die "not an executable: $b"; done
for t in perf curl git tar /usr/bin/time; do command -v "$t" >/dev/null || die "needs $t"; done
perf stat -x, -e task-clock,duration_time -o /dev/null -- true || die "perf stat cannot count task-clock here"
WRITE_FLOOR=${WRITE_FLOOR:-$ROOT/target/release/examples/write_floor}
if [[ ! -x $WRITE_FLOOR ]]; then
  echo "building the write_floor example..." >&2
  cargo build --release --locked --quiet --example write_floor --manifest-path "$ROOT/Cargo.toml"
fi

S=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/issue31.XXXXXX")
DASH_PID=
cleanup() {
  if [[ -n $DASH_PID ]]; then
    kill "$DASH_PID" 2>/dev/null || true
    wait "$DASH_PID" 2>/dev/null || true
  fi
  if [[ -n ${KEEP:-} ]]; then echo "scratch kept in $S" >&2; else rm -rf "$S"; fi
}
trap cleanup EXIT
export GIT_CONFIG_GLOBAL="$S/gitconfig" GIT_CONFIG_NOSYSTEM=1 HOME="$S/home" NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1
mkdir -p "$HOME"
bench_gitconfig "$GIT_CONFIG_GLOBAL"
F="$S/fixtures" C="$S/copies" R="$S/results"
mkdir -p "$F" "$C" "$R"
declare -A BIN=([before]=$BEFORE [after]=$AFTER)
LOG=kitty-specs/001-bench/status.events.jsonl # the log of make_big_log.sh's mission
CACHE=.git/spec-kitty/status-cache            # where a saved fold is kept
say() { echo "[$(date +%T)] $*" >&2; }

# ---------------------------------------------------------------- fixtures
say "making the fixtures with $AFTER"
make_project "$F/cli10" "$AFTER" # the 10-WP project of benches/cli.sh (at `post`)
# The same with the run log of RL_S and RL_B previous `next` calls.
for n in "$RL_S" "$RL_B"; do
  copy_fixture "$F/cli10" "$F/runs$n"
  make_run_log "$F/runs$n/.git/spec-kitty/runs/001-bench.jsonl" "$n" bench
done
for n in "$EV_S" "$EV_M" "$EV_B"; do
  "$ROOT/benches/make_big_log.sh" "$F/log$n" "$n" "$AFTER"
  rm -rf "${F:?}/log$n/$CACHE"
done
# The N-WP missions of benches/lib.sh, one directory per state: s<N>.pre (not
# finalized), .post (finalized), .auto (and auto_commit: true), .a (and WP0001
# implemented and approved, so WP0002's lane worktree exists).
for n in $(printf '%s\n' "$IM_S" "$IM_M" "$IM_B" "$FI_S" "$FI_M" "$FI_B" | sort -nu); do
  scale_tasks "$F/s$n.pre" "$n" "$AFTER"
  copy_fixture "$F/s$n.pre" "$F/s$n.post"
  scale_finalize "$F/s$n.post" "$AFTER"
  if [[ " $IM_S $IM_M $IM_B " == *" $n "* ]]; then
    copy_fixture "$F/s$n.post" "$F/s$n.auto"
    scale_auto_commit "$F/s$n.auto"
    copy_fixture "$F/s$n.auto" "$F/s$n.a"
    (
      cd "$F/s$n.a"
      "$AFTER" agent action implement WP0001 --mission 001-big --agent codex --json >/dev/null
      "$AFTER" agent tasks move-task WP0001 --to approved --force --reason bench --mission 001-big --agent codex >/dev/null 2>&1
      [[ -d .worktrees/001-big-lane-a ]] || die "no lane worktree for WP0001 in $PWD"
    )
    if [[ " $IM_S $IM_B " == *" $n "* ]]; then
      # .ao: .a with auto_commit: false again (committed); .d: .ao after
      # implement WP0002, its three mission files changed and not committed
      # (the floor rows commit them with git itself).
      copy_fixture "$F/s$n.a" "$F/s$n.ao"
      (
        cd "$F/s$n.ao"
        sed -i 's/^  auto_commit: true/  auto_commit: false/' .kittify/config.yaml
        git add -A && git commit -qm "auto_commit: false"
      )
      copy_fixture "$F/s$n.ao" "$F/s$n.d"
      (
        cd "$F/s$n.d"
        "$AFTER" agent action implement WP0002 --mission 001-big --agent codex --json >/dev/null
        [[ $(git status --porcelain | wc -l) == 3 ]] || die "implement WP0002 did not leave 3 changed files in $PWD"
      )
    fi
  fi
done
"$ROOT/benches/make_many_missions.sh" "$F/m1" 1 "$AFTER"
"$ROOT/benches/make_many_missions.sh" "$F/m$NM" "$NM" "$AFTER"
LOG_SIZES=$(for n in "$EV_S" "$EV_M" "$EV_B"; do stat -c '%s %Y' "$F/log$n/$LOG"; done)

# ---------------------------------------------------------------- rows
# Every row is declared once, in rows(), and run three times: PHASE=copy makes
# its copies, PHASE=warm refreshes their git index and warms them, PHASE=time
# times them and writes the table line. The index is refreshed only once every
# copy exists: each hard link of a shared log changes that file's ctime, which
# would leave every earlier copy's index entry for it stale (and its next git
# stat check re-hashing the 323 MB log, work a user's checkout never does).
#
# row KEY FIXTURE FLAGS GOAL LABEL -- ARGS...   ARGS of spec-kitty (or, with
#   the flag floor, a whole command) in a copy of fixture F/FIXTURE. FLAGS,
#   comma-separated: slow (the before binary runs BEFORE_SLOW_RUNS times),
#   rss (peak RSS too), warm (one untimed run of the same command in the copy
#   first: a user's second run), primed (`agent tasks status` once in the
#   copy first: the status fold is saved, not the lanes.json memo), next (`next --agent codex --json` once in the copy
#   first: an agent's step before its claim; it reads lanes.json too),
#   commit=WP (the run must make an auto_commit
#   commit naming WP), floor (one column: not a spec-kitty command), - (none).
# ratio LABEL KEY_BIG KEY_SMALL GOAL: the ratio of two rows' medians.
# dash KEY FIXTURE FLAGS LABEL ROUTE...: a dashboard started in the copy; each
#   ROUTE requested twice; rows "first request" (and, with the flag second,
#   "second request").
# A fixture's status log (make_big_log.sh) is linked, not copied: only
# read-only commands run there (checked at the end).
links() { [[ $1 == log* ]] && echo "$LOG"; }
runs_of() { # who flags
  if [[ $1 == before && ,$2, == *,slow,* ]]; then echo "$SLOW"; else echo "$RUNS"; fi
}
whos_of() { if [[ ,$1, == *,floor,* ]]; then echo floor; else echo before after; fi; }
fail() {
  echo "issue31.sh: FAILED: $*" >&2
  [[ -s $S/err ]] && tail -n 20 "$S/err" >&2
  exit 1
}

# own_drivers WHO DIR: the copy's merge drivers as WHO's binary registers
# them. The fixtures' clones name AFTER_BIN (it made them), and a
# state-writing command of another binary first registers itself there (a
# .git/config rewrite a user's clone does once, on its first such command),
# so each binary's copies name that binary: no timed run pays it. What a
# binary registers is read once from a repository it initialised.
own_drivers() {
  local who=$1 d=$2 key value
  if [[ ! -f $S/drivers.$who ]]; then
    rm -rf "$S/drivers-repo"
    git init -q "$S/drivers-repo"
    (cd "$S/drivers-repo" && "${BIN[$who]}" init . --ai codex --non-interactive >/dev/null 2>&1) ||
      fail "init by $who (to read its merge drivers)"
    git -C "$S/drivers-repo" config --get-regexp '^merge\.' >"$S/drivers.$who" || true
    rm -rf "$S/drivers-repo"
  fi
  while read -r key value; do
    git -C "$d" config "$key" "$value"
  done <"$S/drivers.$who"
}

prep_copies() { # key fixture flags args...
  local key=$1 fx=$2 flags=$3 who k d
  shift 3
  say "$PHASE: $key"
  for who in $(whos_of "$flags"); do
    for ((k = 0; k < $(runs_of "$who" "$flags"); k++)); do
      d="$C/$key/$who.$k"
      if [[ $fx == - ]]; then mkdir -p "$d"; continue; fi
      # shellcheck disable=SC2046 # zero or one path
      if [[ $PHASE == copy ]]; then
        copy_fixture "$F/$fx" "$d" $(links "$fx")
        rm -rf "${d:?}/$CACHE"
        continue
      fi
      [[ -z $(links "$fx") ]] || git -C "$d" update-index -q --refresh >/dev/null 2>&1 || true
      [[ $who == floor || ! -f $d/.git/config ]] || own_drivers "$who" "$d"
      if [[ ,$flags, == *,warm,* ]]; then
        (cd "$d" && "${BIN[$who]}" "$@" >/dev/null 2>"$S/err") || fail "warm-up of $key ($who) in $d"
      fi
      if [[ ,$flags, == *,primed,* ]]; then
        (cd "$d" && "${BIN[$who]}" agent tasks status >/dev/null 2>"$S/err") ||
          fail "priming of $key ($who) in $d"
      fi
      if [[ ,$flags, == *,next,* ]]; then
        (cd "$d" && "${BIN[$who]}" next --agent codex --json >/dev/null 2>"$S/err") ||
          fail "next before $key ($who) in $d"
      fi
    done
  done
}

# run1 KEY WHO DIR FLAGS ARGS...: one timed run; appends "wall_ms cpu_ms". On
# the first copy (k = 0) of a row with the flag rss, one more run measures the
# peak RSS.
run1() {
  local key=$1 who=$2 d=$3 flags=$4 wp
  shift 4
  local cmd=("$@")
  [[ $who == floor ]] || cmd=("${BIN[$who]}" "$@")
  (cd "$d" && perf stat -x, -e task-clock,duration_time -o "$S/perf.out" -- "${cmd[@]}" >/dev/null 2>"$S/err") ||
    fail "$key ($who): ${cmd[*]} (in $d)"
  awk -F, '$3 == "task-clock" { c = $1 } $3 == "duration_time" { w = $1 / 1e6 }
    END { if (c == "" || w == "") exit 1; print w, c }' "$S/perf.out" >>"$R/$key.$who" ||
    fail "$key ($who): perf stat counted nothing: $(cat "$S/perf.out")"
  if [[ ,$flags, == *,commit=* ]]; then
    wp=${flags#*commit=}
    wp=${wp%%,*}
    git -C "$d" log -1 --format=%s | grep -q "$wp" || fail "$key ($who): no auto_commit commit naming $wp in $d"
  fi
  if [[ ,$flags, == *,rss,* && $d == */$who.0 ]]; then
    [[ ,$flags, == *,warm,* ]] || rm -rf "${d:?}/$CACHE"
    (cd "$d" && /usr/bin/time -f %M -o "$S/rss.out" "${cmd[@]}" >/dev/null 2>"$S/err") || fail "$key ($who): RSS run"
    echo "$(tail -n 1 "$S/rss.out")" >>"$R/$key.$who.rss"
  fi
}

declare -A WALL CPU RSS
# stats KEY WHO: the medians of a row's runs, into WALL, CPU and RSS.
stats() {
  local f="$R/$1.$2" k="$1.$2"
  [[ -s $f ]] || return 0
  WALL[$k]=$(cut -d' ' -f1 "$f" | median)
  CPU[$k]=$(cut -d' ' -f2 "$f" | grep -v '^-$' | median || true)
  [[ -s $f.rss ]] && RSS[$k]=$(median <"$f.rss" | awk '{ printf "%.1f", $1 / 1024 }')
  return 0
}
# cell KEY WHO: "wall | CPU | RSS" of a row (after stats), blank when it has no runs.
cell() {
  local k="$1.$2"
  if [[ -z ${WALL[$k]:-} ]]; then
    echo "| |"
  else
    echo "$(num "${WALL[$k]}") | $(num "${CPU[$k]:--}") | ${RSS[$k]:--}"
  fi
}
num() { awk -v x="$1" 'BEGIN { if (x == "" || x == "-") print x; else if (x < 10) printf "%.2f", x; else if (x < 100) printf "%.1f", x; else printf "%.0f", x }'; }
line() { # label before-cells after-cells runs goal
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" >>"$R/table"
}
nruns() { # key flags: "before/after" runs
  if [[ ,$2, == *,floor,* ]]; then echo "$RUNS"; else echo "$(runs_of before "$2")/$RUNS"; fi
}

row() {
  local key=$1 fx=$2 flags=$3 goal=$4 label=$5 who k
  shift 6 # the -- too
  [[ -z ${ONLY:-} || $key =~ $ONLY ]] || return 0
  if [[ $PHASE != time ]]; then
    prep_copies "$key" "$fx" "$flags" "$@"
    return
  fi
  say "timing: $label"
  local nb na
  nb=$(runs_of before "$flags")
  na=$RUNS
  for ((k = 0; k < (nb > na ? nb : na); k++)); do
    for who in $(if [[ ,$flags, == *,floor,* ]]; then echo floor; elif ((k % 2)); then echo after before; else echo before after; fi); do
      if [[ $who == before ]] && ((k >= nb)); then continue; fi
      if [[ $who != before ]] && ((k >= na)); then continue; fi
      run1 "$key" "$who" "$C/$key/$who.$k" "$flags" "$@"
    done
  done
  stats "$key" before
  stats "$key" after
  stats "$key" floor
  if [[ ,$flags, == *,floor,* ]]; then
    line "$label" "| |" "$(cell "$key" floor)" "$(nruns "$key" "$flags")" "$goal"
  else
    line "$label" "$(cell "$key" before)" "$(cell "$key" after)" "$(nruns "$key" "$flags")" "$goal"
  fi
}

ratio() { # label key_big key_small goal
  [[ $PHASE == time ]] || return 0
  local who cells=()
  for who in before after; do
    # A floor's ratio goes in the after columns, like its rows.
    [[ $who == after && -z ${WALL[$2.after]:-} && -n ${WALL[$2.floor]:-} ]] && who=floor
    if [[ -n ${WALL[$2.$who]:-} && -n ${WALL[$3.$who]:-} ]]; then
      cells+=("$(awk -v a="${WALL[$2.$who]}" -v b="${WALL[$3.$who]}" -v c="${CPU[$2.$who]}" -v d="${CPU[$3.$who]}" \
        'BEGIN { printf "%.1fx | ", a / b; if (d + 0 > 0) printf "%.1fx | -", c / d; else printf "- | -" }')")
    else
      cells+=("| |")
    fi
  done
  line "$1" "${cells[0]}" "${cells[1]}" "" "$4"
}

# dash_run KEY WHO DIR ROUTE...: start the dashboard in DIR, request each
# ROUTE twice, stop it. Appends "ms" to KEY.<i>.<first|second>.WHO and the
# server's VmHWM (KB) to its .rss.
dash_run() {
  local key=$1 who=$2 d=$3 port k i r out code t t0 t1
  shift 3
  port=$(free_port)
  t0=$EPOCHREALTIME
  (cd "$d" && exec "${BIN[$who]}" dashboard --port "$port" >"$S/err" 2>&1) &
  DASH_PID=$!
  for ((k = 0; ; k++)); do
    out=$(curl -fsS "http://127.0.0.1:$port/api/health" 2>/dev/null) && break
    kill -0 "$DASH_PID" 2>/dev/null || fail "$key ($who): the dashboard exited (in $d)"
    ((k < 30000)) || fail "$key ($who): the dashboard did not answer within 5 minutes"
    sleep 0.01
  done
  t1=$EPOCHREALTIME
  [[ $out == *"\"pid\":$DASH_PID"[,}]* ]] || fail "$key ($who): port $port answered for another server: $out"
  echo "$(((10#${t1/./} - 10#${t0/./}) / 1000)) -" >>"$R/$key.start.$who"
  # A server may answer /api/health before its first view is built (its pages
  # wait for it): /api/version answers once it is. The requests below are
  # timed on the built view, as before.
  curl -fsS --max-time 300 "http://127.0.0.1:$port/api/version" >/dev/null ||
    fail "$key ($who): /api/version did not answer"
  t1=$EPOCHREALTIME
  echo "$(((10#${t1/./} - 10#${t0/./}) / 1000)) -" >>"$R/$key.view.$who"
  i=0
  local c0 c1 j args
  for r in "$@"; do
    for t in first second; do
      c0=$(threads_ns "$DASH_PID")
      read -r code out <<<"$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$r")"
      c1=$(threads_ns "$DASH_PID")
      [[ $code == 200 ]] || fail "$key ($who): GET $r answered $code"
      awk -v s="$out" -v a="$c0" -v b="$c1" 'BEGIN { print s * 1000, (b - a) / 1e6 }' >>"$R/$key.$i.$t.$who"
      awk '/^VmHWM/ { print $2 }' "/proc/$DASH_PID/status" >>"$R/$key.$i.$t.$who.rss"
    done
    # DASH_REQS more on one kept-alive connection (no process start or
    # connect per request): their median wall, and the server's CPU per
    # request over all of them.
    args=()
    for ((j = 0; j < DASH_REQS; j++)); do args+=(-o /dev/null "http://127.0.0.1:$port$r"); done
    c0=$(threads_ns "$DASH_PID")
    curl -s -w '%{http_code} %{time_total}\n' "${args[@]}" >"$S/reqs"
    c1=$(threads_ns "$DASH_PID")
    awk '$1 != 200 { bad = 1 } END { exit bad }' "$S/reqs" || fail "$key ($who): GET $r (repeated) answered other than 200"
    echo "$(awk '{ print $2 * 1000 }' "$S/reqs" | median) $(awk -v a="$c0" -v b="$c1" -v n="$DASH_REQS" 'BEGIN { print (b - a) / n / 1e6 }')" \
      >>"$R/$key.$i.reqs.$who"
    awk '/^VmHWM/ { print $2 }' "/proc/$DASH_PID/status" >>"$R/$key.$i.reqs.$who.rss"
    i=$((i + 1))
  done
  kill "$DASH_PID"
  wait "$DASH_PID" 2>/dev/null || true
  DASH_PID=
}

dash() {
  local key=$1 fx=$2 flags=$3 label=$4 k who i r t
  shift 4
  [[ -z ${ONLY:-} || $key =~ $ONLY ]] || return 0
  if [[ $PHASE != time ]]; then
    prep_copies "$key" "$fx" "$flags"
    return
  fi
  say "timing: $label"
  local nb na
  nb=$(runs_of before "$flags")
  na=$RUNS
  for ((k = 0; k < (nb > na ? nb : na); k++)); do
    for who in $(if ((k % 2)); then echo after before; else echo before after; fi); do
      if [[ $who == before ]] && ((k >= nb)); then continue; fi
      if [[ $who == after ]] && ((k >= na)); then continue; fi
      dash_run "$key" "$who" "$C/$key/$who.$k" "$@"
    done
  done
  stats "$key.start" before
  stats "$key.start" after
  line "$label start until \`/api/health\` answers (polled every 10 ms)" "$(cell "$key.start" before)" \
    "$(cell "$key.start" after)" "$(nruns "$key" "$flags")" ""
  stats "$key.view" before
  stats "$key.view" after
  line "$label start until \`/api/version\` answers (the first view is built)" "$(cell "$key.view" before)" \
    "$(cell "$key.view" after)" "$(nruns "$key" "$flags")" ""
  i=0
  for r in "$@"; do
    for t in first second reqs; do
      [[ $t != second || ,$flags, == *,second,* ]] || continue
      stats "$key.$i.$t" before
      stats "$key.$i.$t" after
      local what="$t request"
      [[ $t == reqs ]] && what="median of $DASH_REQS more requests on one connection"
      line "$label \`GET $r\`, $what" "$(cell "$key.$i.$t" before)" "$(cell "$key.$i.$t" after)" \
        "$(nruns "$key" "$flags")" ""
    done
    i=$((i + 1))
  done
}

big() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'; }
nof() { if [[ $1 == 1 ]]; then echo "1 $2"; else echo "$(big "$1") ${2}s"; fi; } # 1 mission, 437 missions

rows() {
  local n st nx im
  # The status log as it grows (make_big_log.sh: a 10-WP mission).
  for n in "$EV_S" "$EV_M" "$EV_B"; do
    local slow=-
    [[ $n == "$EV_B" ]] && slow=slow
    st=(agent tasks status --mission 001-bench)
    row "st$n" "log$n" "rss,warm,$slow" "RSS < 64 MB" "\`agent tasks status\`, $(big "$n") events" -- "${st[@]}"
    row "stc$n" "log$n" "rss,$slow" "RSS < 64 MB" "\`agent tasks status\`, $(big "$n") events, cold" -- "${st[@]}"
  done
  ratio "status ratio $(big "$EV_M") / $(big "$EV_S") events" "st$EV_M" "st$EV_S" "≤ 3x"
  ratio "status ratio $(big "$EV_B") / $(big "$EV_S") events" "st$EV_B" "st$EV_S" "≤ 3x"
  ratio "status ratio $(big "$EV_B") / $(big "$EV_S") events, cold" "stc$EV_B" "stc$EV_S" ""
  for n in "$EV_S" "$EV_B"; do
    local slow=-
    [[ $n == "$EV_B" ]] && slow=slow
    nx=(next --agent bench --mission 001-bench --json)
    row "nx$n" "log$n" "rss,warm,$slow" "RSS < 64 MB" "\`next --json\`, $(big "$n") events" -- "${nx[@]}"
    row "nxc$n" "log$n" "rss,$slow" "RSS < 64 MB" "\`next --json\`, $(big "$n") events, cold" -- "${nx[@]}"
  done
  ratio "next ratio $(big "$EV_B") / $(big "$EV_S") events" "nx$EV_B" "nx$EV_S" "≤ 3x"
  ratio "next ratio $(big "$EV_B") / $(big "$EV_S") events, cold" "nxc$EV_B" "nxc$EV_S" ""
  dash dwp "log$EV_B" slow,second "dashboard, $(big "$EV_B") events:" \
    /missions/001-bench/wp/WP01 /api/missions/001-bench
  # The guards and read-only status commands that read the whole log before
  # the saved fold served them (a user's second run).
  local g key label
  for g in "gd:agent status doctor" "gm:agent status migrate --dry-run" "gr:agent status reconcile" \
    "gs:orchestrator-api mission-state" "gl:orchestrator-api list-ready" \
    "gv:agent tasks validate-workflow"; do
    key=${g%%:*}
    label=${g#*:}
    for n in "$EV_S" "$EV_B"; do
      local slow=-
      [[ $n == "$EV_B" ]] && slow=slow
      # shellcheck disable=SC2086 # the words of the command
      row "$key$n" "log$n" "rss,warm,$slow" "" "\`$label\`, $(big "$n") events" -- $label --mission 001-bench
    done
    # validate-workflow checks every event: it grows with the log, in bounded memory.
    local goal="≤ 3x"
    [[ $key == gv ]] && goal=""
    ratio "\`$label\` ratio $(big "$EV_B") / $(big "$EV_S") events" "$key$EV_B" "$key$EV_S" "$goal"
  done

  # Implement and move with auto_commit: true (benches/lib.sh's N-WP missions).
  im=(agent action implement)
  for n in "$IM_S" "$IM_M" "$IM_B"; do
    local slow=-
    [[ $n != "$IM_S" ]] && slow=slow
    row "ima$n" "s$n.a" "primed,commit=WP0002,$slow" "" \
      "\`agent action implement\` (a) lane worktree exists, $(big "$n") WPs" -- \
      "${im[@]}" WP0002 --mission 001-big --agent codex --json
    row "imb$n" "s$n.auto" "primed,commit=WP0001,$slow" "" \
      "\`agent action implement\` (b) new lane worktree, $(big "$n") WPs" -- \
      "${im[@]}" WP0001 --mission 001-big --agent codex --json
  done
  # (a) without a saved status fold (a fresh clone's first command).
  for n in "$IM_S" "$IM_B"; do
    row "imac$n" "s$n.a" "commit=WP0002,$([[ $n != "$IM_S" ]] && echo slow || echo -)" "" \
      "\`agent action implement\` (a) lane worktree exists, $(big "$n") WPs, cold" -- \
      "${im[@]}" WP0002 --mission 001-big --agent codex --json
  done
  ratio "implement (a) ratio $(big "$IM_M") / $(big "$IM_S") WPs" "ima$IM_M" "ima$IM_S" "≤ 3x"
  ratio "implement (a) ratio $(big "$IM_B") / $(big "$IM_S") WPs" "ima$IM_B" "ima$IM_S" "≤ 3x"
  ratio "implement (b) ratio $(big "$IM_M") / $(big "$IM_S") WPs" "imb$IM_M" "imb$IM_S" "≤ 3x"
  ratio "implement (b) ratio $(big "$IM_B") / $(big "$IM_S") WPs" "imb$IM_B" "imb$IM_S" "≤ 3x"
  ratio "implement (a) ratio $(big "$IM_B") / $(big "$IM_S") WPs, cold" "imac$IM_B" "imac$IM_S" ""
  for n in "$IM_S" "$IM_B"; do
    local slow=-
    [[ $n != "$IM_S" ]] && slow=slow
    row "mv$n" "s$n.auto" "primed,commit=WP0001,$slow" "" \
      "\`agent tasks move-task --to claimed\`, auto_commit, $(big "$n") WPs" -- \
      agent tasks move-task WP0001 --to claimed --mission 001-big --agent codex
  done
  ratio "move-task ratio $(big "$IM_B") / $(big "$IM_S") WPs" "mv$IM_B" "mv$IM_S" ""
  # The same two commands with auto_commit: false (.ao: WP0001 implemented
  # and approved; .post: finalized), and the floor of their commit: git
  # itself committing the three files implement (a) changes (the status log,
  # status.json, the WP file), in a copy where implement wrote them.
  for n in "$IM_S" "$IM_B"; do
    row "imo$n" "s$n.ao" "primed,$([[ $n != "$IM_S" ]] && echo slow || echo -)" "" \
      "\`agent action implement\` (a) lane worktree exists, auto_commit: false, $(big "$n") WPs" -- \
      "${im[@]}" WP0002 --mission 001-big --agent codex --json
    row "mvo$n" "s$n.post" "primed,$([[ $n != "$IM_S" ]] && echo slow || echo -)" "" \
      "\`agent tasks move-task --to claimed\`, auto_commit: false, $(big "$n") WPs" -- \
      agent tasks move-task WP0001 --to claimed --mission 001-big --agent codex
  done
  ratio "implement (a) ratio, auto_commit: false, $(big "$IM_B") / $(big "$IM_S") WPs" "imo$IM_B" "imo$IM_S" ""
  # The same claim after the agent's `next` (it reads the status log and
  # lanes.json, as the claim does, so what is derived from them is current
  # for this copy; \`agent tasks status\` above reads no lanes.json).
  for n in "$IM_S" "$IM_B"; do
    row "imn$n" "s$n.ao" "next,$([[ $n != "$IM_S" ]] && echo slow || echo -)" "" \
      "\`agent action implement\` (a) lane worktree exists, auto_commit: false, after \`next\`, $(big "$n") WPs" -- \
      "${im[@]}" WP0002 --mission 001-big --agent codex --json
  done
  ratio "implement (a) ratio, auto_commit: false, after \`next\`, $(big "$IM_B") / $(big "$IM_S") WPs" "imn$IM_B" "imn$IM_S" "≤ 3x"
  ratio "move-task ratio, auto_commit: false, $(big "$IM_B") / $(big "$IM_S") WPs" "mvo$IM_B" "mvo$IM_S" ""
  local changed="kitty-specs/001-big/status.events.jsonl kitty-specs/001-big/status.json kitty-specs/001-big/tasks/WP0002-part-2.md"
  for n in "$IM_S" "$IM_B"; do
    row "gc$n" "s$n.d" floor "" "floor: \`git add\` of implement (a)'s 3 changed files + \`git commit\`, $(big "$n") WPs" -- \
      sh -c "git add $changed && git commit -q -m floor"
  done
  ratio "floor ratio: \`git add\` + \`git commit\`, $(big "$IM_B") / $(big "$IM_S") WPs" "gc$IM_B" "gc$IM_S" ""
  for n in "$IM_S" "$IM_B"; do
    row "wt$n" "s$n.auto" floor "" "floor: \`git worktree add -b\` of the same repository, $(big "$n") WPs" -- \
      git worktree add -q -b floor-lane .worktrees/floor-lane main
  done

  # Finalize (no auto_commit).
  for n in "$FI_S" "$FI_M" "$FI_B"; do
    local slow=-
    [[ $n == "$FI_B" ]] && slow=slow
    row "fi$n" "s$n.pre" "$slow" "" "\`finalize-tasks\` first run, $(big "$n") WPs" -- \
      agent mission finalize-tasks --mission 001-big --json
  done
  ratio "finalize ratio $(big "$FI_M") / $(big "$FI_S") WPs" "fi$FI_M" "fi$FI_S" "≤ 5x (50 ms)"
  row "fir$FI_M" "s$FI_M.post" - "< 20 ms" "\`finalize-tasks\` re-run, no change, $(big "$FI_M") WPs (the first re-run: it saves the stamp)" -- \
    agent mission finalize-tasks --mission 001-big --json
  row "fis$FI_M" "s$FI_M.post" warm "< 20 ms" "\`finalize-tasks\` re-run, no change, $(big "$FI_M") WPs (a second re-run: from the stamp)" -- \
    agent mission finalize-tasks --mission 001-big --json

  # Many missions (make_many_missions.sh), as a user's second listing finds them and cold.
  for n in 1 "$NM"; do
    row "ml$n" "m$n" warm "" "\`agent mission list --json\`, $(nof "$n" mission)" -- agent mission list --json
    row "mlc$n" "m$n" - "" "\`agent mission list --json\`, $(nof "$n" mission), cold" -- agent mission list --json
  done
  for n in 1 "$NM"; do
    row "mlf$n" "m$n" floor "" "floor: \`sh -c 'cat kitty-specs/*/meta.json kitty-specs/*/status.events.jsonl'\`, $(nof "$n" mission)" -- \
      sh -c 'cat kitty-specs/*/meta.json kitty-specs/*/status.events.jsonl >/dev/null'
  done
  ratio "mission list ratio $(big "$NM") / 1 missions" "ml$NM" ml1 "≤ 3x"
  ratio "mission list ratio $(big "$NM") / 1 missions, cold" "mlc$NM" mlc1 "≤ 3x"
  for n in 1 "$NM"; do
    dash "dix$n" "m$n" - "dashboard, $(nof "$n" mission):" /api/missions /
  done
  ratio "dashboard \`/api/missions\` ratio $(big "$NM") / 1 missions" "dix$NM.0.first" dix1.0.first "≤ 3x"
  ratio "dashboard \`/\` ratio $(big "$NM") / 1 missions" "dix$NM.1.first" dix1.1.first "≤ 3x"
  ratio "dashboard \`/api/missions\` ratio $(big "$NM") / 1 missions, median of $DASH_REQS requests" "dix$NM.0.reqs" dix1.0.reqs "≤ 3x"
  ratio "dashboard \`/\` ratio $(big "$NM") / 1 missions, median of $DASH_REQS requests" "dix$NM.1.reqs" dix1.1.reqs "≤ 3x"

  # Small commands on the 10-WP project of benches/cli.sh: status and next a
# user's second run, implement after one status read (the fold saved).
  row version - - "≤ 2 ms" "\`--version\`" -- --version
  row st10 cli10 warm "≤ 2 ms" "\`agent tasks status\`, 10-WP project" -- agent tasks status --mission 001-bench
  row nx10 cli10 warm "< 3 ms" "\`next --json\`, 10-WP project" -- next --agent codex --mission 001-bench --json
  row im10 cli10 primed "< 10 ms" "\`agent action implement\` (code WP), 10-WP project" -- \
    agent action implement WP01 --mission 001-bench --agent codex --json
  row true - floor "" "floor: an empty process start (\`/bin/true\`)" -- /bin/true

  # next in an agent's loop: the run log (one line a call) as it grows.
  # "cold": no memo of the run log yet, and no saved status fold.
  nx=(next --agent bench --mission 001-bench --json)
  for n in "$RL_S" "$RL_B"; do
    row "nr$n" "runs$n" warm "" "\`next --json\` after $(big "$n") previous calls, 10-WP project" -- "${nx[@]}"
  done
  row "nrc$RL_B" "runs$RL_B" - "" "\`next --json\` after $(big "$RL_B") previous calls, 10-WP project, cold" -- "${nx[@]}"
  ratio "next ratio after $(big "$RL_B") / $(big "$RL_S") previous calls" "nr$RL_B" "nr$RL_S" "≤ 3x"
}

PHASE=copy
say "making the copies ($RUNS runs; before: $SLOW on the slow rows)"
rows
PHASE=warm
rows
sync
PHASE=time
rows

# Writing 1,000 small files, three ways (examples/write_floor.rs: its own
# medians of RUNS runs, each in a directory filled in advance).
say "timing: write_floor"
for n in 10 1000; do
  "$WRITE_FLOOR" "$S/write-floor" "$n" "$RUNS" >"$S/wf$n"
done
awk -F' [|] ' -v runs="$RUNS" '
  function f(x) { x += 0; return sprintf(x < 10 ? "%.2f" : x < 100 ? "%.1f" : "%.0f", x) }
  FNR == 1 { n = $0; sub(/ .*/, "", n) }
  /^[|] (fsync|syncfs|no sync)/ {
    way = $1; sub(/^[|] /, "", way)
    printf "| floor: write %s small files, %s | | | | %s | %s | - | %s | |\n", n == 1000 ? "1,000" : n, way, f($2), f($3), runs
  }' "$S/wf10" "$S/wf1000" >>"$R/table"

# The read-only rows ran on hard links of the fixtures' logs: unchanged?
[[ $LOG_SIZES == "$(for n in "$EV_S" "$EV_M" "$EV_B"; do stat -c '%s %Y' "$F/log$n/$LOG"; done)" ]] ||
  die "a status or next run changed a fixture's status log: the rows that share it are void"

echo "Issue 31, before and after: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end."
echo "Before: $BEFORE ($("$BEFORE" --version)); after: $AFTER ($("$AFTER" --version))."
echo "Median of the runs column (before/after); wall and CPU (task-clock: user+sys of the process and its children) in ms, peak RSS in MB."
echo "\"cold\": the saved status fold deleted; the other status/next/list rows are a user's second run (the fold saved by a first), and implement and move-task run after one \`agent tasks status\` (the status fold saved; lanes.json's memo is not, so the claim reads lanes.json as after a copy of the project), or, where the row says so, after one \`next --agent codex --json\` (an agent's step before its claim: both saved)."
echo "(a): WP0002 of a chain whose lane worktree WP0001 made; (b): WP0001, a new lane worktree. Dashboard: curl time_total, server VmHWM."
echo
echo "| measurement | before wall | before CPU | before RSS | after wall | after CPU | after RSS | runs | goal |"
echo "|---|---|---|---|---|---|---|---|---|"
cat "$R/table"
