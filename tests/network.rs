//! `git-remote-lore` over real network transports on loopback: ssh (the distribution's sshd)
//! and smart HTTP (`git http-backend` behind lighttpd). The same round trip as the file://
//! tests in remote.rs: Alice pushes code and encrypted sessions, Carol clones them back byte
//! for byte with the passphrase, then fetches one more; and no plaintext reaches the host.
//!
//! Without sshd or lighttpd a test says so on stderr and passes; with
//! `LORE_REQUIRE_NETWORK_TESTS=1` (as .ci/run sets) it fails instead.

mod common;
#[path = "common/net.rs"]
mod net;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{User, World, assert_no_plaintext, fixtures, write_transcript};
use net::{HttpServer, SshServer};

const PASS: &str = "correct horse battery staple";

/// Strings that exist only in sessions' plaintext: none may reach the remote.
const CANARIES: &[&str] = &[
    // The fixtures' working directory.
    "/home/dev/acme",
    // The first extra session's prompt and working directory.
    "zebracanary-net-7719",
    "canary-net-cwd-3301",
    // The session pushed later.
    "latecanary-net-5150",
];

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
        assert!(blob.status.success());
        out.insert(path.to_owned(), blob.stdout);
    }
    out
}

/// Alice and Carol round-trip code and sessions through `url`, the network address of the
/// bare repository `bare`; `env` is what their git needs to reach it.
fn round_trip(world: &World, bare: &Path, url: &str, env: &[(String, String)]) {
    let lore_url = format!("lore::{url}");

    // Alice: code, the fixtures and one canary session, a store, all pushed by URL.
    let mut alice = world.user("alice");
    alice.env.extend_from_slice(env);
    let repo = alice.root.join("repo");
    alice.git(&alice.root, &["init", "-q", "repo"]).assert_ok();
    std::fs::write(repo.join("README"), "code\n").unwrap();
    alice.git(&repo, &["add", "README"]).assert_ok();
    alice.git(&repo, &["commit", "-qm", "first"]).assert_ok();
    alice
        .git(&repo, &["remote", "add", "origin", url])
        .assert_ok();
    let extra = alice.root.join("transcripts");
    write_transcript(
        &extra,
        "c0ffee00-1111-4222-8333-444455556677",
        "zebracanary-net-7719",
        "/home/alice/canary-net-cwd-3301",
    );
    for src in [fixtures().join("transcripts"), extra] {
        alice
            .lore(&repo, &["import", src.to_str().unwrap()])
            .assert_ok();
    }
    alice.setup(&repo, PASS).assert_ok();
    alice.lore(&repo, &["sync", "export", "--all"]).assert_ok();
    alice
        .git(
            &repo,
            &["push", "-q", &lore_url, "main", "refs/lore/sessions"],
        )
        .assert_ok();
    let alice_tip = alice.rev(&repo, "refs/lore/sessions").unwrap();
    let alice_files = tree_files(&alice, &repo, &alice_tip);
    assert!(alice_files.len() >= 8, "{:?}", alice_files.keys());

    // The remote has the code as is and the sessions only as ciphertext.
    assert_eq!(
        alice.rev(bare, "refs/heads/main"),
        alice.rev(&repo, "refs/heads/main")
    );
    let wire_tip = alice
        .rev(bare, "refs/lore/sessions")
        .expect("sessions pushed");
    assert_ne!(wire_tip, alice_tip, "the remote holds the plaintext commit");
    for canary in ["/home/dev/acme", "zebracanary-net-7719"] {
        // In the local store (so the scan can find them)...
        let local = alice.git(&repo, &["grep", "-c", "-F", canary, "refs/lore/sessions"]);
        assert!(local.ok, "{canary} missing from the local store");
    }
    // ...and nowhere on the remote.
    assert_no_plaintext(bare, CANARIES);

    // Carol clones with the passphrase: the code, and the sessions with the same commit id
    // (decryption gives the plaintext commit back byte for byte) and the same files.
    let mut carol = world.user("carol");
    carol.env.extend_from_slice(env);
    carol.env.push(("LORE_PASSPHRASE".into(), PASS.into()));
    let clone = carol.root.join("clone");
    carol
        .git(
            &carol.root,
            &["clone", "-q", &lore_url, clone.to_str().unwrap()],
        )
        .assert_ok();
    assert_eq!(
        std::fs::read_to_string(clone.join("README")).unwrap(),
        "code\n"
    );
    assert_eq!(
        carol.rev(&clone, "refs/lore/sessions").as_deref(),
        Some(alice_tip.as_str())
    );
    assert_eq!(
        tree_files(&carol, &clone, "refs/lore/sessions"),
        alice_files
    );

    // Alice adds a session and pushes it through her named remote this time.
    let late = alice.root.join("late");
    write_transcript(
        &late,
        "0e000000-0000-4000-8000-00000000beef",
        "latecanary-net-5150",
        "/w",
    );
    alice
        .lore(&repo, &["import", late.to_str().unwrap()])
        .assert_ok();
    alice.lore(&repo, &["sync", "export", "--all"]).assert_ok();
    alice
        .git(&repo, &["push", "-q", "lore::origin", "refs/lore/sessions"])
        .assert_ok();
    let new_tip = alice.rev(&repo, "refs/lore/sessions").unwrap();
    assert_ne!(new_tip, alice_tip);
    let new_files = tree_files(&alice, &repo, &new_tip);
    let added: Vec<&String> = new_files
        .keys()
        .filter(|p| !alice_files.contains_key(*p))
        .collect();
    assert!(!added.is_empty(), "{:?}", new_files.keys());
    assert!(alice_files.keys().all(|p| new_files.contains_key(p)));
    let local = alice.git(
        &repo,
        &[
            "grep",
            "-c",
            "-F",
            "latecanary-net-5150",
            "refs/lore/sessions",
        ],
    );
    assert!(local.ok, "the new session is missing from the local store");
    assert_no_plaintext(bare, CANARIES);

    // Carol fetches it. Her clone's origin is itself the lore:: remote, so she names it
    // plainly (lore::origin would point a lore:: remote at a lore:: remote, which is refused).
    carol
        .git(
            &clone,
            &[
                "fetch",
                "-q",
                "origin",
                "refs/lore/sessions:refs/lore/sessions",
            ],
        )
        .assert_ok();
    assert_eq!(
        carol.rev(&clone, "refs/lore/sessions").as_deref(),
        Some(new_tip.as_str())
    );
    assert_eq!(tree_files(&carol, &clone, "refs/lore/sessions"), new_files);
    // Fetching by URL gives the same, and finds nothing new.
    carol
        .git(
            &clone,
            &[
                "fetch",
                "-q",
                &lore_url,
                "refs/lore/sessions:refs/lore/sessions",
            ],
        )
        .assert_ok();
    assert_eq!(carol.rev(&clone, "refs/lore/sessions"), Some(new_tip));
}

