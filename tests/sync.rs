//! `lore sync`: several users, each with their own LORE_HOME and clone of one bare remote,
//! sharing sessions; merges, deletions and lost races.

mod common;

use std::path::{Path, PathBuf};

use common::{User, World, write_transcript};

const PASS: &str = "a passphrase for the team";

struct Member {
    user: User,
    repo: PathBuf,
}

fn canonical(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// The first member creates the repository and the store.
fn founder(world: &World, remote: &Path) -> Member {
    let user = world.user("alice");
    let repo = user.first_repo(remote);
    let r = user.setup(&repo, PASS);
    r.assert_ok();
    assert!(
        r.stdout
            .contains("Store created. Run 'lore sync' to push your sessions."),
        "{}",
        r.stdout
    );
    Member { user, repo }
}

/// Another member joins: a plain clone, then `lore sync setup`.
fn joiner(world: &World, remote: &Path, name: &str) -> Member {
    joiner_with(world, remote, name, PASS)
}

/// [`joiner`] with a passphrase of its own.
fn joiner_with(world: &World, remote: &Path, name: &str, pass: &str) -> Member {
    let user = world.user(name);
    let repo = user.clone(remote.to_str().unwrap(), "repo");
    let r = user.setup(&repo, pass);
    r.assert_ok();
    assert!(
        r.stdout
            .contains("An existing Lore store was found on the remote."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Passphrase verified. Run 'lore sync' to fetch reasoning history."),
        "{}",
        r.stdout
    );
    Member { user, repo }
}

impl Member {
    /// Imports a session of this repository (its working directory inside the clone).
    fn work(&self, id: &str, word: &str, turns: u32) {
        let dir = self.user.root.join("transcripts").join(id);
        let _ = std::fs::remove_dir_all(&dir);
        let path = write_transcript(&dir, id, word, &canonical(&self.repo));
        let text = common::claude_transcript(id, turns, word)
            .replace("/home/dev/acme", &canonical(&self.repo));
        std::fs::write(&path, text).unwrap();
        self.user
            .lore(&self.repo, &["import", dir.to_str().unwrap()])
            .assert_ok();
    }

    fn sync(&self) -> String {
        let r = self.user.lore(&self.repo, &["sync"]);
        r.assert_ok();
        r.stdout
    }

    fn ids(&self) -> Vec<String> {
        let r = self
            .user
            .lore(&self.repo, &["sessions", "--json", "-n", "0"]);
        r.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let v = v["sessions"].as_array().unwrap();
        let mut ids: Vec<String> = v
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    fn show(&self, id: &str) -> Option<serde_json::Value> {
        let r = self.user.lore(&self.repo, &["show", id, "--json"]);
        r.ok.then(|| serde_json::from_str(&r.stdout).unwrap())
    }

    fn store_tree(&self) -> String {
        self.user
            .git(&self.repo, &["ls-tree", "-r", "refs/lore/sessions"])
            .stdout
    }
}

/// Alice with session S1, synced, and Bob joined and synced.
fn pair(world: &World, remote: &Path) -> (Member, Member) {
    let alice = founder(world, remote);
    alice.work(S1, "parser", 1);
    alice.sync();
    let bob = joiner(world, remote, "bob");
    bob.sync();
    (alice, bob)
}

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";
const S3: &str = "33333333-3333-4333-8333-333333333333";
const ELSEWHERE: &str = "99999999-9999-4999-8999-999999999999";

#[test]
fn two_members_share_sessions_and_only_this_repositorys() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 2);
    alice.work(S2, "cache", 1);
    // A session from another project never enters this repository's store.
    let other = alice.user.root.join("other-transcripts");
    write_transcript(&other, ELSEWHERE, "unrelated", "/home/alice/other-project");
    alice
        .user
        .lore(&alice.repo, &["import", other.to_str().unwrap()])
        .assert_ok();

    let out = alice.sync();
    assert!(out.contains("pushed 2 sessions"), "{out}");
    let remote_files = alice
        .user
        .git(
            &remote,
            &["ls-tree", "-r", "--name-only", "refs/lore/sessions"],
        )
        .stdout;
    assert!(
        remote_files.contains(&format!("{S1}.enc")),
        "{remote_files}"
    );
    assert!(!remote_files.contains(ELSEWHERE), "{remote_files}");

    let bob = joiner(&world, &remote, "bob");
    let out = bob.sync();
    assert!(
        out.contains("Pulled 2 sessions from origin (2 new"),
        "{out}"
    );
    assert_eq!(bob.ids(), vec![S1.to_owned(), S2.to_owned()]);
    assert_eq!(
        bob.show(S1).unwrap()["messages"],
        alice.show(S1).unwrap()["messages"]
    );

    // Bob's new session reaches Alice.
    bob.work(S3, "flaky test", 1);
    let out = bob.sync();
    assert!(out.contains("pushed 1 session"), "{out}");
    let out = alice.sync();
    assert!(out.contains("Pulled 1 session from origin (1 new"), "{out}");
    assert!(alice.ids().contains(&S3.to_owned()));
    // Nothing left to do: both stores hold the same tree.
    let out = bob.sync();
    assert!(
        out.contains("Pulled 0 sessions") && out.contains("pushed 0 sessions"),
        "{out}"
    );
    assert_eq!(alice.store_tree(), bob.store_tree());

    // The merge into lore.db is one commit, and it can be reverted.
    let history = bob.user.lore(&bob.repo, &["history", "--json"]);
    history.assert_ok();
    let commits: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let commits = commits["commits"].as_array().unwrap();
    let sync_commit = commits
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("sync: 2 sessions from origin")
        })
        .unwrap_or_else(|| panic!("{}", history.stdout));
    let id = sync_commit["id"].as_str().unwrap();
    bob.user.lore(&bob.repo, &["revert", id]).assert_ok();
    assert!(!bob.ids().contains(&S1.to_owned()));
}

#[test]
fn concurrent_edits_converge_and_deletions_travel() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 1);
    alice.work(S2, "cache", 1);
    alice.sync();
    let bob = joiner(&world, &remote, "bob");
    bob.sync();

    // Both continue S1 without syncing; Alice's copy is newer (more turns, later messages).
    bob.work(S1, "parser", 2);
    alice.work(S1, "parser", 3);
    bob.sync();
    alice.sync(); // diverged: merges Bob's, keeps her newer S1, pushes
    bob.sync();
    assert_eq!(
        alice.show(S1).unwrap()["messages"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        bob.show(S1).unwrap()["messages"],
        alice.show(S1).unwrap()["messages"]
    );
    assert_eq!(alice.store_tree(), bob.store_tree());

    // A deletion --everywhere travels as a tombstone, and import does not bring the session
    // back.
    let r = alice
        .user
        .lore(&alice.repo, &["delete", "--everywhere", S2]);
    r.assert_ok();
    assert!(
        r.stderr.contains("will be deleted from the shared store"),
        "{}",
        r.stderr
    );
    let out = alice.sync();
    assert!(out.contains("pushed 1 session"), "{out}");
    let out = bob.sync();
    assert!(out.contains("1 deleted"), "{out}");
    assert!(bob.show(S2).is_none());
    bob.work(S2, "cache", 1);
    assert!(
        bob.show(S2).is_none(),
        "a deleted session came back on import"
    );
    let tomb = bob
        .user
        .git(
            &bob.repo,
            &["show", &format!("refs/lore/sessions:{}", record_path(S2))],
        )
        .stdout;
    assert!(tomb.contains("\"kind\":\"tombstone\""), "{tomb}");
}

