//! `git-remote-lore` driven by real git: push, fetch and clone through `lore::` remotes
//! (file:// URLs and plain paths), what the remote ends up holding, and every way it can go
//! wrong: wrong passphrase, tampering, rollback, non-fast-forward, races.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{User, World, fixtures, write_transcript};

const PASS: &str = "correct horse battery staple";

/// Strings that exist only in the canary session's plaintext: none may reach the remote.
const CANARIES: &[&str] = &[
    "zebracanary9931",
    "canary_module_5521",
    "canary-cwd-7731",
    "Titlecanary4471",
    // The fixtures' own content, working directory and titles.
    "/home/dev/acme",
    "acme",
];

/// Alice's repository, pushed to a bare remote, with the fixtures and a canary session
/// imported, a store set up and pushed.
struct Team {
    world: World,
    remote: PathBuf,
    alice: User,
    repo: PathBuf,
}

fn canary_transcripts(dir: &Path) {
    let path = write_transcript(
        dir,
        "c0ffee00-1111-4222-8333-444455556666",
        "zebracanary9931 in src/canary_module_5521.rs",
        "/home/alice/canary-cwd-7731",
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"type\":\"summary\",\"summary\":\"Titlecanary4471\",\"leafUuid\":\"x\"}\n");
    std::fs::write(&path, text).unwrap();
}

fn team() -> Team {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = world.user("alice");
    let repo = alice.root.join("repo");
    alice.git(&alice.root, &["init", "-q", "repo"]).assert_ok();
    std::fs::write(repo.join("README"), "code\n").unwrap();
    alice.git(&repo, &["add", "README"]).assert_ok();
    alice.git(&repo, &["commit", "-qm", "first"]).assert_ok();
    alice
        .git(
            &repo,
            &["remote", "add", "origin", remote.to_str().unwrap()],
        )
        .assert_ok();
    alice
        .git(&repo, &["push", "-q", "origin", "main"])
        .assert_ok();
    let transcripts = alice.root.join("transcripts");
    canary_transcripts(&transcripts);
    for src in [fixtures().join("transcripts"), transcripts] {
        alice
            .lore(&repo, &["import", src.to_str().unwrap()])
            .assert_ok();
    }
    alice.setup(&repo, PASS).assert_ok();
    alice.lore(&repo, &["sync", "export", "--all"]).assert_ok();
    alice
        .git(&repo, &["push", "-q", "lore::origin", "refs/lore/sessions"])
        .assert_ok();
    Team {
        world,
        remote,
        alice,
        repo,
    }
}

impl Team {
    /// Alice imports the transcripts in `dir`, writes every session into her store and pushes
    /// it through the helper.
    fn publish(&self, dir: &Path) {
        let (alice, repo) = (&self.alice, &self.repo);
        alice
            .lore(repo, &["import", dir.to_str().unwrap()])
            .assert_ok();
        alice.lore(repo, &["sync", "export", "--all"]).assert_ok();
        alice
            .git(repo, &["push", "-q", "lore::origin", "refs/lore/sessions"])
            .assert_ok();
    }

    /// A new member with the passphrase in LORE_PASSPHRASE who runs `git clone lore::<remote>`.
    fn clone_as(&self, name: &str, remote: &Path) -> (User, PathBuf) {
        let mut user = self.world.user(name);
        user.env.push(("LORE_PASSPHRASE".into(), PASS.into()));
        let clone = user.root.join("clone");
        user.git(
            &user.root,
            &[
                "clone",
                "-q",
                &format!("lore::{}", remote.display()),
                clone.to_str().unwrap(),
            ],
        )
        .assert_ok();
        (user, clone)
    }
}

/// `user` imports one new session `id` and writes it into the local store (not pushed).
fn new_session(user: &User, repo: &Path, id: &str, word: &str, cwd: &str) {
    let dir = user.root.join("new").join(id);
    write_transcript(&dir, id, word, cwd);
    user.lore(repo, &["import", dir.to_str().unwrap()])
        .assert_ok();
    user.lore(repo, &["sync", "export", id]).assert_ok();
}

