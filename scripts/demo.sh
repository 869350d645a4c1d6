#!/usr/bin/env bash
# lore's main job, end to end, on a self-contained default: the sample transcripts in
# fixtures/ imported into a throw-away LORE_HOME (your own ~/.lore is never touched), then
# listed, searched and shown, with the history of commits that recorded it. Run from the repository after `cargo install --path .`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lore=${LORE_BIN:-lore}
command -v "$lore" >/dev/null || { echo "demo: '$lore' is not on PATH; run 'cargo install --locked --path .' first" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lore-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export LORE_HOME="$work/lore-home"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

step "$lore" import "$repo/fixtures/transcripts"
step "$lore" import "$repo/fixtures/transcripts"          # again: nothing changed, nothing read
step "$lore" sessions
step "$lore" search binary files
step "$lore" show 5b1f3c9e --markdown                     # a unique id prefix is enough
step "$lore" status
step "$lore" history                                    # every change is a revertible commit
printf '\nThat was a throw-away LORE_HOME (%s), removed now. Your own: lore import\n' "$LORE_HOME"