/// The bare remote, in a folder of its own (the one the HTTP server exports).
fn served_bare(world: &World) -> (PathBuf, PathBuf) {
    let bare = world.bare("served/remote.git");
    (world.path("served"), bare)
}

#[test]
fn ssh_push_clone_and_fetch_round_trip_encrypted() {
    if !net::ready(
        "ssh_push_clone_and_fetch_round_trip_encrypted",
        &SshServer::missing(),
    ) {
        return;
    }
    let world = World::new();
    let (_, bare) = served_bare(&world);
    let mut server = SshServer::start(&world.path("sshd"));
    round_trip(&world, &bare, &server.url(&bare), &server.env());
    // It all went through sshd: every git connection was a key login of a session.
    let log = server.stop_and_read_log();
    let logins = log.matches("Accepted publickey for ").count();
    assert!(logins >= 5, "{logins} logins:\n{log}");
    assert_eq!(
        log.matches("Starting session: command").count(),
        logins,
        "{log}"
    );
}

#[test]
fn http_push_clone_and_fetch_round_trip_encrypted() {
    if !net::ready(
        "http_push_clone_and_fetch_round_trip_encrypted",
        &HttpServer::missing(),
    ) {
        return;
    }
    let world = World::new();
    let (root, bare) = served_bare(&world);
    net::allow_push(&bare);
    let mut server = HttpServer::start(&world.path("httpd"), &root);
    round_trip(&world, &bare, &server.url("remote.git"), &server.env());
    // It all went through lighttpd, over smart HTTP, and every request succeeded.
    let access = server.stop_and_read_access_log();
    let pushes = access
        .lines()
        .filter(|l| l.contains("\"POST /git/remote.git/git-receive-pack "))
        .count();
    assert_eq!(pushes, 2, "{access}");
    assert!(
        access.contains("\"POST /git/remote.git/git-upload-pack "),
        "{access}"
    );
    for line in access.lines() {
        assert!(line.contains("\" 200 "), "{line}");
    }
}