/// Every file of the tree at `rev` in `repo`: path → bytes.
fn tree_files(user: &User, repo: &Path, rev: &str) -> BTreeMap<String, Vec<u8>> {
    let list = user.git(repo, &["ls-tree", "-r", "-z", rev]);
    list.assert_ok();
    let mut out = BTreeMap::new();
    for entry in list.stdout.split('\0').filter(|e| !e.is_empty()) {
        let (meta, path) = entry.split_once('\t').unwrap();
        let oid = meta.split_whitespace().nth(2).unwrap();
        let blob = std::process::Command::new("git")
            .args(["cat-file", "blob", oid])
            .current_dir(repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        out.insert(path.to_owned(), blob.stdout);
    }
    out
}

/// Replaces the remote's refs/lore/sessions with a commit (on top of it) whose files `edit`
/// changed: what a hostile or broken host could do.
fn tamper(user: &User, bare: &Path, edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) {
    let tip = user.rev(bare, "refs/lore/sessions").unwrap();
    let mut files = tree_files(user, bare, &tip);
    edit(&mut files);
    let index = bare.join("tamper-index");
    let _ = std::fs::remove_file(&index);
    for (path, bytes) in &files {
        let blob_file = bare.join("tamper-blob");
        std::fs::write(&blob_file, bytes).unwrap();
        let oid = user
            .git(bare, &["hash-object", "-w", blob_file.to_str().unwrap()])
            .stdout
            .trim()
            .to_owned();
        user.git_with(
            bare,
            &[("GIT_INDEX_FILE", index.to_str().unwrap())],
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("100644,{oid},{path}"),
            ],
        )
        .assert_ok();
    }
    let tree = user.git_with(
        bare,
        &[("GIT_INDEX_FILE", index.to_str().unwrap())],
        &["write-tree"],
    );
    let tree = tree.stdout.trim();
    // The commit's other lines as lore writes them, so only the tree gives it away.
    let commit_file = bare.join("tamper-commit");
    std::fs::write(
        &commit_file,
        format!(
            "tree {tree}\nparent {tip}\nauthor lore <lore@localhost> 0 +0000\ncommitter lore <lore@localhost> 0 +0000\n\nlore\n"
        ),
    )
    .unwrap();
    let commit = user.git(
        bare,
        &[
            "hash-object",
            "-t",
            "commit",
            "-w",
            commit_file.to_str().unwrap(),
        ],
    );
    commit.assert_ok();
    user.git(
        bare,
        &["update-ref", "refs/lore/sessions", commit.stdout.trim()],
    )
    .assert_ok();
}

