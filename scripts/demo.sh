#!/usr/bin/env bash
# lore's main job, end to end, on a self-contained default: the sample transcripts in
# fixtures/ imported into a throw-away LORE_HOME (your own ~/.lore is never touched), then
# listed, searched and shown, with the history of commits that recorded it; then shared with a
# second user through a local bare repository as the remote, encrypted on the way.
# Run from the repository after `cargo install --path .`.
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

# Sharing: Alice's repository pushes its sessions to a bare remote through git-remote-lore.
command -v git-remote-lore >/dev/null || { echo "demo: git-remote-lore is not on PATH; run 'cargo install --locked --path .'" >&2; exit 1; }
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Alice" && git config --global user.email alice@example.com
git config --global init.defaultBranch main
git init -q --bare "$work/remote.git"
git init -q "$work/alice" && cd "$work/alice"
echo "the code" > README && git add README && git commit -qm "first commit"
git remote add origin "$work/remote.git" && git push -q origin main
passphrase="a demo passphrase"   # real use: lore sync setup asks, without echo
printf '\n%s$ lore sync setup%s\n' "$bold" "$plain"
printf '%s\n' "$passphrase" | "$lore" sync setup --passphrase-stdin
step "$lore" sync export --all                          # sessions into refs/lore/sessions
step git log --oneline refs/lore/sessions               # plain git reads the local store
step git push lore::origin refs/lore/sessions           # encrypted on the way out
step git -C "$work/remote.git" ls-tree -r --name-only refs/lore/sessions   # the host sees this
# Bob clones with the passphrase (in CI it would be a secret) and reads every session.
printf '\n%s$ git clone lore::%s bob%s\n' "$bold" "$work/remote.git" "$plain"
LORE_HOME="$work/bob-home" LORE_PASSPHRASE="$passphrase" git clone -q "lore::$work/remote.git" "$work/bob"
cd "$work/bob"
step git log --oneline refs/lore/sessions               # the same commits, the same ids
step git show "refs/lore/sessions:$(git ls-tree -r --name-only refs/lore/sessions -- sessions | head -1)" --format= -- | head -c 300
printf '\n\nThat was a throw-away LORE_HOME, repositories and remote (%s), removed now. Your own: lore import\n' "$work"
