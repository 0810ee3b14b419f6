#!/usr/bin/env bash
# Start-up cost of spec-kitty binaries, side by side: instructions retired
# (callgrind, exact and load-independent) and wall time (hyperfine, noisy on a
# busy machine) for `--version` and `agent tasks status` in a fresh project.
#
#   benches/startup.sh BIN [BIN ...]     e.g. an older build beside target/release/spec-kitty
#
# Needs valgrind; hyperfine is used when present.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BIN [BIN ...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "startup.sh: valgrind is needed" >&2; exit 2; }
proj=$(mktemp -d)
trap 'rm -rf "$proj"' EXIT
first=$(realpath "$1")
(cd "$proj" && git init -q && "$first" init . --ai codex --non-interactive >/dev/null &&
    "$first" agent mission create demo --json >/dev/null)
cmds=("--version" "agent tasks status")
printf '%-40s %-22s %14s\n' binary command instructions
for bin in "$@"; do
    bin=$(realpath "$bin")
    for c in "${cmds[@]}"; do
        # shellcheck disable=SC2086
        n=$(cd "$proj" && valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" $c 2>&1 >/dev/null |
            awk '/refs:/ {print $NF}')
        printf '%-40s %-22s %14s\n' "$bin" "$c" "$n"
    done
done
if command -v hyperfine >/dev/null; then
    for c in "${cmds[@]}"; do
        args=()
        for bin in "$@"; do args+=("$(realpath "$bin") $c"); done
        (cd "$proj" && hyperfine -N -w 20 -r 300 "${args[@]}")
    done
fi