/// Bob: a plain clone of the remote, set up with the passphrase, sessions fetched.
fn bob(team: &Team) -> (User, PathBuf) {
    let bob = team.world.user("bob");
    let repo = bob.clone(team.remote.to_str().unwrap(), "repo");
    bob.setup(&repo, PASS).assert_ok();
    bob.git(
        &repo,
        &[
            "fetch",
            "-q",
            "lore::origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    )
    .assert_ok();
    (bob, repo)
}

#[test]
fn clone_with_the_passphrase_reads_every_session_byte_for_byte() {
    let team = team();
    let alice_tip = team.alice.rev(&team.repo, "refs/lore/sessions").unwrap();
    let alice_files = tree_files(&team.alice, &team.repo, &alice_tip);
    assert!(alice_files.len() >= 8, "{:?}", alice_files.keys());

    // A plain path, then a file:// URL; each clone brings the code and the sessions.
    for (name, url) in [
        ("by-path", format!("lore::{}", team.remote.display())),
        ("by-url", format!("lore::file://{}", team.remote.display())),
    ] {
        let mut carol = team.world.user(&format!("carol-{name}"));
        carol.env.push(("LORE_PASSPHRASE".into(), PASS.into()));
        let clone = carol.root.join("clone");
        carol
            .git(&carol.root, &["clone", "-q", &url, clone.to_str().unwrap()])
            .assert_ok();
        assert_eq!(
            std::fs::read_to_string(clone.join("README")).unwrap(),
            "code\n"
        );
        // Same commit id: decryption gives the plaintext commit back byte for byte.
        assert_eq!(
            carol.rev(&clone, "refs/lore/sessions").as_deref(),
            Some(alice_tip.as_str())
        );
        assert_eq!(
            tree_files(&carol, &clone, "refs/lore/sessions"),
            alice_files
        );
        // The plaintext store is ordinary git.
        let log = carol.git(&clone, &["log", "--format=%s", "refs/lore/sessions"]);
        assert!(log.stdout.contains("lore: sync"), "{}", log.stdout);
    }

    // Bob joins with `lore sync setup` in a plain clone, then fetches.
    let (bob, repo) = bob(&team);
    assert_eq!(bob.rev(&repo, "refs/lore/sessions"), Some(alice_tip));
    let key_dir = bob.lore_home.join("keys");
    for entry in std::fs::read_dir(&key_dir).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn the_remote_holds_no_plaintext_and_seven_field_metadata() {
    let team = team();
    // Every object on the remote, decompressed.
    let all = std::process::Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .current_dir(&team.remote)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(all.status.success());
    assert!(all.stdout.len() > 1000);
    let text = String::from_utf8_lossy(&all.stdout);
    // The canaries are really in the local store (so the scan can find them)...
    let local = team.alice.git(
        &team.repo,
        &["grep", "-c", "zebracanary9931", "refs/lore/sessions"],
    );
    assert!(local.ok, "canary missing from the local store");
    // ...and nowhere on the remote, in objects or in any other file.
    for canary in CANARIES {
        assert!(!text.contains(canary), "{canary} reached the remote");
    }
    for entry in walkdir::WalkDir::new(&team.remote) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let s = String::from_utf8_lossy(&bytes);
            for canary in CANARIES {
                assert!(
                    !s.contains(canary),
                    "{canary} in {}",
                    entry.path().display()
                );
            }
        }
    }
    // Metadata: exactly the seven fields.
    let files = tree_files(&team.alice, &team.remote, "refs/lore/sessions");
    let metas: Vec<&String> = files.keys().filter(|p| p.ends_with(".meta.json")).collect();
    assert!(metas.len() >= 4);
    for path in metas {
        let v: serde_json::Value = serde_json::from_slice(&files[path]).unwrap();
        let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "git_branch",
                "id",
                "machine_id",
                "message_count",
                "started_at",
                "tool",
                "updated_at"
            ]
        );
    }
    for path in files.keys() {
        assert!(
            path == "lore-store.json"
                || path == "lore-manifest"
                || path.ends_with(".enc")
                || path.ends_with(".meta.json"),
            "{path}"
        );
    }
}