#[test]
fn racing_syncs_retry_and_lose_nothing() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.sync();
    let bob = joiner(&world, &remote, "bob");
    bob.sync();
    let carol = joiner(&world, &remote, "carol");
    carol.sync();
    let members = [&alice, &bob, &carol];
    // Three rounds: each member writes a session, then all sync at once.
    let mut expected = Vec::new();
    for round in 0..3 {
        for (i, m) in members.iter().enumerate() {
            let id = format!("{round:08}-{i:04}-4000-8000-000000000000");
            m.work(&id, &format!("round {round}"), 1);
            expected.push(id);
        }
        std::thread::scope(|s| {
            for m in members {
                s.spawn(move || m.sync());
            }
        });
    }
    // A last pass so everyone has everything.
    for m in members {
        m.sync();
    }
    for m in members {
        m.sync();
    }
    expected.sort();
    for m in members {
        assert_eq!(m.ids(), expected, "{}", m.user.name);
    }
    assert_eq!(alice.store_tree(), bob.store_tree());
    assert_eq!(bob.store_tree(), carol.store_tree());
}

fn record_path(id: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(id.as_bytes());
    format!("sessions/{:02x}/{:02x}/{id}.json", d[0], d[1])
}

#[test]
fn status_says_where_the_sync_stands() {
    let world = World::new();
    let remote = world.bare("remote.git");
    // Before any store.
    let early = world.user("early");
    let repo = early.clone(remote.to_str().unwrap(), "repo");
    let r = early.lore(&repo, &["sync", "status"]);
    r.assert_ok();
    assert!(
        r.stdout.starts_with("Sync status (this repository)\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Store: not set up (run 'lore sync setup')"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Key: missing"), "{}", r.stdout);
    assert!(r.stdout.contains("Last sync: never"), "{}", r.stdout);

    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 1);
    alice.work(S2, "cache", 1);
    let r = alice.user.lore(&alice.repo, &["sync", "status"]);
    assert!(r.stdout.contains("Store: set up"), "{}", r.stdout);
    assert!(r.stdout.contains("Key: stored (key file)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Pending: 2 sessions not yet synced"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Ref: refs/lore/sessions (not yet pushed to origin)"),
        "{}",
        r.stdout
    );
    alice.sync();
    let r = alice.user.lore(&alice.repo, &["sync", "status"]);
    assert!(
        r.stdout.contains("Pending: 0 sessions not yet synced"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Ref: refs/lore/sessions (in sync with origin)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Last sync: never"), "{}", r.stdout);

    // Alice moves on locally: one session pending, then one commit ahead once exported.
    alice.work(S3, "flaky", 1);
    alice
        .user
        .lore(&alice.repo, &["sync", "export"])
        .assert_ok();
    let r = alice.user.lore(&alice.repo, &["sync", "status", "--json"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["store"], true);
    assert_eq!(v["key"], "stored");
    assert_eq!(v["pending"], 0);
    assert_eq!(v["ref"], "ahead of origin by 1 commit");
}

#[test]
fn a_passphrase_change_reaches_the_other_members() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);

    // A new passphrase: Bob, already set up, keeps syncing; a newcomer needs the new one.
    let new_pass = "the new team passphrase";
    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "passphrase", "--passphrase-stdin"],
        &format!("{new_pass}\n"),
    );
    r.assert_ok();
    assert!(r.stdout.contains("Passphrase changed."), "{}", r.stdout);
    alice.sync();
    bob.work(S2, "cache", 1);
    bob.sync();
    let carol = world.user("carol");
    let carol_repo = carol.clone(remote.to_str().unwrap(), "repo");
    let r = carol.setup(&carol_repo, PASS);
    r.assert_fails();
    assert!(r.stderr.contains("wrong passphrase"), "{}", r.stderr);
    carol.setup(&carol_repo, new_pass).assert_ok();
    carol.lore(&carol_repo, &["sync"]).assert_ok();

    // And the old passphrase no longer opens the store for anyone new.
    let dave = world.user("dave");
    let dave_repo = dave.clone(remote.to_str().unwrap(), "repo");
    dave.setup(&dave_repo, PASS).assert_fails();
    carol.lore(&carol_repo, &["sync"]).assert_ok();
    bob.sync();
    assert_eq!(bob.ids(), vec![S1.to_owned(), S2.to_owned()]);
}

#[test]
fn secrets_are_redacted_on_the_way_out_and_kept_at_home() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    // A GitHub token shape, assembled so that no token sits in the source.
    let token = format!("{}{}", "ghp_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    alice.work(S1, &format!("deploy with {token} please"), 1);
    let original = alice.show(S1).unwrap()["messages"].to_string();
    assert!(original.contains(&token));
    alice.sync();
    let bob = joiner(&world, &remote, "bob");
    bob.sync();
    let theirs = bob.show(S1).unwrap()["messages"].to_string();
    assert!(!theirs.contains(&token), "{theirs}");
    assert!(theirs.contains("[REDACTED:github-token]"), "{theirs}");
    let stored = alice
        .user
        .git(
            &alice.repo,
            &["show", &format!("refs/lore/sessions:{}", record_path(S1))],
        )
        .stdout;
    assert!(!stored.contains(&token));
    // Alice keeps her original, also after the redacted copy comes back.
    bob.sync();
    alice.sync();
    assert_eq!(alice.show(S1).unwrap()["messages"].to_string(), original);
    let r = alice.user.lore(&alice.repo, &["sync", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["pending"], 0, "{}", r.stdout);
}

#[test]
fn sessions_of_linked_worktrees_and_symlinked_paths_belong_to_the_repository() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    let wt = alice.user.root.join("wt");
    alice
        .user
        .git(
            &alice.repo,
            &["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "side"],
        )
        .assert_ok();
    let link = alice.user.root.join("link-to-repo");
    std::os::unix::fs::symlink(&alice.repo, &link).unwrap();
    let dir = alice.user.root.join("t");
    write_transcript(&dir, S1, "in the worktree", wt.to_str().unwrap());
    write_transcript(&dir, S2, "through a symlink", link.to_str().unwrap());
    write_transcript(&dir, ELSEWHERE, "elsewhere", "/home/alice/other-project");
    alice
        .user
        .lore(&alice.repo, &["import", dir.to_str().unwrap()])
        .assert_ok();
    let out = alice.sync();
    assert!(out.contains("pushed 2 sessions"), "{out}");
    let tree = alice.store_tree();
    assert!(tree.contains(S1) && tree.contains(S2), "{tree}");
    assert!(!tree.contains(ELSEWHERE), "{tree}");
}

#[test]
fn doctor_checks_and_rebuilds_the_helper_cache() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 1);
    alice.sync();
    let r = alice.user.lore(&alice.repo, &["doctor"]);
    r.assert_ok();
    for line in [
        "ok    git",
        "ok    helper",
        "ok    lore.db",
        "ok    key",
        "note  hooks",
        "ok    cache",
    ] {
        assert!(r.stdout.contains(line), "{line} in\n{}", r.stdout);
    }
    // A damaged cache is deleted, and the next sync rebuilds it from the remote.
    let cache = alice.repo.join(".git/lore/cache.db");
    std::fs::write(&cache, b"not a database at all, not even close to one").unwrap();
    let r = alice.user.lore(&alice.repo, &["doctor", "--json"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert!(
        r.stdout.contains("was damaged and is deleted"),
        "{}",
        r.stdout
    );
    assert!(!cache.exists());
    alice.work(S2, "cache", 1);
    alice.sync();
    assert!(cache.exists());
    // Without the key, doctor fails and says what to run.
    let keys = alice.user.lore_home.join("keys");
    std::fs::remove_dir_all(&keys).unwrap();
    let r = alice.user.lore(&alice.repo, &["doctor"]);
    r.assert_fails();
    assert!(
        r.stdout.contains("FAIL  key") && r.stdout.contains("lore sync setup"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_sync_killed_at_any_point_loses_nothing_and_the_next_one_converges() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut expected = vec![S1.to_owned()];
    for round in 0..8u64 {
        let id = format!("{round:08}-0000-4000-8000-00000000b0b0");
        bob.work(&id, &format!("round {round}"), 1);
        expected.push(id);
        let id = format!("{round:08}-0000-4000-8000-0000000a11ce");
        alice.work(&id, &format!("round {round}"), 1);
        expected.push(id);
        // SIGKILL Bob's sync somewhere between its start and its end.
        let mut child = bob.user.spawn_lore(&bob.repo, &["sync"]);
        std::thread::sleep(std::time::Duration::from_millis(20 + round * 45));
        let _ = child.kill();
        let _ = child.wait();
        alice.sync();
    }
    for m in [&bob, &alice, &bob] {
        m.sync();
    }
    expected.sort();
    assert_eq!(alice.ids(), expected);
    assert_eq!(bob.ids(), expected);
    assert_eq!(alice.store_tree(), bob.store_tree());
    for m in [&alice, &bob] {
        m.user.lore(&m.repo, &["verify", "--full"]).assert_ok();
    }
}

/// The steps a traced `lore sync` took (`LORE_TRACE=1`), by name.
fn traced_sync(m: &Member) -> (String, Vec<String>) {
    let r = m.user.lore_with(&m.repo, &[("LORE_TRACE", "1")], &["sync"]);
    r.assert_ok();
    let steps = r
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("lore sync: "))
        .filter_map(|l| l.split(':').next())
        .map(str::to_owned)
        .collect();
    (r.stdout, steps)
}

#[test]
fn a_sync_with_nothing_to_do_stops_early_and_every_change_is_still_seen() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    alice.sync();

    // Nothing moved anywhere: one look at the remote, no fetch, no push.
    let (out, steps) = traced_sync(&alice);
    assert!(
        out.contains("Pulled 0 sessions") && out.contains("pushed 0 sessions"),
        "{out}"
    );
    assert_eq!(steps, vec!["git ls-remote".to_owned()], "{steps:?}");

    // A new session here: pending (found through lore.db's history since the last sync), then
    // no fetch (the remote has not moved), one push.
    alice.work(S2, "cache", 1);
    let r = alice.user.lore(&alice.repo, &["sync", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["pending"], 1, "{}", r.stdout);
    let (out, steps) = traced_sync(&alice);
    assert!(out.contains("pushed 1 session."), "{out}");
    assert!(!steps.contains(&"git fetch".to_owned()), "{steps:?}");
    assert!(steps.contains(&"push".to_owned()), "{steps:?}");

    // The remote moved: fetched and merged.
    bob.sync();
    bob.work(S3, "lock", 1);
    bob.sync();
    let (out, steps) = traced_sync(&alice);
    assert!(out.contains("Pulled 1 session from origin (1 new"), "{out}");
    assert!(steps.contains(&"git fetch".to_owned()), "{steps:?}");

    // A deletion --everywhere here travels, though nothing else changed; Bob wrote S3, so he
    // keeps his copy and is told.
    alice
        .user
        .lore(&alice.repo, &["delete", "--everywhere", S3])
        .assert_ok();
    let out = alice.sync();
    assert!(out.contains("pushed 1 session."), "{out}");
    let r = bob.user.lore(&bob.repo, &["sync"]);
    r.assert_ok();
    assert!(r.stderr.contains("your copy stays here"), "{}", r.stderr);
    assert!(bob.show(S3).is_some());

    // A linked worktree added after its session was imported: the scope changed, so the
    // next sync looks at every session and finds it.
    let wt = alice.user.root.join("later-wt");
    let dir = alice.user.root.join("t-later");
    write_transcript(&dir, ELSEWHERE, "before the worktree", wt.to_str().unwrap());
    alice
        .user
        .lore(&alice.repo, &["import", dir.to_str().unwrap()])
        .assert_ok();
    let out = alice.sync();
    assert!(out.contains("pushed 0 sessions"), "{out}");
    alice
        .user
        .git(
            &alice.repo,
            &["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "later"],
        )
        .assert_ok();
    let out = alice.sync();
    assert!(out.contains("pushed 1 session."), "{out}");
    assert!(alice.store_tree().contains(ELSEWHERE));

    // The record of the last sync is only a hint: garbage in it, or none, and sync looks at
    // everything again.
    let state = alice.repo.join(".git/lore/sync-state/origin");
    assert!(state.is_file());
    std::fs::write(&state, "not json").unwrap();
    alice.work(S1, "parser grew", 2);
    let out = alice.sync();
    assert!(out.contains("pushed 1 session."), "{out}");
    std::fs::remove_file(&state).unwrap();
    let out = alice.sync();
    assert!(
        out.contains("Pulled 0 sessions") && out.contains("pushed 0 sessions"),
        "{out}"
    );
    bob.sync();
    assert_eq!(
        bob.show(S1).unwrap()["messages"].as_array().unwrap().len(),
        4
    );
    assert_eq!(
        alice.store_tree(),
        bob.store_tree(),
        "both stores hold the same records"
    );
}

/// The id of the session worker `w` makes in round `r`.
fn worker_session(w: usize, r: usize) -> String {
    format!("{w:08x}-aaaa-4aaa-8aaa-{r:012x}")
}

#[test]
fn eight_processes_twenty_rounds_each_three_users_lose_nothing() {
    const WORKERS: usize = 8;
    const ROUNDS: usize = 20;
    let world = World::new();
    let remote = world.bare("remote.git");
    // Three users, each with sessions of their own, syncing in turns first.
    let (alice, bob) = pair(&world, &remote);
    let carol = joiner(&world, &remote, "carol");
    bob.work(S2, "cache", 1);
    carol.work(S3, "lock", 1);
    for m in [&alice, &bob, &carol, &alice, &bob] {
        m.sync();
    }
    let members = [&alice, &bob, &carol];
    for m in members {
        assert_eq!(m.ids(), vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]);
    }

    // Then eight processes at once, each in a worktree of its user's clone: every round
    // imports a new session and syncs. The three users' processes race each other on the
    // remote, and a user's own processes share one lore.db and one repository.
    let worktrees: Vec<PathBuf> = (0..WORKERS)
        .map(|w| {
            let m = members[w % 3];
            let wt = m.user.root.join(format!("wt-{w}"));
            m.user
                .git(
                    &m.repo,
                    &[
                        "worktree",
                        "add",
                        "-q",
                        wt.to_str().unwrap(),
                        "-b",
                        &format!("w{w}"),
                    ],
                )
                .assert_ok();
            wt
        })
        .collect();
    let failures = std::sync::Mutex::new(Vec::new());
    let gave_up = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for (w, wt) in worktrees.iter().enumerate() {
            let m = members[w % 3];
            let (failures, gave_up) = (&failures, &gave_up);
            scope.spawn(move || {
                let cwd = canonical(wt);
                for r in 0..ROUNDS {
                    let id = worker_session(w, r);
                    let dir = m.user.root.join(format!("t-{w}-{r}"));
                    write_transcript(&dir, &id, &format!("worker {w} round {r}"), &cwd);
                    m.user
                        .lore(wt, &["import", dir.to_str().unwrap()])
                        .assert_ok();
                    let s = m.user.lore(wt, &["sync", "--quiet"]);
                    // Losing every try of a round to the others is allowed (it says so, and
                    // the next round carries the session); anything else is a failure, and
                    // so is any word on stderr from a sync that succeeded (lost races
                    // included: they are retried, not reported).
                    if s.ok && !s.stderr.is_empty() {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("worker {w} round {r} said: {}", s.stderr));
                    }
                    if !s.ok && s.stderr.contains("the remote kept moving") {
                        gave_up.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    } else if !s.ok {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("worker {w} round {r}: {}", s.stderr));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!(
        "{} of {} syncs lost every try to the others (allowed; later rounds carried them)",
        gave_up.into_inner(),
        WORKERS * ROUNDS
    );

    // Everyone syncs in turns until quiet: every session everywhere, identical stores.
    for m in [&alice, &bob, &carol, &alice, &bob] {
        m.sync();
    }
    let mut expected = vec![S1.to_owned(), S2.to_owned(), S3.to_owned()];
    for w in 0..WORKERS {
        for r in 0..ROUNDS {
            expected.push(worker_session(w, r));
        }
    }
    expected.sort();
    for m in members {
        assert_eq!(m.ids(), expected, "{}", m.user.root.display());
        let r = m.user.lore(&m.repo, &["verify", "--full"]);
        r.assert_ok();
    }
    let tree = alice.store_tree();
    assert_eq!(tree.lines().count(), expected.len() + 1, "{tree}");
    assert_eq!(tree, bob.store_tree());
    assert_eq!(tree, carol.store_tree());
}

#[test]
fn the_global_store_backs_up_every_session_from_anywhere() {
    let world = World::new();
    let global = world.bare("global.git");
    let laptop = world.user("laptop");
    // Sessions of two projects and of no repository at all.
    let dir = laptop.root.join("t");
    write_transcript(&dir, S1, "canary-global-one", "/home/dev/project-a");
    write_transcript(&dir, S2, "canary-global-two", "/home/dev/project-b");
    write_transcript(&dir, S3, "canary-global-three", "/tmp");
    let anywhere = laptop.root.clone();
    laptop
        .lore(&anywhere, &["import", dir.to_str().unwrap()])
        .assert_ok();

    // Before setup, and without a remote: one line each, nothing created.
    let r = laptop.lore(&anywhere, &["sync", "--global"]);
    r.assert_fails();
    assert!(
        r.stderr
            .contains("the global store is not set up: run 'lore sync --global setup'"),
        "{}",
        r.stderr
    );
    let r = laptop.lore_input(
        &anywhere,
        &["sync", "--global", "setup", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    r.assert_fails();
    assert!(
        r.stderr
            .contains("'lore config set sync_global_remote URL'"),
        "{}",
        r.stderr
    );
    assert!(!laptop.lore_home.join("sync").exists());
    let r = laptop.lore(&anywhere, &["sync", "--global", "--remote", "origin"]);
    r.assert_fails();
    assert!(
        r.stderr.contains("--remote does not go with --global"),
        "{}",
        r.stderr
    );

    // Set up from outside any repository; the first sync pushes all three.
    laptop
        .lore(
            &anywhere,
            &[
                "config",
                "set",
                "sync_global_remote",
                global.to_str().unwrap(),
            ],
        )
        .assert_ok();
    let r = laptop.lore_input(
        &anywhere,
        &["sync", "--global", "setup", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    r.assert_ok();
    assert!(
        r.stdout
            .contains("Store created. Run 'lore sync --global' to push your sessions."),
        "{}",
        r.stdout
    );
    let r = laptop.lore(&anywhere, &["sync", "--global"]);
    r.assert_ok();
    assert!(r.stdout.contains("pushed 3 sessions"), "{}", r.stdout);
    let r = laptop.lore(&anywhere, &["sync", "--global", "status"]);
    r.assert_ok();
    assert!(
        r.stdout.contains("Sync status (the global store)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("in sync with origin"), "{}", r.stdout);
    assert!(r.stdout.contains("Pending: 0 sessions"), "{}", r.stdout);
    common::assert_no_plaintext(
        &global,
        &[
            "canary-global-one",
            "canary-global-two",
            "project-a",
            "/tmp",
        ],
    );

    // A second machine restores everything.
    let desktop = world.user("desktop");
    let anywhere2 = desktop.root.clone();
    desktop
        .lore(
            &anywhere2,
            &[
                "config",
                "set",
                "sync_global_remote",
                global.to_str().unwrap(),
            ],
        )
        .assert_ok();
    let r = desktop.lore_input(
        &anywhere2,
        &["sync", "--global", "setup", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    r.assert_ok();
    assert!(
        r.stdout
            .contains("Passphrase verified. Run 'lore sync --global' to fetch reasoning history."),
        "{}",
        r.stdout
    );
    let r = desktop.lore(&anywhere2, &["sync", "--global"]);
    r.assert_ok();
    assert!(r.stdout.contains("Pulled 3 sessions"), "{}", r.stdout);
    let r = desktop.lore(&anywhere2, &["show", S2, "--json"]);
    r.assert_ok();
    assert!(r.stdout.contains("canary-global-two"), "{}", r.stdout);

    // A new session on the desktop reaches the laptop.
    let dir2 = desktop.root.join("t");
    write_transcript(&dir2, ELSEWHERE, "from the desktop", "/home/dev/project-c");
    desktop
        .lore(&anywhere2, &["import", dir2.to_str().unwrap()])
        .assert_ok();
    desktop.lore(&anywhere2, &["sync", "--global"]).assert_ok();
    let r = laptop.lore(&anywhere, &["sync", "--global"]);
    assert!(
        r.stdout.contains("Pulled 1 session from origin (1 new"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_rotation_shuts_out_a_former_member_and_keeps_history_for_the_rest() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let carol = joiner(&world, &remote, "carol");
    carol.work(S2, "before the rotation", 1);
    carol.sync();
    for m in [&alice, &bob] {
        m.sync();
    }

    // Carol leaves: Alice rotates under a new passphrase.
    let new_pass = "the passphrase after carol left";
    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "rotate", "--passphrase-stdin"],
        &format!("{new_pass}\n"),
    );
    r.assert_ok();
    assert!(r.stdout.contains("Data key rotated."), "{}", r.stdout);
    assert!(
        r.stdout.contains("stay readable to them"),
        "the limit is said plainly: {}",
        r.stdout
    );
    alice.work(S3, "after the rotation", 1);
    let out = alice.sync();
    assert!(out.contains("pushed 1 session"), "{out}");

    // The remote's newest tree is sealed under the new key only: every .enc names it.
    let header: serde_json::Value = serde_json::from_str(
        &alice
            .user
            .git(&alice.repo, &["show", "refs/lore/sessions:lore-store.json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(header["format"], 3, "{header}");
    assert_eq!(header["epoch"], 2, "{header}");
    assert_eq!(header["previous_keys"].as_array().unwrap().len(), 1);
    let new_key_id = header["key_id"].as_str().unwrap().to_owned();
    let listing = alice
        .user
        .git(&remote, &["ls-tree", "-r", "refs/lore/sessions"])
        .stdout;
    let mut sealed = 0;
    for line in listing.lines().filter(|l| l.ends_with(".enc")) {
        let oid = line.split_whitespace().nth(2).unwrap();
        let blob = std::process::Command::new("git")
            .args(["cat-file", "blob", oid])
            .current_dir(&remote)
            .output()
            .unwrap()
            .stdout;
        let key_id: String = blob[5..21].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key_id, new_key_id, "{line}");
        sealed += 1;
    }
    assert_eq!(sealed, 3, "{listing}");

    // Bob's stored key is the old one: sync says what to do and changes nothing.
    let before = bob.store_tree();
    let r = bob.user.lore(&bob.repo, &["sync"]);
    r.assert_fails();
    assert!(r.stderr.contains("lore sync setup"), "{}", r.stderr);
    assert_eq!(bob.store_tree(), before);
    assert!(bob.show(S3).is_none());
    // With the new passphrase he is back, history included.
    let r = bob.user.setup(&bob.repo, new_pass);
    r.assert_ok();
    bob.sync();
    assert_eq!(bob.ids(), vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]);

    // Carol's old passphrase opens nothing any more, and the new session never reaches her.
    let r = carol.user.setup(&carol.repo, PASS);
    r.assert_fails();
    assert!(r.stderr.contains("wrong passphrase"), "{}", r.stderr);
    carol.user.lore(&carol.repo, &["sync"]).assert_fails();
    assert!(carol.show(S3).is_none());

    // A newcomer with the new passphrase reads everything, from before the rotation too.
    let dave = joiner_with(&world, &remote, "dave", new_pass);
    dave.sync();
    assert_eq!(
        dave.ids(),
        vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]
    );
    assert_eq!(
        dave.show(S2).unwrap()["messages"],
        bob.show(S2).unwrap()["messages"]
    );
    // And a second rotation carries both earlier keys.
    let r = dave.user.lore_input(
        &dave.repo,
        &["sync", "rotate", "--passphrase-stdin"],
        "a third passphrase here\n",
    );
    r.assert_ok();
    dave.sync();
    let erin = joiner_with(&world, &remote, "erin", "a third passphrase here");
    erin.sync();
    assert_eq!(
        erin.ids(),
        vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]
    );
}

#[test]
fn a_deletion_is_local_unless_everywhere_and_the_author_keeps_theirs() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    alice.work(S2, "second", 1);
    alice.sync();
    bob.sync();
    let carol = joiner(&world, &remote, "carol");
    carol.sync();
    assert_eq!(carol.ids(), vec![S1.to_owned(), S2.to_owned()]);

    // Bob hides Alice's S1 on his machine only: the shared store keeps it, and his syncs never
    // bring it back to him.
    let r = bob.user.lore(&bob.repo, &["delete", S1]);
    r.assert_ok();
    assert!(
        r.stdout.contains("hidden on this machine only"),
        "{}",
        r.stdout
    );
    let before = bob.store_tree();
    bob.sync();
    assert_eq!(
        bob.store_tree(),
        before,
        "a local deletion reached the store"
    );
    assert!(bob.show(S1).is_none());
    alice.work(S1, "parser", 2); // Alice changes it: Bob still does not get it back.
    alice.sync();
    bob.sync();
    assert!(bob.show(S1).is_none());
    carol.sync();
    assert_eq!(
        carol.show(S1).unwrap()["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Bob deletes S2 everywhere: Carol loses it, Alice (its author) keeps hers, is told, and
    // her later syncs do not share it again.
    bob.user
        .lore(&bob.repo, &["delete", "--everywhere", S2])
        .assert_ok();
    bob.sync();
    carol.sync();
    assert!(carol.show(S2).is_none());
    let r = alice.user.lore(&alice.repo, &["sync"]);
    r.assert_ok();
    assert!(r.stderr.contains("your copy stays here"), "{}", r.stderr);
    assert!(alice.show(S2).is_some());
    let tomb = alice
        .user
        .git(
            &alice.repo,
            &["show", &format!("refs/lore/sessions:{}", record_path(S2))],
        )
        .stdout;
    assert!(tomb.contains("\"kind\":\"tombstone\""), "{tomb}");
    alice.sync();
    assert_eq!(alice.store_tree(), carol.store_tree());
}

#[test]
fn a_reverted_sync_converges_with_the_team_at_the_next_sync() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    // Alice adds S2 and changes S1; Bob's sync brings both, then he reverts that sync in
    // lore.db.
    alice.work(S2, "second", 1);
    alice.work(S1, "parser", 2);
    alice.sync();
    bob.sync();
    let history = bob.user.lore(&bob.repo, &["history", "--json"]);
    history.assert_ok();
    let commits: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let sync_commit = commits["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["message"].as_str().unwrap_or("").starts_with("sync:"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bob.user
        .lore(&bob.repo, &["revert", &sync_commit])
        .assert_ok();
    assert!(bob.show(S2).is_none());
    // His next sync neither deletes S2 for the team nor pushes the older S1: lore.db comes
    // back to what the store holds, and the store is unchanged.
    let before = alice.store_tree();
    bob.sync();
    alice.sync();
    assert_eq!(alice.store_tree(), before, "the revert reached the team");
    assert_eq!(bob.ids(), alice.ids());
    assert_eq!(
        bob.show(S1).unwrap()["messages"],
        alice.show(S1).unwrap()["messages"]
    );
    assert_eq!(bob.store_tree(), alice.store_tree());
}

/// LORE_PASSPHRASE is lore's: no git lore starts gets it (git hands its environment to ssh,
/// credential helpers and ProxyCommand), except the one `git fetch lore::…` whose child is
/// lore's own helper. A wrapper around git records the environment of every git run.
#[test]
fn lore_passphrase_never_reaches_a_git_but_the_one_running_lores_helper() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 1);
    let log = world.path("git-env.log");
    let wrapper = world.path("git-wrapper.sh");
    let real_git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf 'ARGS %s | PASS %s\\n' \"$*\" \"${{LORE_PASSPHRASE:-<unset>}}\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_git.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let vars = [
        ("LORE_GIT", wrapper.to_str().unwrap()),
        ("LORE_PASSPHRASE", PASS),
    ];
    for args in [
        &["sync"][..],
        &["sync", "status"][..],
        &["doctor"][..],
        &["link", "--auto", "--dry-run"][..],
    ] {
        alice.user.lore_with(&alice.repo, &vars, args);
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let runs: Vec<&str> = text.lines().collect();
    assert!(runs.len() > 5, "{text}");
    let mut through_helper = 0;
    for run in &runs {
        if run.contains("lore::") {
            through_helper += 1;
            continue;
        }
        assert!(
            run.ends_with("PASS <unset>"),
            "a git got LORE_PASSPHRASE: {run}"
        );
    }
    assert!(through_helper >= 1, "{text}");
    // The sync worked: the helper got the passphrase it needed from that one git.
    assert!(alice.store_tree().contains(".json"));
}

/// A new passphrase never comes from LORE_PASSPHRASE (setup creating a store, `passphrase`,
/// `rotate` refuse, naming it, and change nothing); `--passphrase-stdin` wins over it.
#[test]
fn a_new_passphrase_never_comes_from_lore_passphrase_and_stdin_wins_over_it() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let user = world.user("alice");
    let repo = user.first_repo(&remote);
    let mut alice = Member { user, repo };
    const LEFT_OVER: &str = "the passphrase of another store";
    alice
        .user
        .env
        .push(("LORE_PASSPHRASE".into(), LEFT_OVER.into()));
    let refused = |r: &common::Run| {
        r.assert_fails();
        assert!(
            r.stderr.contains("LORE_PASSPHRASE is set")
                && r.stderr.contains("--passphrase-stdin")
                && r.stderr.trim().lines().count() == 1,
            "{}",
            r.stderr
        );
    };
    // Creating a store: refused, and nothing is created.
    let r = alice.user.lore(&alice.repo, &["sync", "setup"]);
    refused(&r);
    assert_eq!(alice.user.rev(&alice.repo, "refs/lore/sessions"), None);
    // With --passphrase-stdin, standard input is the passphrase, not the variable.
    alice.user.setup(&alice.repo, PASS).assert_ok();
    alice.work(S1, "parser", 1);
    alice.sync();
    let carol = world.user("carol");
    let carol_repo = carol.clone(remote.to_str().unwrap(), "repo");
    carol.setup(&carol_repo, LEFT_OVER).assert_fails();
    carol.setup(&carol_repo, PASS).assert_ok();

    // passphrase and rotate: refused, the store's ref unchanged.
    let before = alice.user.rev(&alice.repo, "refs/lore/sessions");
    for cmd in ["passphrase", "rotate"] {
        let r = alice.user.lore(&alice.repo, &["sync", cmd]);
        refused(&r);
        assert_eq!(alice.user.rev(&alice.repo, "refs/lore/sessions"), before);
    }
    // With --passphrase-stdin, the line wins over the variable.
    let new_pass = "a fresh passphrase nobody had before";
    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "passphrase", "--passphrase-stdin"],
        &format!("{new_pass}\n"),
    );
    r.assert_ok();
    alice.user.env.clear();
    alice.sync();
    let dave = world.user("dave");
    let dave_repo = dave.clone(remote.to_str().unwrap(), "repo");
    dave.setup(&dave_repo, LEFT_OVER).assert_fails();
    dave.setup(&dave_repo, new_pass).assert_ok();
}

/// A new passphrase equal to the current one is refused (by `passphrase` and `rotate`), a weak
/// one is taken with a warning giving zxcvbn's estimate, a strong one without.
#[test]
fn a_new_passphrase_is_not_the_current_one_and_a_weak_one_is_warned_about() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    let before = alice.user.rev(&alice.repo, "refs/lore/sessions");
    for cmd in ["passphrase", "rotate"] {
        let r = alice.user.lore_input(
            &alice.repo,
            &["sync", cmd, "--passphrase-stdin"],
            &format!("{PASS}\n"),
        );
        r.assert_fails();
        assert!(r.stderr.contains("is the current one"), "{}", r.stderr);
        assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
        assert_eq!(alice.user.rev(&alice.repo, "refs/lore/sessions"), before);
    }
    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "passphrase", "--passphrase-stdin"],
        "password123\n",
    );
    r.assert_ok();
    assert!(
        r.stderr
            .contains("warning: this passphrase is weak (zxcvbn score")
            && r.stderr.contains("guesses"),
        "{}",
        r.stderr
    );
    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "passphrase", "--passphrase-stdin"],
        "violet kayak thunders under 31 quiet lanterns\n",
    );
    r.assert_ok();
    assert!(!r.stderr.contains("weak"), "{}", r.stderr);
}

/// `--generate` makes a strong passphrase, prints it and uses it: a newcomer joins with it.
/// It is refused where a store exists already (its passphrase is needed, not a new one).
#[test]
fn generate_prints_a_strong_passphrase_and_uses_it() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 1);
    alice.sync();
    let r = alice
        .user
        .lore(&alice.repo, &["sync", "rotate", "--generate"]);
    r.assert_ok();
    assert!(r.stdout.contains("Generated passphrase"), "{}", r.stdout);
    assert!(!r.stderr.contains("weak"), "{}", r.stderr);
    let generated = r
        .stdout
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 35 && l.split('-').count() == 6)
        .unwrap_or_else(|| panic!("no generated passphrase in {}", r.stdout))
        .to_owned();
    alice.sync();
    let bob = world.user("bob");
    let bob_repo = bob.clone(remote.to_str().unwrap(), "repo");
    bob.setup(&bob_repo, PASS).assert_fails();
    bob.setup(&bob_repo, &generated).assert_ok();
    bob.lore(&bob_repo, &["sync"]).assert_ok();

    let carol = world.user("carol");
    let carol_repo = carol.clone(remote.to_str().unwrap(), "repo");
    let r = carol.lore(&carol_repo, &["sync", "setup", "--generate"]);
    r.assert_fails();
    assert!(
        r.stderr.contains("--generate makes a new passphrase"),
        "{}",
        r.stderr
    );
    // Two runs never generate the same passphrase.
    let r = alice
        .user
        .lore(&alice.repo, &["sync", "passphrase", "--generate"]);
    r.assert_ok();
    assert!(!r.stdout.contains(&generated), "{}", r.stdout);
}

/// Both binaries turn core dumps off: started with a core size limit of 1024 blocks, every git
/// that `lore` starts, and every git `git-remote-lore` starts (run by a plain `git fetch`, not
/// by lore), has a limit of 0. A wrapper around git records `ulimit -c`.
#[test]
fn core_dumps_are_off_in_lore_and_in_its_helper() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    alice.work(S1, "parser", 1);
    alice.sync();
    let log = world.path("git-ulimit.log");
    let wrapper = world.path("git-wrapper.sh");
    let real_git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s | CORE %s\\n' \"$*\" \"$(ulimit -c)\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_git.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = world.path("with-cores.sh");
    std::fs::write(
        &script,
        "ulimit -c 1024 || exit 97\n\
         [ \"$(ulimit -c)\" = 1024 ] || exit 98\n\
         lore sync >/dev/null || exit 1\n\
         echo '--- helper' >> \"$LOG\"\n\
         git fetch -q lore::origin refs/lore/sessions:refs/fetched || exit 2\n",
    )
    .unwrap();
    let r = alice.user.sh(
        &alice.repo,
        &script,
        &[
            ("LORE_GIT", wrapper.to_str().unwrap()),
            ("LOG", log.to_str().unwrap()),
        ],
    );
    r.assert_ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let (by_lore, by_helper) = text.split_once("--- helper\n").unwrap();
    for part in [by_lore, by_helper] {
        let runs: Vec<&str> = part.lines().collect();
        assert!(!runs.is_empty(), "{text}");
        for run in runs {
            assert!(
                run.ends_with("| CORE 0"),
                "a git may dump core: {run}\n{text}"
            );
        }
    }
}

