#!/usr/bin/env bash
# lore's main job, end to end, on a self-contained default: the sample transcripts in
# fixtures/ imported into a throw-away LORE_HOME (your own ~/.lore is never touched), then
# listed, searched and shown, with the history of commits that recorded it; then shared with a
# second user through a local bare repository as the remote, encrypted on the way, until
# the second user's `lore blame` shows the first one's reasoning behind a line.
# Run from the repository after `cargo install --path .`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lore=${LORE_BIN:-lore}
command -v "$lore" >/dev/null || { echo "demo: '$lore' is not on PATH; run 'cargo install --locked --path .' first" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lore-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export LORE_HOME="$work/lore-home"
# The demo's keys are throw-away: they go to files in $work, never into your OS keychain.
export LORE_KEYCHAIN=off

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

# A new user's first command, in a throw-away HOME whose agents left the sample transcripts:
# lore init finds them, imports their history and registers lore's hook with each agent, so
# every later session is imported as it ends; --undo restores each settings file exactly.
mkdir -p "$work/home"
for agent in claude codex gemini; do cp -R "$repo/fixtures/transcripts/$agent" "$work/home/.$agent"; done
printf '{\n  "model": "opus"\n}\n' > "$work/home/.claude/settings.json"
(
    export HOME="$work/home" LORE_HOME="$work/home/.lore"
    step "$lore" init --yes
    step grep -- --hook "$HOME/.claude/settings.json"   # SessionEnd, Stop, PreCompact
    step "$lore" init --undo
    step cat "$HOME/.claude/settings.json"
)

step "$lore" import "$repo/fixtures/transcripts"
step "$lore" import "$repo/fixtures/transcripts"          # again: nothing changed, nothing read
step "$lore" sessions
step "$lore" search binary files
step "$lore" show 5b1f3c9e --markdown                     # a unique id prefix is enough
step "$lore" status
step "$lore" history                                    # every change is a revertible commit

# Sharing: Alice and Bob, each with a lore home of their own, share sessions through one bare
# repository as the remote. lore sync carries a repository's own sessions only: the sample
# transcripts are copied with their working directory moved into Alice's repository.
command -v git-remote-lore >/dev/null || { echo "demo: git-remote-lore is not on PATH; run 'cargo install --locked --path .'" >&2; exit 1; }
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Alice" && git config --global user.email alice@example.com
git config --global init.defaultBranch main
git init -q --bare "$work/remote.git"
git init -q "$work/alice" && cd "$work/alice"
echo "the code" > README && git add README && git commit -qm "first commit"
git remote add origin "$work/remote.git" && git push -q -u origin main
cp -R "$repo/fixtures/transcripts" "$work/alice-transcripts"
grep -rl /home/dev/acme "$work/alice-transcripts" | while read -r f; do
    sed -i.bak "s#/home/dev/acme#$work/alice#g" "$f" && rm -f "$f.bak"
done
export LORE_HOME="$work/alice-home"
passphrase="a demo passphrase"   # real use: lore sync setup asks, without echo
printf '\n%s# Alice%s\n' "$bold" "$plain"
step "$lore" import "$work/alice-transcripts"
printf '\n%s$ lore sync setup%s\n' "$bold" "$plain"
printf '%s\n' "$passphrase" | "$lore" sync setup --passphrase-stdin
mkdir -p src && printf 'pub fn status(json: bool) -> String {\n    if json { to_json() } else { to_text() }\n}\n' > src/status.rs
git add src/status.rs && git commit -qm "Add --json to acme status" && git push -q
step "$lore" link 5b1f3c9e                              # this session made that commit (HEAD)
step "$lore" sync                                       # her sessions, encrypted, to the remote
step git log --oneline refs/lore/sessions               # plain git reads her local store
step git -C "$work/remote.git" ls-tree -r --name-only refs/lore/sessions   # the host sees this
printf '\n%s# Bob%s\n' "$bold" "$plain"
git clone -q "$work/remote.git" "$work/bob" && cd "$work/bob"
export LORE_HOME="$work/bob-home"
printf '\n%s$ lore sync setup%s\n' "$bold" "$plain"
printf '%s\n' "$passphrase" | "$lore" sync setup --passphrase-stdin
step "$lore" sync                                       # pulls Alice's sessions into his lore
step "$lore" sessions
step "$lore" sync status
step "$lore" blame src/status.rs:2                      # why is this line like this? Alice's reasoning
printf '\nThat was a throw-away LORE_HOME, repositories and remote (%s), removed now. Your own: lore import\n' "$work"