#[test]
fn a_wrong_passphrase_or_no_key_stores_nothing() {
    let team = team();
    let eve = team.world.user("eve");
    let repo = eve.clone(team.remote.to_str().unwrap(), "repo");
    let r = eve.setup(&repo, "not the passphrase");
    r.assert_fails();
    assert!(r.stderr.contains("wrong passphrase"), "{}", r.stderr);
    assert!(
        !eve.lore_home.join("keys").exists()
            || std::fs::read_dir(eve.lore_home.join("keys"))
                .unwrap()
                .next()
                .is_none()
    );

    let r = eve.git(
        &repo,
        &[
            "fetch",
            "lore::origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    );
    r.assert_fails();
    assert!(r.stderr.contains("lore sync setup"), "{}", r.stderr);
    assert_eq!(eve.rev(&repo, "refs/lore/sessions"), None);

    let r = eve.git_with(
        &repo,
        &[("LORE_PASSPHRASE", "still wrong")],
        &[
            "fetch",
            "lore::origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    );
    r.assert_fails();
    assert!(
        r.stderr.contains("LORE_PASSPHRASE is not the passphrase"),
        "{}",
        r.stderr
    );
    assert_eq!(eve.rev(&repo, "refs/lore/sessions"), None);
}

/// Bob fetches again after the host changed something; the fetch must fail and leave his
/// refs exactly as they were.
#[track_caller]
fn assert_fetch_refused(bob: &User, repo: &Path, expect: &str) {
    assert_fetch_from_refused(bob, repo, "lore::origin", expect)
}

#[track_caller]
fn assert_fetch_from_refused(bob: &User, repo: &Path, remote: &str, expect: &str) {
    let before = bob.git(repo, &["for-each-ref"]).stdout;
    let r = bob.git(
        repo,
        &["fetch", remote, "+refs/lore/sessions:refs/lore/sessions"],
    );
    r.assert_fails();
    assert!(
        r.stderr.contains(expect),
        "expected {expect:?} in:\n{}",
        r.stderr
    );
    assert_eq!(bob.git(repo, &["for-each-ref"]).stdout, before);
}

#[test]
fn tampering_is_detected_and_nothing_local_is_overwritten() {
    let team = team();
    let (bob, repo) = bob(&team);
    let pristine = team.world.path("pristine.git");
    common::copy_tree(&team.remote, &pristine);
    let restore = || {
        std::fs::remove_dir_all(&team.remote).unwrap();
        common::copy_tree(&pristine, &team.remote);
    };
    let encs = |files: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
        files
            .keys()
            .filter(|p| p.ends_with(".enc"))
            .cloned()
            .collect()
    };

    // A flipped byte in an encrypted record.
    tamper(&bob, &team.remote, |files| {
        let p = encs(files)[0].clone();
        let blob = files.get_mut(&p).unwrap();
        let last = blob.len() - 20;
        blob[last] ^= 1;
    });
    assert_fetch_refused(&bob, &repo, "not the ones its manifest names");
    restore();

    // Two records swapped (each keeps its own metadata).
    tamper(&bob, &team.remote, |files| {
        let e = encs(files);
        let a = files[&e[0]].clone();
        let b = files[&e[1]].clone();
        files.insert(e[0].clone(), b);
        files.insert(e[1].clone(), a);
    });
    assert_fetch_refused(&bob, &repo, "not the ones its manifest names");
    restore();

    // A metadata file edited.
    tamper(&bob, &team.remote, |files| {
        let p = files
            .keys()
            .find(|p| p.ends_with(".meta.json"))
            .unwrap()
            .clone();
        let text = String::from_utf8(files[&p].clone()).unwrap();
        let edited = text.replace("\"message_count\":", "\"message_count\":1");
        assert_ne!(text, edited);
        files.insert(p, edited.into_bytes());
    });
    assert_fetch_refused(&bob, &repo, "not the ones its manifest names");
    restore();

    // A file that does not belong (it could carry anything).
    tamper(&bob, &team.remote, |files| {
        files.insert("notes.txt".into(), b"hello".to_vec());
    });
    assert_fetch_refused(&bob, &repo, "unexpected entry");
    restore();

    // The ref rolled back to an older commit.
    let transcripts = team.alice.root.join("more");
    write_transcript(
        &transcripts,
        "5e55104e-0000-4000-8000-000000000001",
        "later",
        "/x",
    );
    team.alice
        .lore(&team.repo, &["import", transcripts.to_str().unwrap()])
        .assert_ok();
    team.alice
        .lore(&team.repo, &["sync", "export", "--all"])
        .assert_ok();
    team.alice
        .git(
            &team.repo,
            &["push", "-q", "lore::origin", "refs/lore/sessions"],
        )
        .assert_ok();
    bob.git(
        &repo,
        &[
            "fetch",
            "-q",
            "lore::origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    )
    .assert_ok();
    let old = team
        .alice
        .rev(&team.remote, "refs/lore/sessions~1")
        .unwrap();
    bob.git(&team.remote, &["update-ref", "refs/lore/sessions", &old])
        .assert_ok();
    assert_fetch_refused(&bob, &repo, "rolled it back");

    // Fine once the host is honest again; and a rollback can be accepted on purpose.
    let r = bob.git(
        &repo,
        &[
            "-c",
            "lore.allowRollback=true",
            "fetch",
            "-q",
            "lore::origin",
            "refs/lore/sessions:refs/lore/remotes/x",
        ],
    );
    r.assert_ok();
}

#[test]
fn non_fast_forward_force_delete_dry_run_and_atomic() {
    let team = team();
    let (bob, bob_repo) = bob(&team);
    let alice = &team.alice;
    // Both write a new session on top of the same store; Bob pushes first.
    new_session(
        &bob,
        &bob_repo,
        "b0b00000-0000-4000-8000-000000000001",
        "hello",
        "/y",
    );
    new_session(
        alice,
        &team.repo,
        "a11ce000-0000-4000-8000-000000000001",
        "hello",
        "/y",
    );
    bob.git(
        &bob_repo,
        &["push", "-q", "lore::origin", "refs/lore/sessions"],
    )
    .assert_ok();
    let remote_tip = bob.rev(&team.remote, "refs/lore/sessions").unwrap();

    // Alice's push is not a fast-forward: refused, with git's usual words.
    let r = alice.git(&team.repo, &["push", "lore::origin", "refs/lore/sessions"]);
    r.assert_fails();
    // git's own check ran on the decrypted tip the helper listed, with git's own hint.
    assert!(r.stderr.contains("[rejected]"), "{}", r.stderr);
    assert!(r.stderr.contains("(non-fast-forward)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint: Updates were rejected"),
        "{}",
        r.stderr
    );
    assert_eq!(
        bob.rev(&team.remote, "refs/lore/sessions").unwrap(),
        remote_tip
    );

    // Dry run: reported, nothing changes.
    let r = alice.git(
        &team.repo,
        &[
            "push",
            "-n",
            "--force",
            "lore::origin",
            "refs/lore/sessions",
        ],
    );
    r.assert_ok();
    assert_eq!(
        bob.rev(&team.remote, "refs/lore/sessions").unwrap(),
        remote_tip
    );

    // Atomic: one ref refused means none is updated.
    let r = alice.git(
        &team.repo,
        &[
            "push",
            "--atomic",
            "lore::origin",
            "main:refs/heads/side",
            "refs/lore/sessions",
        ],
    );
    r.assert_fails();
    assert_eq!(alice.rev(&team.remote, "refs/heads/side"), None);
    assert_eq!(
        bob.rev(&team.remote, "refs/lore/sessions").unwrap(),
        remote_tip
    );

    // Force-with-lease naming a value the remote no longer has: refused.
    let alice_tip = alice.rev(&team.repo, "refs/lore/sessions").unwrap();
    let base = alice.rev(&team.repo, "refs/lore/sessions~1").unwrap();
    let r = alice.git(
        &team.repo,
        &[
            "push",
            &format!("--force-with-lease=refs/lore/sessions:{base}"),
            "lore::origin",
            "refs/lore/sessions",
        ],
    );
    r.assert_fails();
    assert!(r.stderr.contains("stale info"), "{}", r.stderr);

    // `+` forces; a fresh clone then sees Alice's store, not Bob's.
    let r = alice.git(&team.repo, &["push", "lore::origin", "+refs/lore/sessions"]);
    r.assert_ok();
    assert!(r.stderr.contains("forced update"), "{}", r.stderr);
    let (carol, clone) = team.clone_as("carol", &team.remote);
    assert_eq!(carol.rev(&clone, "refs/lore/sessions"), Some(alice_tip));

    // `:ref` deletes.
    alice
        .git(
            &team.repo,
            &["push", "-q", "lore::origin", ":refs/lore/sessions"],
        )
        .assert_ok();
    assert_eq!(alice.rev(&team.remote, "refs/lore/sessions"), None);
}

#[test]
fn two_racing_pushes_one_wins_the_other_must_fetch_first() {
    let team = team();
    let (mut bob, bob_repo) = bob(&team);
    let alice = &team.alice;
    new_session(
        &bob,
        &bob_repo,
        "b0b00000-0000-4000-8000-000000000002",
        "race",
        "/z",
    );
    new_session(
        alice,
        &team.repo,
        "a11ce000-0000-4000-8000-000000000002",
        "race",
        "/z",
    );
    // Bob's helper stops just before its `git push`, after it has listed the remote; Alice
    // pushes in that window; then Bob's push goes on with what it listed.
    let gate = team.world.path("gate");
    let wrapper = team.world.path("slow-git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = push ]; then touch {g}.waiting; while [ ! -f {g}.open ]; do sleep 0.05; done; fi\nexec git \"$@\"\n",
            g = gate.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    bob.env
        .push(("LORE_GIT".into(), wrapper.to_str().unwrap().into()));
    let bob_push = std::thread::scope(|s| {
        let handle =
            s.spawn(|| bob.git(&bob_repo, &["push", "lore::origin", "refs/lore/sessions"]));
        let waiting = PathBuf::from(format!("{}.waiting", gate.display()));
        for _ in 0..600 {
            if waiting.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(waiting.exists(), "bob's helper never reached its push");
        alice
            .git(
                &team.repo,
                &["push", "-q", "lore::origin", "refs/lore/sessions"],
            )
            .assert_ok();
        std::fs::write(format!("{}.open", gate.display()), "").unwrap();
        handle.join().unwrap()
    });
    bob_push.assert_fails();
    assert!(
        bob_push.stderr.contains("fetch first"),
        "{}",
        bob_push.stderr
    );
    // Alice's push stands: a clone sees her commit.
    let alice_tip = alice.rev(&team.repo, "refs/lore/sessions").unwrap();
    let (carol, clone) = team.clone_as("carol", &team.remote);
    assert_eq!(carol.rev(&clone, "refs/lore/sessions"), Some(alice_tip));
}

#[test]
fn a_mirror_made_without_the_key_reads_in_full() {
    let team = team();
    let ci = team.world.user("ci");
    let mirror = team.world.path("mirror.git");
    ci.git(
        &ci.root,
        &[
            "clone",
            "-q",
            "--mirror",
            team.remote.to_str().unwrap(),
            mirror.to_str().unwrap(),
        ],
    )
    .assert_ok();
    let second = team.world.bare("second.git");
    ci.git(
        &mirror,
        &["push", "-q", "--mirror", second.to_str().unwrap()],
    )
    .assert_ok();
    let (carol, clone) = team.clone_as("carol", &second);
    let alice_tip = team.alice.rev(&team.repo, "refs/lore/sessions").unwrap();
    assert_eq!(
        carol.rev(&clone, "refs/lore/sessions"),
        Some(alice_tip.clone())
    );
    assert_eq!(
        tree_files(&carol, &clone, "refs/lore/sessions"),
        tree_files(&team.alice, &team.repo, &alice_tip)
    );
}

#[test]
fn only_changed_sessions_are_sent_and_the_cache_rebuilds_from_the_remote() {
    let team = team();
    let (bob, repo) = bob(&team);
    let before = team.alice.rev(&team.remote, "refs/lore/sessions").unwrap();
    // Re-exporting unchanged sessions makes no commit; one new session changes two files.
    let r = team.alice.lore(&team.repo, &["sync", "export", "--all"]);
    r.assert_ok();
    assert!(r.stdout.contains("Wrote 0 sessions"), "{}", r.stdout);
    let dir = team.alice.root.join("one");
    write_transcript(
        &dir,
        "0e000000-0000-4000-8000-000000000003",
        "one more",
        "/w",
    );
    team.publish(&dir);
    let after = team.alice.rev(&team.remote, "refs/lore/sessions").unwrap();
    let diff = team.alice.git(
        &team.remote,
        &["diff-tree", "-r", "--name-status", &before, &after],
    );
    // Two files added, and the commit's manifest: nothing else changed.
    let lines: Vec<&str> = diff.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", diff.stdout);
    assert!(lines.contains(&"M\tlore-manifest"), "{}", diff.stdout);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with('A')).count(),
        2,
        "{}",
        diff.stdout
    );
    // The remote's history mirrors the local one in shape; its commits carry neither author,
    // date nor message (those travel sealed in the manifests).
    let local_log = team
        .alice
        .git(
            &team.repo,
            &["log", "--format=%an %at %s", "refs/lore/sessions"],
        )
        .stdout;
    let remote_log = team
        .alice
        .git(
            &team.remote,
            &["log", "--format=%an %at %s", "refs/lore/sessions"],
        )
        .stdout;
    assert_eq!(local_log.lines().count(), remote_log.lines().count());
    assert!(
        remote_log.lines().all(|l| l == "lore 0 lore"),
        "{remote_log}"
    );
    assert!(local_log.lines().all(|l| l != "lore 0 lore"), "{local_log}");

    // Bob forgets everything the helper knew; fetching again derives the same ids.
    bob.git(
        &repo,
        &[
            "fetch",
            "-q",
            "lore::origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    )
    .assert_ok();
    let tip = bob.rev(&repo, "refs/lore/sessions").unwrap();
    std::fs::remove_dir_all(repo.join(".git/lore")).unwrap();
    for r in [
        "refs/lore/wire/origin/sessions",
        "refs/lore/remotes/origin/sessions",
        "refs/lore/sessions",
    ] {
        bob.git(&repo, &["update-ref", "-d", r]).assert_ok();
    }
    bob.git(&repo, &["gc", "-q", "--prune=now"]).assert_ok();
    bob.git(
        &repo,
        &[
            "fetch",
            "-q",
            "lore::origin",
            "refs/lore/sessions:refs/lore/sessions",
        ],
    )
    .assert_ok();
    assert_eq!(bob.rev(&repo, "refs/lore/sessions"), Some(tip));
}

#[test]
fn addresses_fetch_head_and_refusals() {
    let team = team();
    let alice = &team.alice;
    // The user's FETCH_HEAD holds what the user's fetch wrote, nothing from the helper's own.
    alice
        .git(&team.repo, &["fetch", "-q", "lore::origin", "main"])
        .assert_ok();
    let fetch_head = std::fs::read_to_string(team.repo.join(".git/FETCH_HEAD")).unwrap();
    assert_eq!(fetch_head.lines().count(), 1, "{fetch_head}");
    assert!(fetch_head.contains("lore::origin"), "{fetch_head}");

    // No refspec: HEAD is the remote's own HEAD.
    alice
        .git(&team.repo, &["fetch", "-q", "lore::origin"])
        .assert_ok();

    // ls-remote shows the plaintext tip, and HEAD.
    let ls = alice.git(&team.repo, &["ls-remote", "lore::origin"]);
    ls.assert_ok();
    let tip = alice.rev(&team.repo, "refs/lore/sessions").unwrap();
    assert!(
        ls.stdout.contains(&format!("{tip}\trefs/lore/sessions")),
        "{}",
        ls.stdout
    );
    assert!(ls.stdout.contains("refs/heads/main"), "{}", ls.stdout);

    // A remote whose URL is itself lore:: is refused, not followed in circles.
    alice
        .git(&team.repo, &["remote", "add", "loop", "lore::origin"])
        .assert_ok();
    let r = alice.git(&team.repo, &["fetch", "lore::loop", "main"]);
    r.assert_fails();
    assert!(r.stderr.contains("itself a lore:: remote"), "{}", r.stderr);

    // An unknown remote name that is not a path either.
    let r = alice.git(&team.repo, &["fetch", "lore::nowhere", "main"]);
    r.assert_fails();

    // Outside any repository there is no GIT_DIR.
    let outside = team.world.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let r = alice.git_with(
        &outside,
        &[(
            "GIT_CEILING_DIRECTORIES",
            team.world.dir.path().to_str().unwrap(),
        )],
        &["ls-remote", &format!("lore::{}", team.remote.display())],
    );
    r.assert_fails();
    assert!(r.stderr.contains("GIT_DIR is not set"), "{}", r.stderr);
}

/// The shell block of docs/ci-mirroring.md whose first line is `# recipe: NAME`.
fn recipe(name: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci-mirroring.md"))
            .unwrap();
    let marker = format!("# recipe: {name}\n");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("no recipe {name}"));
    let body = &doc[start..];
    body[..body.find("```").unwrap()].to_owned()
}

#[test]
fn ci_mirroring_recipes_from_the_docs_work() {
    let team = team();
    let mirror = team.world.bare("mirror.git");
    // The mirror job: no key, no lore on PATH is needed (it only runs git).
    let ci = team.world.user("ci-mirror");
    let script = team.world.path("mirror.sh");
    std::fs::write(&script, recipe("mirror")).unwrap();
    let r = ci.sh(
        &ci.root,
        &script,
        &[
            ("PRIMARY_URL", team.remote.to_str().unwrap()),
            ("MIRROR_URL", mirror.to_str().unwrap()),
        ],
    );
    r.assert_ok();
    assert_eq!(
        ci.rev(&mirror, "refs/lore/sessions"),
        ci.rev(&team.remote, "refs/lore/sessions")
    );
    assert!(!ci.lore_home.join("keys").exists());

    // The reader job: the passphrase as a secret in the environment.
    let reader = team.world.user("ci-reader");
    let script = team.world.path("read.sh");
    std::fs::write(&script, recipe("read")).unwrap();
    let r = reader.sh(
        &reader.root,
        &script,
        &[
            ("MIRROR_URL", mirror.to_str().unwrap()),
            ("LORE_PASSPHRASE", PASS),
        ],
    );
    r.assert_ok();
    let sessions = team
        .alice
        .git(
            &team.repo,
            &["ls-tree", "-r", "--name-only", "refs/lore/sessions"],
        )
        .stdout
        .lines()
        .filter(|l| l.ends_with(".json") && l.starts_with("sessions/"))
        .count();
    assert!(r.stdout.contains("lore: sync"), "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().last().unwrap().trim(),
        sessions.to_string()
    );

    // And with a wrong passphrase the same job fails, saying why.
    let r = reader.sh(
        &reader.root,
        &script,
        &[
            ("MIRROR_URL", mirror.to_str().unwrap()),
            ("LORE_PASSPHRASE", "wrong"),
        ],
    );
    r.assert_fails();
    assert!(
        r.stderr.contains("LORE_PASSPHRASE is not the passphrase"),
        "{}",
        r.stderr
    );
}

#[test]
fn many_sessions_are_translated_in_parallel_and_still_checked() {
    let team = team();
    // Enough sessions that encryption and decryption run on several threads.
    let dir = team.alice.root.join("many");
    for i in 0..40 {
        write_transcript(
            &dir,
            &format!("5e551000-0000-4000-8000-{i:012}"),
            &format!("bulk{i}"),
            "/m",
        );
    }
    team.publish(&dir);
    let (carol, clone) = team.clone_as("carol", &team.remote);
    let tip = team.alice.rev(&team.repo, "refs/lore/sessions").unwrap();
    assert_eq!(carol.rev(&clone, "refs/lore/sessions"), Some(tip.clone()));
    assert_eq!(
        tree_files(&carol, &clone, "refs/lore/sessions"),
        tree_files(&team.alice, &team.repo, &tip)
    );
    // One bad record among many new ones still stops the whole fetch.
    for i in 40..70 {
        write_transcript(
            &dir,
            &format!("5e551000-0000-4000-8000-{i:012}"),
            &format!("bulk{i}"),
            "/m",
        );
    }
    team.publish(&dir);
    let new_tip = team.alice.rev(&team.remote, "refs/lore/sessions").unwrap();
    let changed = team.alice.git(
        &team.remote,
        &[
            "diff-tree",
            "-r",
            "--name-only",
            "refs/lore/sessions~1",
            "refs/lore/sessions",
        ],
    );
    let victim = changed
        .stdout
        .lines()
        .find(|l| l.ends_with(".enc"))
        .unwrap()
        .to_owned();
    tamper(&team.alice, &team.remote, |files| {
        let blob = files.get_mut(&victim).unwrap();
        blob[40] ^= 0x80;
    });
    assert_ne!(
        team.alice.rev(&team.remote, "refs/lore/sessions").unwrap(),
        new_tip
    );
    // Carol's origin is the lore:: URL she cloned.
    assert_fetch_from_refused(&carol, &clone, "origin", "not the ones its manifest names");
}