/// The `machine_id` of every `.meta.json` in the bare remote `bare`'s store, by session id.
fn meta_machine_ids(user: &User, bare: &Path) -> std::collections::BTreeMap<String, String> {
    let tree = user.git(bare, &["ls-tree", "-r", "refs/lore/sessions"]);
    tree.assert_ok();
    let mut out = std::collections::BTreeMap::new();
    for line in tree.stdout.lines() {
        let (info, path) = line.split_once('\t').unwrap();
        let Some(name) = path.strip_suffix(".meta.json") else {
            continue;
        };
        let blob = info.split_whitespace().nth(2).unwrap();
        let text = user.git(bare, &["cat-file", "blob", blob]).stdout;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let id = name.rsplit('/').next().unwrap().to_owned();
        out.insert(id, v["machine_id"].as_str().unwrap().to_owned());
    }
    out
}

/// The machine id lore.db of `m` holds for session `id`.
fn machine_in_db(m: &Member, id: &str) -> String {
    let r = m.user.lore(&m.repo, &["sessions", "--json", "-n", "0"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let v = v["sessions"].as_array().unwrap();
    let s = v.iter().find(|s| s["id"] == id).unwrap();
    s["machine_id"].as_str().unwrap().to_owned()
}

#[test]
fn one_machine_shows_another_machine_id_in_each_store_and_the_same_one_at_every_sync() {
    let world = World::new();
    let (r1, r2) = (world.bare("one.git"), world.bare("two.git"));
    let alice = founder(&world, &r1);
    // A second repository of Alice's, with a store on another remote.
    let repo2 = alice.user.root.join("repo2");
    alice
        .user
        .git(&alice.user.root, &["init", "-q", "repo2"])
        .assert_ok();
    std::fs::write(repo2.join("README"), "other\n").unwrap();
    alice.user.git(&repo2, &["add", "README"]).assert_ok();
    alice
        .user
        .git(&repo2, &["commit", "-qm", "first"])
        .assert_ok();
    alice
        .user
        .git(&repo2, &["remote", "add", "origin", r2.to_str().unwrap()])
        .assert_ok();
    alice
        .user
        .git(&repo2, &["push", "-q", "-u", "origin", "main"])
        .assert_ok();
    alice.user.setup(&repo2, PASS).assert_ok();
    alice.work(S1, "parser", 1);
    // S2 belongs to the second repository (its working directory is there).
    let dir = alice.user.root.join("transcripts").join(S2);
    write_transcript(&dir, S2, "lexer", &canonical(&repo2));
    alice
        .user
        .lore(&repo2, &["import", dir.to_str().unwrap()])
        .assert_ok();
    alice.sync();
    alice.user.lore(&repo2, &["sync"]).assert_ok();

    let local_id = std::fs::read_to_string(alice.user.lore_home.join("machine-id")).unwrap();
    let local_id = local_id.trim();
    let one = meta_machine_ids(&alice.user, &r1);
    let two = meta_machine_ids(&alice.user, &r2);
    let (m1, m2) = (one[S1].clone(), two[S2].clone());
    assert_ne!(m1, m2, "two stores of one machine show the same machine id");
    assert_ne!(m1, local_id, "the store shows the machine's own id");
    assert_ne!(m2, local_id, "the store shows the machine's own id");
    // A UUID of version 8, as docs/store-format.md says.
    for m in [&m1, &m2] {
        let u = uuid::Uuid::parse_str(m).unwrap();
        assert_eq!(u.get_version_num(), 8, "{m}");
    }
    // The secret is private and made once.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secret = alice.user.lore_home.join("machine-secret");
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Stable: a later session and a later sync of the first store show the same id, and the
    // first session's metadata is unchanged.
    alice.work(S3, "printer", 2);
    alice.sync();
    let again = meta_machine_ids(&alice.user, &r1);
    assert_eq!(again[S1], m1);
    assert_eq!(again[S3], m1);

    // A teammate receives the store's id; Alice's lore.db keeps her own after the round trip.
    let bob = joiner(&world, &r1, "bob");
    bob.sync();
    assert_eq!(machine_in_db(&bob, S1), m1);
    bob.user
        .lore(&bob.repo, &["tag", S1, "reviewed"])
        .assert_ok();
    bob.sync();
    alice.sync();
    assert_eq!(machine_in_db(&alice, S1), local_id);
    assert_eq!(meta_machine_ids(&alice.user, &r1)[S1], m1);
}

// ---------------------------------------------------------------------------------------------
// Record format 2: link evidence, tag times and tag removals (docs/store-format.md).
// ---------------------------------------------------------------------------------------------

/// The lines a session of [`Member::work_writing`] writes into `src/parse.rs`.
const WRITTEN: &str = "fn parse_header(input: &str) -> Header {\n    let fields = input.split(';');\n    Header::from_fields(fields)\n}\n";

impl Member {
    /// Imports session `id`, whose assistant wrote [`WRITTEN`] into `src/parse.rs` with a
    /// Write tool call; then commits that file, and links the session to the commit by hand
    /// (`lore link ID --commit HEAD`: evidence of the user and of the lines it wrote).
    /// Returns the commit.
    fn work_writing_and_link(&self, id: &str) -> String {
        let dir = self.user.root.join("transcripts").join(id);
        let _ = std::fs::remove_dir_all(&dir);
        let path = write_transcript(&dir, id, "parser", &canonical(&self.repo));
        let file = format!("{}/src/parse.rs", canonical(&self.repo));
        let mut text = common::claude_transcript(id, 1, "parser")
            .replace("/home/dev/acme", &canonical(&self.repo));
        text.push_str(
            &common::claude_write_line(id, 2, &file, WRITTEN)
                .replace("/home/dev/acme", &canonical(&self.repo)),
        );
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        self.user
            .lore(&self.repo, &["import", dir.to_str().unwrap()])
            .assert_ok();
        std::fs::create_dir_all(self.repo.join("src")).unwrap();
        std::fs::write(self.repo.join("src/parse.rs"), WRITTEN).unwrap();
        self.user
            .git(&self.repo, &["add", "src/parse.rs"])
            .assert_ok();
        self.user
            .git(&self.repo, &["commit", "-qm", "parse headers"])
            .assert_ok();
        let commit = self.user.rev(&self.repo, "HEAD").unwrap();
        self.user
            .lore(&self.repo, &["link", id, "--commit", "HEAD"])
            .assert_ok();
        commit
    }

    /// `lore links --json --session ID`: the links of a session.
    fn links(&self, id: &str) -> Vec<serde_json::Value> {
        let r = self
            .user
            .lore(&self.repo, &["links", "--json", "--session", id]);
        r.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["links"].as_array().unwrap().clone()
    }

    /// The session's tags, as `lore show --json` gives them.
    fn tags(&self, id: &str) -> Vec<String> {
        let v = self.show(id).unwrap();
        v["tags"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    }

    fn tag(&self, id: &str, label: &str, remove: bool) {
        let mut args = vec!["tag", id, label];
        if remove {
            args.push("--remove");
        }
        self.user.lore(&self.repo, &args).assert_ok();
        // Tag times are in ms: keep two changes from sharing one.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }

    /// The local plaintext store's record of session `id`.
    fn record(&self, id: &str) -> serde_json::Value {
        let r = self.user.git(
            &self.repo,
            &["show", &format!("refs/lore/sessions:{}", record_path(id))],
        );
        r.assert_ok();
        serde_json::from_str(&r.stdout).unwrap()
    }
}

#[test]
fn link_evidence_reaches_the_teammate_and_shows_in_lore_links() {
    let world = World::new();
    let remote = world.bare("team.git");
    let alice = founder(&world, &remote);
    let commit = alice.work_writing_and_link(S1);
    let mine = alice.links(S1);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let evidence = mine[0]["evidence"].clone();
    assert_eq!(evidence["lines"], 3, "{evidence}");
    assert_eq!(evidence["files"], serde_json::json!(["src/parse.rs"]));
    assert_eq!(evidence["user"], true);
    alice.sync();
    // The record carries it (format 2); the remote holds no plaintext of it.
    let record = alice.record(S1);
    assert_eq!(record["format"], 2, "{record}");
    assert_eq!(record["links"][0]["evidence"]["lines"], 3, "{record}");
    common::assert_no_plaintext(&remote, &["src/parse.rs", "lines_added", "evidence"]);

    let bob = joiner(&world, &remote, "bob");
    bob.user.git(&bob.repo, &["pull", "-q"]).assert_ok();
    bob.sync();
    let theirs = bob.links(S1);
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["sha"], commit);
    assert_eq!(theirs[0]["evidence"], evidence, "the evidence travelled");
    // People see it too.
    let r = bob.user.lore(&bob.repo, &["links", "--session", S1]);
    r.assert_ok();
    assert!(
        r.stdout.contains("wrote 3 of the commit's 3 added lines"),
        "{}",
        r.stdout
    );

    // Syncing again on both sides keeps it, and changes nothing.
    let tree = alice.store_tree();
    bob.sync();
    alice.sync();
    assert_eq!(alice.links(S1)[0]["evidence"], evidence);
    assert_eq!(bob.links(S1)[0]["evidence"], evidence);
    assert_eq!(alice.store_tree(), tree);
}

#[test]
fn a_removed_tag_disappears_for_the_teammate_and_stays_removed() {
    let world = World::new();
    let remote = world.bare("team.git");
    let (alice, bob) = pair(&world, &remote);
    alice.tag(S1, "wip", false);
    alice.tag(S1, "parser", false);
    alice.sync();
    bob.sync();
    assert_eq!(bob.tags(S1), ["parser", "wip"]);

    // Alice takes "wip" off; Bob, who still has it, loses it at his next sync.
    alice.tag(S1, "wip", true);
    assert_eq!(alice.tags(S1), ["parser"]);
    alice.sync();
    assert_eq!(alice.record(S1)["removed_tags"][0]["tag"], "wip");
    bob.sync();
    assert_eq!(bob.tags(S1), ["parser"]);
    let r = bob
        .user
        .lore(&bob.repo, &["sessions", "--tag", "wip", "--json"]);
    r.assert_ok();
    let listed: serde_json::Value = serde_json::from_str(&r.stdout).expect("sessions --json");
    assert_eq!(
        listed["sessions"],
        serde_json::json!([]),
        "a removed tag selects nothing"
    );
    // And it does not come back, whoever syncs again.
    for _ in 0..2 {
        bob.sync();
        alice.sync();
    }
    assert_eq!(alice.tags(S1), ["parser"]);
    assert_eq!(bob.tags(S1), ["parser"]);
    assert_eq!(alice.store_tree(), bob.store_tree());
}

#[test]
fn of_a_tag_removal_and_a_concurrent_addition_the_later_wins() {
    let world = World::new();
    let remote = world.bare("team.git");
    let (alice, bob) = pair(&world, &remote);

    // Alice puts "urgent" on and takes it off, and syncs; then Bob, who never saw either,
    // puts it on: his addition is later, so it wins everywhere.
    alice.tag(S1, "urgent", false);
    alice.tag(S1, "urgent", true);
    alice.sync();
    bob.tag(S1, "urgent", false);
    bob.sync();
    alice.sync();
    assert_eq!(alice.tags(S1), ["urgent"]);
    assert_eq!(bob.tags(S1), ["urgent"]);

    // The other way round: Bob puts "later" on without syncing; then Alice puts it on and
    // takes it off. Her removal is later than his addition: it wins everywhere.
    bob.tag(S1, "later", false);
    alice.tag(S1, "later", false);
    alice.tag(S1, "later", true);
    alice.sync();
    bob.sync();
    alice.sync();
    assert_eq!(bob.tags(S1), ["urgent"]);
    assert_eq!(alice.tags(S1), ["urgent"]);
    bob.sync();
    assert_eq!(bob.tags(S1), ["urgent"]);
    assert_eq!(alice.store_tree(), bob.store_tree());
}
