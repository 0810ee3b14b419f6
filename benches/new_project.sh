# shellcheck shell=bash
# Sourced (not run) by the fixture makers benches/make_big_log.sh and
# benches/make_many_missions.sh, whose arguments are DIR N [BIN] and which set
# USAGE first: checks those arguments (DIR, N and BIN set; BIN defaults to
# target/release/spec-kitty), then makes DIR afresh as a spec-kitty project
# made by BIN (a git repo with an empty first commit, hermetic git settings,
# `init --ai codex`) and leaves the shell in it.
DIR=${1:?usage: $USAGE}
N=${2:?usage: $USAGE}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${3:-$ROOT/target/release/spec-kitty}
[[ -x $BIN ]] || { echo "no binary at $BIN" >&2; exit 1; }

rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1
git init -q .
git config user.name Bench
git config user.email bench@example.com
git config commit.gpgsign false
git commit -q --allow-empty -m init
"$BIN" init . --ai codex --non-interactive >/dev/null 2>&1
