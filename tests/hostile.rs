//! The hostile host (issue 12): the git host, or a former member who kept an old key, attacks
//! the shared session store, and every member's `lore sync` must refuse what it serves with
//! one line naming what was wrong, change nothing here (lore.db and every local ref exactly as
//! before), and converge again once the host serves the honest tip.
//!
//! [`Host`] plays the host on the bare remote with plain git plumbing and no key at all.
//! Where the attacker holds an old key (a removed member), [`Forger`] seals commits with it
//! through the `lore` library itself: that is the attack done for real, not simulated.
//!
//! The two tests at the end are bugs these attacks found: setup keeping an unverified tip in a
//! ref, and a rotation racing another member's push.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{Run, User, World, write_transcript};
use lore::crypto::{DataKey, Manifest};

const PASS: &str = "a passphrase for the team";
const NEW_PASS: &str = "the passphrase after carol left";

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";
const S3: &str = "33333333-3333-4333-8333-333333333333";
/// A session of another project, never in the store.
const OUTSIDE: &str = "0e0e0e0e-0000-4000-8000-000000000000";
const FORGED: &str = "f0f0f0f0-0000-4000-8000-0000000000ff";

/// The lines of every format-2 ciphertext commit after its `tree` and `parent` lines.
const LORE_REST: &[u8] =
    b"author lore <lore@localhost> 0 +0000\ncommitter lore <lore@localhost> 0 +0000\n\nlore\n";

// ---------------------------------------------------------------------------------------------
// The host: the bare remote, edited with git plumbing, without any key.
// ---------------------------------------------------------------------------------------------

/// The git host. Everything it does is plain git on the bare repository: objects written with
/// `hash-object`, trees through a temporary index, raw commits, `update-ref`.
struct Host {
    bare: PathBuf,
    /// The tip the honest members pushed last ([`Host::remember`]), to put back after an attack.
    honest: Option<String>,
}

/// A tree as the host sees it, flattened: path → (mode, object id).
type Files = BTreeMap<String, (String, String)>;

impl Host {
    fn new(bare: &Path) -> Host {
        Host {
            bare: bare.to_path_buf(),
            honest: None,
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new("git");
        c.args(args)
            .current_dir(&self.bare)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        c
    }

    /// `git ARGS` in the bare repository; its stdout, trimmed. Panics when git fails.
    fn git(&self, args: &[&str]) -> String {
        self.git_in(args, None, &[])
    }

    /// `git ARGS` with `input` on stdin and `vars` in the environment.
    fn git_in(&self, args: &[&str], input: Option<&[u8]>, vars: &[(&str, &str)]) -> String {
        use std::io::Write as _;
        let mut c = self.command(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().expect("spawn git");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.unwrap_or_default()).expect("stdin");
        drop(stdin);
        let out = child.wait_with_output().expect("git");
        assert!(
            out.status.success(),
            "host: git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }

    /// The commit `refs/lore/sessions` points at.
    fn tip(&self) -> String {
        self.git(&["rev-parse", "--verify", "refs/lore/sessions"])
    }

    /// Remembers the current tip as the honest one.
    fn remember(&mut self) -> String {
        let tip = self.tip();
        self.honest = Some(tip.clone());
        tip
    }

    /// Points `refs/lore/sessions` at `commit`, whatever it held.
    fn set_tip(&self, commit: &str) {
        self.git(&["update-ref", "refs/lore/sessions", commit]);
    }

    /// Serves the honest tip again.
    fn restore(&self) {
        self.set_tip(
            self.honest
                .as_deref()
                .expect("an honest tip was remembered"),
        );
    }

    /// `rev`'s object id (`<commit>~1`, `<commit>:sessions`, ...).
    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", rev])
    }

    /// Every file of commit `commit`'s tree.
    fn files(&self, commit: &str) -> Files {
        let listing = self.git(&["ls-tree", "-r", "-z", commit]);
        let mut files = Files::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            let (meta, path) = entry.split_once('\t').expect("ls-tree line");
            let mut parts = meta.split_whitespace();
            let mode = parts.next().expect("mode").to_owned();
            let _kind = parts.next();
            let oid = parts.next().expect("oid").to_owned();
            files.insert(path.to_owned(), (mode, oid));
        }
        files
    }

    /// The bytes of blob `oid`.
    fn blob(&self, oid: &str) -> Vec<u8> {
        let out = self
            .command(&["cat-file", "blob", oid])
            .output()
            .expect("git cat-file");
        assert!(out.status.success());
        out.stdout
    }

    /// Writes `bytes` as a blob; its id.
    fn write_blob(&self, bytes: &[u8]) -> String {
        self.git_in(&["hash-object", "-w", "--stdin"], Some(bytes), &[])
    }

    /// Writes the tree of `files` through a temporary index; its id.
    fn write_tree(&self, files: &Files) -> String {
        let index = self.bare.join(format!("host-index-{}", std::process::id()));
        let _ = std::fs::remove_file(&index);
        let vars = [("GIT_INDEX_FILE", index.to_str().expect("utf-8"))];
        let mut info = String::new();
        for (path, (mode, oid)) in files {
            info.push_str(&format!("{mode} {oid}\t{path}\n"));
        }
        self.git_in(
            &["update-index", "--index-info"],
            Some(info.as_bytes()),
            &vars,
        );
        let tree = self.git_in(&["write-tree"], None, &vars);
        let _ = std::fs::remove_file(&index);
        tree
    }

    /// Writes a raw commit: `tree`, `parents`, then `rest` (author, committer, message) as
    /// given, byte for byte; its id.
    fn write_commit(&self, tree: &str, parents: &[&str], rest: &[u8]) -> String {
        let mut raw = format!("tree {tree}\n").into_bytes();
        for p in parents {
            raw.extend_from_slice(format!("parent {p}\n").as_bytes());
        }
        raw.extend_from_slice(rest);
        self.git_in(
            &[
                "hash-object",
                "-t",
                "commit",
                "-w",
                "--literally",
                "--stdin",
            ],
            Some(&raw),
            &[],
        )
    }

    /// A new commit on top of the tip, with lore's own fixed lines, whose files are the tip's
    /// as `edit` changed them; it becomes the tip. Returns it.
    fn amend(&self, edit: impl FnOnce(&mut Files)) -> String {
        let tip = self.tip();
        let mut files = self.files(&tip);
        edit(&mut files);
        let tree = self.write_tree(&files);
        let commit = self.write_commit(&tree, &[&tip], LORE_REST);
        self.set_tip(&commit);
        commit
    }

    /// The ciphertext files of session `id` (its `.enc` and `.meta.json`) in `files`.
    fn session_files(files: &Files, id: &str) -> Vec<String> {
        let found: Vec<String> = files
            .keys()
            .filter(|p| {
                p.ends_with(&format!("/{id}.enc")) || p.ends_with(&format!("/{id}.meta.json"))
            })
            .cloned()
            .collect();
        assert_eq!(found.len(), 2, "session {id} in {files:?}");
        found
    }
}

// ---------------------------------------------------------------------------------------------
// A former member who kept the data key of before a rotation.
// ---------------------------------------------------------------------------------------------

/// Seals commits with a key read from a (former) member's key file: correctly sealed records
/// and manifests, as only a key holder can write them.
struct Forger {
    key: DataKey,
    store_id: [u8; 16],
}

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    assert_eq!(s.len(), 2 * N, "{s}");
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

/// The data key in key file `path` (`{"format":1,"store_id":…,"key_id":…,"key":"<b64>"}`).
fn read_key_file(path: &Path) -> DataKey {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("key file json");
    let master = base64::engine::general_purpose::STANDARD
        .decode(v["key"].as_str().expect("key"))
        .expect("base64");
    let master: [u8; 32] = master.as_slice().try_into().expect("32 bytes");
    DataKey::from_parts(unhex(v["key_id"].as_str().expect("key_id")), &master)
}

impl Forger {
    /// The key `user` holds as the current key of store `store_id_hex`.
    fn from_member(user: &User, store_id_hex: &str) -> Forger {
        let key = read_key_file(
            &user
                .lore_home
                .join("keys")
                .join(format!("{store_id_hex}.key")),
        );
        Forger {
            key,
            store_id: unhex(store_id_hex),
        }
    }

    /// Adds to `files` session `id` with record `record` (its canonical JSON), sealed.
    fn add_record(&self, host: &Host, files: &mut Files, id: &str, record: &[u8]) {
        let meta = lore::gitstore::record::meta_of(record, id)
            .expect("a valid record")
            .to_bytes();
        let enc = lore::crypto::seal(&self.key, &self.store_id, id, &meta, record).expect("seal");
        let folder = lore::gitstore::record_path(id);
        let folder = folder.rsplit_once('/').expect("folder").0.to_owned();
        for (name, bytes) in [
            (format!("{id}.enc"), enc),
            (format!("{id}.meta.json"), meta),
        ] {
            let oid = host.write_blob(&bytes);
            files.insert(format!("{folder}/{name}"), ("100644".into(), oid));
        }
    }

    /// Writes a ciphertext commit of `files` (a header and sessions, no manifest) on top of
    /// `parent`, with a manifest sealed under this key for key epoch `epoch`, chained to the
    /// parent's manifest exactly as lore chains them. Returns the commit.
    fn commit(&self, host: &Host, mut files: Files, parent: &str, epoch: u64) -> String {
        files.remove("lore-manifest");
        let parent_manifest = host.blob(&host.rev(&format!("{parent}:lore-manifest")));
        let parent_seq = lore::crypto::read_prefix(&parent_manifest)
            .expect("a manifest")
            .seq;
        let without = host.write_tree(&files);
        let sessions = host.rev(&format!("{without}:sessions"));
        let manifest = Manifest {
            epoch,
            seq: parent_seq + 1,
            parents: vec![parent.to_owned()],
            header: files["lore-store.json"].1.clone(),
            sessions: Some(sessions),
            commit: b"author lore <lore@localhost> 1700000000 +0000\ncommitter lore <lore@localhost> 1700000000 +0000\n\nlore: sync 2 sessions\n".to_vec(),
        };
        let sealed =
            lore::crypto::seal_manifest(&self.key, &self.store_id, &manifest).expect("seal");
        files.insert(
            "lore-manifest".into(),
            ("100644".into(), host.write_blob(&sealed)),
        );
        let tree = host.write_tree(&files);
        host.write_commit(&tree, &[parent], LORE_REST)
    }
}

/// `JCS(value)`.
fn canonical(value: &serde_json::Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("canonical json")
}

// ---------------------------------------------------------------------------------------------
// The members.
// ---------------------------------------------------------------------------------------------

struct Member {
    user: User,
    repo: PathBuf,
}

/// What a refused sync must leave exactly as it was.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    db: String,
    refs: String,
}

fn canonical_path(p: &Path) -> String {
    std::fs::canonicalize(p)
        .expect("canonicalize")
        .to_str()
        .expect("utf-8")
        .to_owned()
}

/// The first member: creates the repository (pushed to `remote`) and the store.
fn founder(world: &World, remote: &Path) -> Member {
    let user = world.user("alice");
    let repo = user.first_repo(remote);
    user.setup(&repo, PASS).assert_ok();
    Member { user, repo }
}

/// Another member: a plain clone of `remote`, then `lore sync setup` with `pass`.
fn joiner(world: &World, remote: &Path, name: &str, pass: &str) -> Member {
    let user = world.user(name);
    let repo = user.clone(remote.to_str().expect("utf-8"), "repo");
    let r = user.setup(&repo, pass);
    r.assert_ok();
    Member { user, repo }
}

impl Member {
    /// Imports session `id` of this repository with `turns` prompt/reply pairs.
    fn work(&self, id: &str, word: &str, turns: u32) {
        let dir = self.user.root.join("transcripts").join(id);
        let _ = std::fs::remove_dir_all(&dir);
        let path = write_transcript(&dir, id, word, &canonical_path(&self.repo));
        let text = common::claude_transcript(id, turns, word)
            .replace("/home/dev/acme", &canonical_path(&self.repo));
        std::fs::write(&path, text).expect("write transcript");
        self.user
            .lore(&self.repo, &["import", dir.to_str().expect("utf-8")])
            .assert_ok();
    }

    /// Gives a newcomer a lore.db (none exists until a command writes one), holding one
    /// session of another project ([`OUTSIDE`]), so that [`Member::snapshot`] can read it.
    fn init_db(&self) {
        let dir = self.user.root.join("outside-transcripts");
        write_transcript(&dir, OUTSIDE, "another project", "/home/someone/elsewhere");
        self.user
            .lore(&self.repo, &["import", dir.to_str().expect("utf-8")])
            .assert_ok();
        assert!(self.user.lore_home.join("lore.db").is_file());
        assert!(self.ids().is_empty());
    }

    /// `lore sync`, as it went.
    fn try_sync(&self) -> Run {
        self.user.lore(&self.repo, &["sync"])
    }

    /// `lore sync`, which must succeed.
    #[track_caller]
    fn sync(&self) -> Run {
        let r = self.try_sync();
        r.assert_ok();
        r
    }

    /// The sessions of this repository in lore.db (all but [`OUTSIDE`]), sorted.
    fn ids(&self) -> Vec<String> {
        let r = self
            .user
            .lore(&self.repo, &["sessions", "--json", "-n", "0"]);
        r.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        let v = v["sessions"].as_array().expect("sessions");
        let mut ids: Vec<String> = v
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_owned())
            .filter(|id| id != OUTSIDE)
            .collect();
        ids.sort();
        ids
    }

    /// `lore show ID --json`'s messages.
    fn messages(&self, id: &str) -> serde_json::Value {
        let r = self.user.lore(&self.repo, &["show", id, "--json"]);
        r.assert_ok();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        v["messages"].clone()
    }

    /// The local plaintext store's files.
    fn store_tree(&self) -> String {
        self.user
            .git(&self.repo, &["ls-tree", "-r", "refs/lore/sessions"])
            .stdout
    }

    fn git(&self, args: &[&str]) -> Run {
        self.user.git(&self.repo, args)
    }

    /// lore.db's content and every local ref.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            db: common::digest_db(&self.user.lore_home.join("lore.db")),
            refs: self.git(&["for-each-ref"]).stdout,
        }
    }

    /// The store's id, from the local store's header.
    fn store_id(&self) -> String {
        let header = self
            .git(&["show", "refs/lore/sessions:lore-store.json"])
            .stdout;
        let v: serde_json::Value = serde_json::from_str(&header).expect("header json");
        v["store_id"].as_str().expect("store_id").to_owned()
    }
}

/// `member`'s `lore sync` is refused: it fails with exactly one line holding every one of
/// `words`, and lore.db and every local ref are as they were.
#[track_caller]
fn assert_refused(member: &Member, words: &[&str]) -> Run {
    let before = member.snapshot();
    let r = member.try_sync();
    assert_refused_run(member, &r, words);
    assert_eq!(
        member.snapshot(),
        before,
        "{}'s refused sync changed something:\n{}",
        member.user.name,
        r.stderr
    );
    r
}

/// `r` failed, and exactly one line of its stderr holds every one of `words`.
#[track_caller]
fn assert_refused_run(member: &Member, r: &Run, words: &[&str]) {
    assert!(
        !r.ok,
        "{}'s sync should have been refused:\n{}\n{}",
        member.user.name, r.stdout, r.stderr
    );
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| words.iter().all(|w| l.contains(w)))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{}: expected one line with {words:?} in:\n{}",
        member.user.name,
        r.stderr
    );
    // That line, and at most lore's own line saying which step failed: no noise.
    assert!(
        r.stderr.lines().count() <= 2,
        "{}: more than the refusal was said:\n{}",
        member.user.name,
        r.stderr
    );
}

/// Every member syncs (twice round) and all hold exactly `expected`, in identical stores.
#[track_caller]
fn assert_converged(members: &[&Member], expected: &[&str]) {
    for _ in 0..2 {
        for m in members {
            m.sync();
        }
    }
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    for m in members {
        assert_eq!(m.ids(), expected, "{}", m.user.name);
        assert_eq!(m.store_tree(), members[0].store_tree(), "{}", m.user.name);
    }
}

/// `lore sync rotate` with `pass` as the new passphrase.
fn rotate(member: &Member, pass: &str) {
    let r = member.user.lore_input(
        &member.repo,
        &["sync", "rotate", "--passphrase-stdin"],
        &format!("{pass}\n"),
    );
    r.assert_ok();
    assert!(r.stdout.contains("Data key rotated."), "{}", r.stdout);
}

/// Alice (session S1) and Bob (session S2), both synced: each holds both.
fn pair(world: &World, remote: &Path) -> (Member, Member) {
    let alice = founder(world, remote);
    alice.work(S1, "parser", 1);
    alice.sync();
    let bob = joiner(world, remote, "bob", PASS);
    bob.work(S2, "cache", 1);
    bob.sync();
    alice.sync();
    assert_eq!(alice.ids(), vec![S1.to_owned(), S2.to_owned()]);
    assert_eq!(bob.ids(), vec![S1.to_owned(), S2.to_owned()]);
    (alice, bob)
}

// ---------------------------------------------------------------------------------------------
// Scenarios and records shared by the attacks.
// ---------------------------------------------------------------------------------------------

/// Alice (S1), Bob and Carol (S2), all synced; then Carol leaves: Alice rotates under
/// [`NEW_PASS`] and syncs, Bob sets up again with it and syncs. Returns them, the host (the
/// tip after Bob's sync remembered as honest) and the remote's tip from before the rotation.
fn rotated_trio(world: &World, remote: &Path) -> (Member, Member, Member, Host, String) {
    let alice = founder(world, remote);
    alice.work(S1, "parser", 1);
    alice.sync();
    let bob = joiner(world, remote, "bob", PASS);
    let carol = joiner(world, remote, "carol", PASS);
    carol.work(S2, "cache", 1);
    carol.sync();
    bob.sync();
    alice.sync();
    let mut host = Host::new(remote);
    let before = host.tip();
    rotate(&alice, NEW_PASS);
    alice.sync();
    bob.user.setup(&bob.repo, NEW_PASS).assert_ok();
    bob.sync();
    for m in [&alice, &bob] {
        assert_eq!(
            m.ids(),
            vec![S1.to_owned(), S2.to_owned()],
            "{}",
            m.user.name
        );
    }
    let header: serde_json::Value =
        serde_json::from_slice(&host.blob(&host.rev("refs/lore/sessions:lore-store.json")))
            .expect("header");
    assert_eq!(header["epoch"], 2, "{header}");
    host.remember();
    (alice, bob, carol, host, before)
}

/// A session record like `base` (a record of this store) but for session `id`, titled `title`.
fn record_like(base: &[u8], id: &str, title: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(base).expect("record json");
    v["session"]["id"] = serde_json::Value::from(id);
    v["session"]["title"] = serde_json::Value::from(title);
    canonical(&v)
}

/// A tombstone of session `id`, as lore writes it.
fn tombstone(id: &str, deleted_at: u64) -> Vec<u8> {
    canonical(&serde_json::json!({
        "format": 1, "kind": "tombstone", "id": id, "deleted_at": deleted_at,
    }))
}

/// The format-1 header of the same store and key as the format-3 header `header3`, as lore
/// wrote it before store format 2: no `epoch`, no `previous_keys`, the v1 key check.
fn format1_header(header3: &serde_json::Value, key: &DataKey) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut h = header3.clone();
    let obj = h.as_object_mut().expect("header object");
    obj.remove("epoch").expect("epoch");
    let previous = obj.remove("previous_keys").expect("previous_keys");
    assert_eq!(previous, serde_json::json!([]));
    obj.insert("format".into(), 1.into());
    let store_id: [u8; 16] = unhex(obj["store_id"].as_str().expect("store_id"));
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.master()).expect("hmac key");
    mac.update(b"lore.key-check.v1");
    mac.update(&store_id);
    let check: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    obj.insert("key_check".into(), check.into());
    let bytes = canonical(&h);
    // lore itself reads it as a format-1 header of this key.
    let parsed = lore::crypto::StoreHeader::parse(&bytes).expect("a format-1 header");
    assert_eq!(parsed.format(), 1);
    parsed.verify_key(key).expect("the key check");
    bytes
}

// ---------------------------------------------------------------------------------------------
// The attacks, one test each.
// ---------------------------------------------------------------------------------------------

/// Attack 1 (rotation undone): the host serving the pre-rotation store on top of the tip, and Carol
/// (removed, with the old key) forging correctly sealed epoch-1 commits, on top of the tip or
/// of the last commit before the rotation, are all refused by the members who have seen the
/// rotation; nothing forged reaches their lore.db.
#[test]
fn a_rotation_cannot_be_undone_by_the_host_or_a_former_member() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob, carol, host, before) = rotated_trio(&world, &remote);
    let honest = host.tip();
    let old_files = host.files(&before);

    // (a) The host: a new commit on top of the tip whose tree is the pre-rotation tree.
    host.amend(|files| *files = old_files.clone());
    for m in [&alice, &bob] {
        assert_refused(m, &["refused commit", "key epoch 1", "older than epoch 2"]);
    }
    host.restore();

    // (b) Carol, with the key she kept: the old header, the old sessions, a forged session and
    // a tombstone deleting S1, all sealed under the old key, on top of the current tip.
    let forger = Forger::from_member(&carol.user, &carol.store_id());
    let base = carol
        .git(&[
            "show",
            &format!("refs/lore/sessions:{}", lore::gitstore::record_path(S2)),
        ])
        .stdout;
    let forged_files = || {
        let mut files = old_files.clone();
        forger.add_record(
            &host,
            &mut files,
            FORGED,
            &record_like(base.as_bytes(), FORGED, "forged by carol"),
        );
        forger.add_record(&host, &mut files, S1, &tombstone(S1, 4_000_000_000_000));
        files
    };
    let on_tip = forger.commit(&host, forged_files(), &honest, 1);
    host.set_tip(&on_tip);
    for m in [&alice, &bob] {
        assert_refused(m, &["refused commit", "key epoch 1", "older than epoch 2"]);
    }
    host.restore();

    // (c) The same on top of the last commit before the rotation, as the remote's tip.
    let beside = forger.commit(&host, forged_files(), &before, 1);
    host.set_tip(&beside);
    for m in [&alice, &bob] {
        assert_refused(m, &["does not descend", "rewritten or replaced"]);
        // Even a reset accepted on purpose never brings back a retired key.
        m.git(&["config", "lore.allowRollback", "true"]).assert_ok();
        assert_refused(m, &["refused commit", "key epoch 1", "older than epoch 2"]);
        m.git(&["config", "--unset", "lore.allowRollback"])
            .assert_ok();
        assert_eq!(
            m.ids(),
            vec![S1.to_owned(), S2.to_owned()],
            "{}",
            m.user.name
        );
    }
    // The forgery itself is sound: Carol, who never saw the rotation, takes it (the limit
    // docs/sync.md states: a member who has not synced since can be shown the old store).
    carol.sync();
    assert_eq!(carol.ids(), vec![S2.to_owned(), FORGED.to_owned()]);

    host.restore();
    assert_converged(&[&alice, &bob], &[S1, S2]);
    for m in [&alice, &bob] {
        let tree = m.store_tree();
        assert!(!tree.contains(FORGED), "{}: {tree}", m.user.name);
    }
}

/// Attack 2 (withholding): a new commit that leaves out one session's files (with the manifest of the
/// commit below, or with no manifest at all) is refused by every member, the session's author
/// included, and nobody's lore.db loses it.
#[test]
fn a_withheld_session_is_refused() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    host.remember();

    // S1's files gone, the manifest blob kept as it was.
    host.amend(|files| {
        for p in Host::session_files(files, S1) {
            files.remove(&p);
        }
    });
    for m in [&alice, &bob] {
        assert_refused(
            m,
            &[
                "refused commit",
                "sessions are not the ones its manifest names",
            ],
        );
    }
    host.restore();

    // The same with the manifest gone too.
    host.amend(|files| {
        for p in Host::session_files(files, S1) {
            files.remove(&p);
        }
        files.remove("lore-manifest").expect("a manifest");
    });
    for m in [&alice, &bob] {
        assert_refused(m, &["refused commit", "no lore-manifest"]);
    }
    host.restore();

    assert_converged(&[&alice, &bob], &[S1, S2]);
    assert!(
        host.files(&host.tip())
            .keys()
            .any(|p| p.ends_with(&format!("{S1}.enc"))),
        "the remote holds S1"
    );
}

/// Attack 3 (replay): a new commit that puts back an older version of a session that has changed
/// since is refused, by members and by a newcomer alike.
#[test]
fn a_replayed_older_version_of_a_session_is_refused() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    let old = host.remember();
    let old_files = host.files(&old);
    // Alice goes on with S1; everyone has the new version.
    alice.work(S1, "parser", 3);
    alice.sync();
    bob.sync();
    let new_messages = alice.messages(S1);
    assert_eq!(new_messages.as_array().expect("messages").len(), 6);
    assert_eq!(bob.messages(S1), new_messages);
    host.remember();

    // The host puts back the old .enc and .meta.json of S1 (both correctly sealed, once).
    host.amend(|files| {
        for p in Host::session_files(files, S1) {
            let before = old_files[&p].clone();
            assert_ne!(files[&p], before, "{p} changed since");
            files.insert(p, before);
        }
    });
    for m in [&alice, &bob] {
        assert_refused(
            m,
            &[
                "refused commit",
                "sessions are not the ones its manifest names",
            ],
        );
    }
    // A newcomer, who has never seen the newer version, is not fooled either.
    let carol = joiner(&world, &remote, "carol", PASS);
    carol.init_db();
    assert_refused(
        &carol,
        &[
            "refused commit",
            "sessions are not the ones its manifest names",
        ],
    );
    assert!(carol.ids().is_empty());

    host.restore();
    assert_converged(&[&alice, &bob, &carol], &[S1, S2]);
    for m in [&bob, &carol] {
        assert_eq!(m.messages(S1), new_messages, "{}", m.user.name);
    }
}

/// Attack 4 (unrelated history): a new parentless history holding only the header (with or without
/// the tip's manifest) is refused by members who synced before, and, for want of a manifest
/// that names it, by a newcomer and by `lore.allowRollback` too.
#[test]
fn an_unrelated_history_is_refused() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    let tip = host.remember();
    let files = host.files(&tip);
    let carol = joiner(&world, &remote, "carol", PASS);
    carol.init_db();

    // Only the header, in a commit of its own.
    let only_header: Files = files
        .iter()
        .filter(|(p, _)| *p == "lore-store.json")
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    let tree = host.write_tree(&only_header);
    host.set_tip(&host.write_commit(&tree, &[], LORE_REST));
    for m in [&alice, &bob] {
        assert_refused(m, &["does not descend", "rewritten or replaced"]);
    }
    assert_refused(&carol, &["refused commit", "no lore-manifest"]);
    // Accepting a rewritten history on purpose skips the descent check, nothing else.
    bob.git(&["config", "lore.allowRollback", "true"])
        .assert_ok();
    assert_refused(&bob, &["refused commit", "no lore-manifest"]);
    bob.git(&["config", "--unset", "lore.allowRollback"])
        .assert_ok();

    // The header with the tip's own manifest.
    let mut with_manifest = only_header.clone();
    with_manifest.insert("lore-manifest".into(), files["lore-manifest"].clone());
    let tree = host.write_tree(&with_manifest);
    host.set_tip(&host.write_commit(&tree, &[], LORE_REST));
    for m in [&alice, &bob] {
        assert_refused(m, &["does not descend", "rewritten or replaced"]);
    }
    assert_refused(
        &carol,
        &[
            "refused commit",
            "sessions are not the ones its manifest names",
        ],
    );
    bob.git(&["config", "lore.allowRollback", "true"])
        .assert_ok();
    assert_refused(
        &bob,
        &[
            "refused commit",
            "sessions are not the ones its manifest names",
        ],
    );
    bob.git(&["config", "--unset", "lore.allowRollback"])
        .assert_ok();

    host.restore();
    assert_converged(&[&bob, &carol, &alice], &[S1, S2]);
}

/// Attack 5 (rollback): the ref moved back to an ancestor is refused; `lore.allowRollback` accepts it
/// (and the next push puts the newer state back), but never a commit of an older key epoch.
#[test]
fn a_rollback_is_refused_and_allow_rollback_never_accepts_an_older_epoch() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    alice.work(S3, "lock", 1);
    alice.sync();
    bob.sync();
    let honest = host.remember();

    host.set_tip(&host.rev(&format!("{honest}~1")));
    for m in [&alice, &bob] {
        assert_refused(m, &["went back from", "rolled it back"]);
    }
    // Knowingly accepted: the sync goes on, and its push brings the newer state back (the
    // same commit: translation is deterministic).
    bob.git(&["config", "lore.allowRollback", "true"])
        .assert_ok();
    bob.sync();
    bob.git(&["config", "--unset", "lore.allowRollback"])
        .assert_ok();
    assert_eq!(host.tip(), honest);
    assert_eq!(bob.ids(), vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]);

    // A rotation; then the host serves the store of before it.
    let before_rotation = host.tip();
    rotate(&alice, NEW_PASS);
    alice.sync();
    bob.user.setup(&bob.repo, NEW_PASS).assert_ok();
    bob.sync();
    host.remember();
    host.set_tip(&before_rotation);
    for m in [&alice, &bob] {
        assert_refused(m, &["went back from", "rolled it back"]);
        m.git(&["config", "lore.allowRollback", "true"]).assert_ok();
        assert_refused(m, &["key epoch 1", "older than epoch 2"]);
        m.git(&["config", "--unset", "lore.allowRollback"])
            .assert_ok();
        // And the same through git itself.
        let refs = m.git(&["for-each-ref"]).stdout;
        let r = m.git(&[
            "-c",
            "lore.allowRollback=true",
            "fetch",
            "lore::origin",
            "+refs/lore/sessions:refs/lore/rolled-back",
        ]);
        assert_refused_run(m, &r, &["key epoch 1", "older than epoch 2"]);
        assert_eq!(m.git(&["for-each-ref"]).stdout, refs);
    }

    host.restore();
    assert_converged(&[&alice, &bob], &[S1, S2, S3]);
}

/// Attack 6 (old passphrase): after `lore sync passphrase`, a CI job still using the old passphrase
/// (LORE_PASSPHRASE, no key stored) is refused and writes nothing; with the new one it works.
#[test]
fn the_old_passphrase_no_longer_opens_the_store() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, _bob) = pair(&world, &remote);
    // The CI job: a clone through the helper with the passphrase in the environment, then
    // `lore sync` (no setup, no key stored).
    let mut ci_user = world.user("ci");
    ci_user.env.push(("LORE_PASSPHRASE".into(), PASS.into()));
    let clone = ci_user.root.join("clone");
    ci_user
        .git(
            &ci_user.root,
            &[
                "clone",
                "-q",
                &format!("lore::{}", remote.display()),
                clone.to_str().expect("utf-8"),
            ],
        )
        .assert_ok();
    let ci = Member {
        user: ci_user,
        repo: clone,
    };
    ci.sync();
    assert_eq!(ci.ids(), vec![S1.to_owned(), S2.to_owned()]);
    assert!(
        !ci.user.lore_home.join("keys").exists(),
        "the CI job stored a key"
    );

    let r = alice.user.lore_input(
        &alice.repo,
        &["sync", "passphrase", "--passphrase-stdin"],
        "the new team passphrase\n",
    );
    r.assert_ok();
    assert!(
        r.stdout.contains("does not lock out anyone"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("rotate"), "{}", r.stdout);
    alice.work(S3, "after the change", 1);
    alice.sync();

    // The old passphrase opens the old header in the history, never the tip's.
    assert_refused(&ci, &["LORE_PASSPHRASE is not the passphrase"]);
    assert!(!ci.user.lore_home.join("keys").exists());
    // The CI recipe in a fresh workspace: refused, nothing written.
    let work = world.path("ci-work");
    ci.user
        .git(
            world.dir.path(),
            &["init", "-q", work.to_str().expect("utf-8")],
        )
        .assert_ok();
    let url = format!("lore::{}", remote.display());
    let r = ci.user.git(
        &work,
        &["fetch", &url, "refs/lore/sessions:refs/lore/sessions"],
    );
    assert_refused_run(&ci, &r, &["LORE_PASSPHRASE is not the passphrase"]);
    assert_eq!(ci.user.git(&work, &["for-each-ref"]).stdout, "");

    // With the new passphrase the same job works.
    let mut ci = ci;
    ci.user.env = vec![("LORE_PASSPHRASE".into(), "the new team passphrase".into())];
    ci.sync();
    assert_eq!(ci.ids(), vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]);
    let r = ci.user.git(
        &work,
        &["fetch", "-q", &url, "refs/lore/sessions:refs/lore/sessions"],
    );
    r.assert_ok();
    assert!(ci.user.rev(&work, "refs/lore/sessions").is_some());
}

/// Attack 7 (host-written commit lines): a commit whose author and message carry a terminal escape is
/// refused, and none of its bytes reach a local ref.
#[test]
fn host_written_commit_lines_are_refused_and_never_copied() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    let tip = host.remember();
    let tree = host.rev(&format!("{tip}^{{tree}}"));
    let carol = joiner(&world, &remote, "carol", PASS);
    carol.init_db();
    let evil: &[u8] = b"author \x1b]0;owned by the host\x07 <host@example.com> 1700000000 +0000\ncommitter lore <lore@localhost> 0 +0000\n\nlore \x1b]0;owned by the host\x07\n";

    // On top of the tip, with the tip's tree.
    host.set_tip(&host.write_commit(&tree, &[&tip], evil));
    for m in [&alice, &bob] {
        let r = assert_refused(
            m,
            &[
                "refused commit",
                "author, committer or message lines are not lore's",
            ],
        );
        assert!(!r.stderr.contains('\x1b'), "{}", r.stderr);
    }
    // In the tip's place (same tree, same parent), for a newcomer (set up, never synced) who
    // has no tip to compare.
    let parent = host.rev(&format!("{tip}~1"));
    host.set_tip(&host.write_commit(&tree, &[&parent], evil));
    assert_refused(
        &carol,
        &[
            "refused commit",
            "author, committer or message lines are not lore's",
        ],
    );

    for m in [&alice, &bob, &carol] {
        let log = m.git(&["log", "--format=raw", "--all"]);
        log.assert_ok();
        assert!(
            !log.stdout.contains('\x1b') && !log.stdout.contains("owned by the host"),
            "{}: {}",
            m.user.name,
            log.stdout
        );
    }
    host.restore();
    assert_converged(&[&alice, &bob, &carol], &[S1, S2]);
    for m in [&alice, &bob, &carol] {
        let log = m.git(&["log", "--format=raw", "--all"]).stdout;
        assert!(!log.contains("owned by the host"), "{}", m.user.name);
    }
}

/// Attack 8 (extra refs): refs under `refs/lore/` on the remote are never fetched: not by `lore sync`, not
/// by a `git fetch` of every ref through the helper.
#[test]
fn extra_refs_under_refs_lore_are_never_fetched() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let host = Host::new(&remote);
    // A commit of plaintext, as if pushed there by mistake or planted, under several names
    // that mean something to lore locally.
    let blob = host.write_blob(b"canary-evil-5581 planted by the host\n");
    let mut files = Files::new();
    files.insert("planted.txt".into(), ("100644".into(), blob));
    let tree = host.write_tree(&files);
    let evil = host.write_commit(&tree, &[], LORE_REST);
    let names = [
        "refs/lore/evil",
        "refs/lore/remotes/origin/sessions",
        "refs/lore/wire/origin/sessions",
        "refs/lore/merged/origin/sessions",
    ];
    for name in names {
        host.git(&["update-ref", name, &evil]);
    }

    let derived = |m: &Member| {
        let refs = m.git(&["for-each-ref"]).stdout;
        assert!(!refs.contains(&evil), "{}: {refs}", m.user.name);
        assert!(!refs.contains("evil"), "{}: {refs}", m.user.name);
        assert!(
            !m.git(&["cat-file", "-e", &evil]).ok,
            "{}: the planted commit was fetched",
            m.user.name
        );
    };
    bob.work(S3, "lock", 1);
    bob.sync();
    alice.sync();
    for m in [&alice, &bob] {
        derived(m);
    }
    for m in [&alice, &bob] {
        m.git(&["fetch", "-q", "lore::origin", "refs/*:refs/x/*"])
            .assert_ok();
        derived(m);
        let refs = m
            .git(&["for-each-ref", "--format=%(refname)", "refs/x/"])
            .stdout;
        let refs: Vec<&str> = refs.lines().collect();
        assert_eq!(
            refs,
            ["refs/x/heads/main", "refs/x/lore/sessions"],
            "{}",
            m.user.name
        );
    }
    assert_converged(&[&alice, &bob], &[S1, S2, S3]);
}

/// Attack 9 (format 1): a store written by lore before store format 2 is upgraded by the first
/// sync of a member with the key, while a second member syncs at the same time; then a
/// format-1 commit on top, or a rollback to the format-1 tip, is refused by both.
#[test]
fn a_format_1_store_is_upgraded_and_never_goes_back() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    let store_id = alice.store_id();
    let header3: serde_json::Value = serde_json::from_str(
        &alice
            .git(&["show", "refs/lore/sessions:lore-store.json"])
            .stdout,
    )
    .expect("header");
    let key = read_key_file(
        &alice
            .user
            .lore_home
            .join("keys")
            .join(format!("{store_id}.key")),
    );
    // Alice's store as lore before format 2 made it: a parentless commit holding a format-1
    // header, and no record of any epoch on her machine.
    let local = Host::new(&alice.repo.join(".git"));
    let mut files = Files::new();
    files.insert(
        "lore-store.json".into(),
        (
            "100644".into(),
            local.write_blob(&format1_header(&header3, &key)),
        ),
    );
    let tree = local.write_tree(&files);
    let created = local.write_commit(
        &tree,
        &[],
        b"author lore <lore@localhost> 1700000000 +0000\ncommitter lore <lore@localhost> 1700000000 +0000\n\nlore: create store\n",
    );
    local.set_tip(&created);
    std::fs::remove_dir_all(alice.user.lore_home.join("stores")).expect("stores/");
    alice.work(S1, "parser", 1);
    alice
        .user
        .lore(&alice.repo, &["sync", "export", "--all"])
        .assert_ok();
    alice
        .git(&["push", "-q", "lore::origin", "refs/lore/sessions"])
        .assert_ok();
    let mut host = Host::new(&remote);
    let format1_tip = host.tip();
    let header_of = |host: &Host, commit: &str| -> serde_json::Value {
        serde_json::from_slice(&host.blob(&host.rev(&format!("{commit}:lore-store.json"))))
            .expect("header")
    };
    assert_eq!(header_of(&host, &format1_tip)["format"], 1);
    assert!(!host.files(&format1_tip).contains_key("lore-manifest"));

    // Bob joins the format-1 store; then both sync at once, and again until quiet.
    let bob = joiner(&world, &remote, "bob", PASS);
    bob.work(S2, "cache", 1);
    std::thread::scope(|s| {
        s.spawn(|| alice.sync());
        s.spawn(|| bob.sync());
    });
    assert_converged(&[&alice, &bob], &[S1, S2]);
    let tip = host.remember();
    let header = header_of(&host, &tip);
    assert_eq!(header["format"], 3, "{header}");
    assert_eq!(header["epoch"], 1, "{header}");
    assert!(host.files(&tip).contains_key("lore-manifest"));
    for m in [&alice, &bob] {
        let record = m
            .user
            .lore_home
            .join("stores")
            .join(format!("{store_id}.json"));
        assert!(record.is_file(), "{}: no epoch record", m.user.name);
    }

    // A format-1 commit on top of the upgraded store.
    let tree = host.write_tree(&host.files(&format1_tip));
    let on_top = host.write_commit(
        &tree,
        &[&tip],
        b"author lore <lore@localhost> 1700000001 +0000\ncommitter lore <lore@localhost> 1700000001 +0000\n\nlore: sync 1 session\n",
    );
    host.set_tip(&on_top);
    for m in [&alice, &bob] {
        assert_refused(m, &["refused commit", "format 1", "format 2"]);
    }
    // The ref back at the format-1 tip: a rollback, and never accepted, even on purpose.
    host.set_tip(&format1_tip);
    for m in [&alice, &bob] {
        assert_refused(m, &["went back from", "rolled it back"]);
        m.git(&["config", "lore.allowRollback", "true"]).assert_ok();
        assert_refused(m, &["refused commit", "format 1", "format 2"]);
        m.git(&["config", "--unset", "lore.allowRollback"])
            .assert_ok();
    }
    host.restore();
    assert_converged(&[&alice, &bob], &[S1, S2]);
}

/// Attack 10 (keys as a new user meets them): after a rotation the other members are told what to
/// run; a clone without a key brings the code and says why the sessions did not come; a
/// second clone on a machine that holds the key needs no passphrase; setting up twice says so.
#[test]
fn keys_are_usable_after_a_rotation_and_in_a_second_clone() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    rotate(&alice, NEW_PASS);
    alice.sync();

    let rotated = "the store's key was rotated: run 'lore sync setup' with the new passphrase";
    // Not an attack: the sync stops and says what to do; lore.db is untouched, and the only
    // new ref is the helper's holding ref for the unread tip, where status and doctor look.
    let before = bob.snapshot();
    let r = bob.try_sync();
    assert_refused_run(&bob, &r, &[rotated]);
    let after = bob.snapshot();
    assert_eq!(after.db, before.db);
    let new_refs: Vec<&str> = after
        .refs
        .lines()
        .filter(|l| !before.refs.lines().any(|b| b == *l))
        .collect();
    assert_eq!(new_refs.len(), 1, "{new_refs:?}");
    assert!(
        new_refs[0].ends_with("\trefs/lore/wire/origin/incoming"),
        "{new_refs:?}"
    );
    let r = bob.user.lore(&bob.repo, &["sync", "status"]);
    assert!(r.stdout.contains(rotated), "{}\n{}", r.stdout, r.stderr);
    let r = bob.user.lore(&bob.repo, &["doctor"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("FAIL  key") && l.contains(rotated)),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    bob.user.setup(&bob.repo, NEW_PASS).assert_ok();
    bob.sync();
    let r = bob.user.lore(&bob.repo, &["sync", "status"]);
    assert!(r.stdout.contains("Key: stored (key file)"), "{}", r.stdout);

    // A clone without any key: the code, and a word about the sessions.
    let dave = world.user("dave");
    let clone = dave.root.join("clone");
    let r = dave.git(
        &dave.root,
        &[
            "clone",
            &format!("lore::{}", remote.display()),
            clone.to_str().expect("utf-8"),
        ],
    );
    r.assert_ok();
    assert_eq!(
        std::fs::read_to_string(clone.join("README")).expect("README"),
        "code\n"
    );
    assert!(
        r.stderr.contains("were not fetched") && r.stderr.contains("lore sync setup"),
        "{}",
        r.stderr
    );
    assert_eq!(dave.rev(&clone, "refs/lore/sessions"), None);

    // A second clone on Bob's machine: set up without a passphrase (stdin is empty).
    let second = bob.user.clone(remote.to_str().expect("utf-8"), "second");
    let r = bob.user.lore(&second, &["sync", "setup"]);
    r.assert_ok();
    assert!(r.stdout.contains("no passphrase needed"), "{}", r.stdout);
    assert!(!r.stdout.contains("  "), "{:?}", r.stdout);
    // Setting up twice, where the store is set up, says so.
    let r = bob.user.lore(&bob.repo, &["sync", "setup"]);
    r.assert_ok();
    assert!(r.stdout.contains("Already set up"), "{}", r.stdout);
}

/// Attack 11 (never lost): a store commit that drops a session (pushed by a key holder, so it
/// verifies) does not drop it from the other members' lore.db: it is written back, and said.
#[test]
fn a_session_dropped_from_the_store_is_written_back() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let host = Host::new(&remote);
    // Alice's own store loses S2 (Bob's session) through git plumbing, and her helper pushes
    // it, correctly sealed.
    let tip = alice
        .user
        .rev(&alice.repo, "refs/lore/sessions")
        .expect("tip");
    let index = alice.user.root.join("drop-index");
    let vars = [("GIT_INDEX_FILE", index.to_str().expect("utf-8"))];
    alice
        .user
        .git_with(&alice.repo, &vars, &["read-tree", &tip])
        .assert_ok();
    alice
        .user
        .git_with(
            &alice.repo,
            &vars,
            &[
                "update-index",
                "--force-remove",
                &lore::gitstore::record_path(S2),
            ],
        )
        .assert_ok();
    let tree = alice.user.git_with(&alice.repo, &vars, &["write-tree"]);
    tree.assert_ok();
    let commit = alice.user.git(
        &alice.repo,
        &[
            "commit-tree",
            tree.stdout.trim(),
            "-p",
            &tip,
            "-m",
            "lore: sync 1 session",
        ],
    );
    commit.assert_ok();
    alice
        .user
        .git(
            &alice.repo,
            &["update-ref", "refs/lore/sessions", commit.stdout.trim()],
        )
        .assert_ok();
    alice
        .user
        .git(
            &alice.repo,
            &["push", "-q", "lore::origin", "refs/lore/sessions"],
        )
        .assert_ok();
    let held = |host: &Host| {
        host.files(&host.tip())
            .keys()
            .any(|p| p.ends_with(&format!("{S2}.enc")))
    };
    assert!(!held(&host), "the remote still holds S2");

    let r = bob.sync();
    assert!(
        r.stderr.contains("no longer held") && r.stderr.contains(S2),
        "{}",
        r.stderr
    );
    assert_eq!(bob.ids(), vec![S1.to_owned(), S2.to_owned()]);
    assert!(held(&host), "S2 was not written back");
    assert_converged(&[&alice, &bob], &[S1, S2]);
}

// ---------------------------------------------------------------------------------------------
// Found while writing the attacks: bugs left for a design decision.
// ---------------------------------------------------------------------------------------------

/// What the host serves while a newcomer runs `lore sync setup` must not reach a local ref
/// before it is verified either (attack 7, at setup).
#[test]
fn setup_during_an_attack_keeps_nothing_unverified() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (_alice, _bob) = pair(&world, &remote);
    let host = Host::new(&remote);
    let tip = host.tip();
    let tree = host.rev(&format!("{tip}^{{tree}}"));
    let parent = host.rev(&format!("{tip}~1"));
    let evil: &[u8] = b"author \x1b]0;owned by the host\x07 <host@example.com> 1700000000 +0000\ncommitter lore <lore@localhost> 0 +0000\n\nlore\n";
    let planted = host.write_commit(&tree, &[&parent], evil);
    host.set_tip(&planted);
    let carol = joiner(&world, &remote, "carol", PASS);
    let refs = carol.git(&["for-each-ref"]).stdout;
    assert!(!refs.contains(&planted), "{refs}");
    let log = carol.git(&["log", "--format=raw", "--all"]).stdout;
    assert!(!log.contains("owned by the host"), "{log}");
}

/// A rotation that races another member's push: Alice rotates, Bob (not yet told) pushes a
/// session sealed under the old key before Alice's sync. Alice's sync must still publish the
/// rotation, with Bob's session re-sealed under the new key.
#[test]
fn a_rotation_racing_another_push_still_goes_out() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    rotate(&alice, NEW_PASS);
    bob.work(S3, "lock", 1);
    bob.sync();
    alice.sync();
    let host = Host::new(&remote);
    let header: serde_json::Value =
        serde_json::from_slice(&host.blob(&host.rev("refs/lore/sessions:lore-store.json")))
            .expect("header");
    assert_eq!(header["epoch"], 2, "{header}");
    assert_eq!(
        alice.ids(),
        vec![S1.to_owned(), S2.to_owned(), S3.to_owned()]
    );
    bob.user.setup(&bob.repo, NEW_PASS).assert_ok();
    assert_converged(&[&alice, &bob], &[S1, S2, S3]);
}

// ---------------------------------------------------------------------------------------------
// Bounds: memory stays bounded whatever the remote serves (issue 13).
// ---------------------------------------------------------------------------------------------

/// Seals `plain` (any bytes, e.g. a gzip bomb) as session `id`'s `.enc` exactly as
/// docs/store-format.md "The encrypted record" says, with the subkeys derived from the key's
/// master bytes: what a member (or a former one) can publish, that lore's own `seal` never
/// would.
fn seal_plain(key: &DataKey, store_id: &[u8; 16], id: &str, meta: &[u8], plain: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::AeadInOut as _;
    use aes_gcm::{Aes256Gcm, KeyInit as _};
    use hmac::Mac as _;
    use sha2::Digest as _;
    let hkdf = |info: &[u8]| {
        let mut out = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), key.master())
            .expand(info, &mut out)
            .expect("hkdf");
        out
    };
    let (enc_key, nonce_key) = (hkdf(b"lore.enc.v1"), hkdf(b"lore.nonce.v1"));
    let string = |s: &str| [&(s.len() as u32).to_be_bytes()[..], s.as_bytes()].concat();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&nonce_key).expect("hmac");
    mac.update(b"lore.nonce.v1");
    mac.update(&string(id));
    mac.update(&sha2::Sha256::digest(plain));
    let nonce: [u8; 12] = mac.finalize().into_bytes()[..12].try_into().expect("12");
    let aad = [
        &b"lore.session.v1"[..],
        store_id,
        &key.key_id(),
        &string(id),
        &sha2::Sha256::digest(meta),
    ]
    .concat();
    let mut out = [&b"LORE\x01"[..], &key.key_id(), &nonce, plain].concat();
    let tag = Aes256Gcm::new((&enc_key).into())
        .encrypt_inout_detached((&nonce).into(), &aad, (&mut out[33..]).into())
        .expect("encrypt");
    out.extend_from_slice(&tag);
    out
}

/// Runs `member`'s `lore sync`, polling every process it starts (lore, git, the helper) for its
/// peak resident size (VmHWM in /proc/<pid>/status). Returns the run and the largest peak, in
/// MiB, of a lore or git-remote-lore process.
fn sync_measured(member: &Member) -> (Run, u64) {
    let mut child = std::process::Command::new("lore")
        .arg("sync")
        .current_dir(&member.repo)
        .env_clear()
        .env("PATH", common::test_path())
        .env("HOME", &member.user.home)
        .env("LORE_HOME", &member.user.lore_home)
        .env("GIT_CONFIG_GLOBAL", member.user.home.join(".gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LORE_KEYCHAIN", "off")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn lore");
    let root = child.id();
    let mut peak: BTreeMap<u32, (String, u64)> = BTreeMap::new();
    let status = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/status")).ok();
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    loop {
        // Every live descendant of `root`: walk /proc by parent ids.
        let mut parents: BTreeMap<u32, u32> = BTreeMap::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            if let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>()
                && let Some(text) = status(pid)
                && let Some(ppid) = field(&text, "PPid:").and_then(|p| p.parse().ok())
            {
                parents.insert(pid, ppid);
            }
        }
        for &pid in parents.keys() {
            let mut p = pid;
            while p != root && p > 1 {
                p = parents.get(&p).copied().unwrap_or(0);
            }
            if p != root {
                continue;
            }
            if let Some(text) = status(pid)
                && let (Some(name), Some(hwm)) = (field(&text, "Name:"), field(&text, "VmHWM:"))
            {
                let kib: u64 = hwm.trim_end_matches(" kB").trim().parse().unwrap_or(0);
                let e = peak.entry(pid).or_insert((name, 0));
                e.1 = e.1.max(kib);
            }
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    let largest = peak
        .values()
        .filter(|(name, _)| name == "lore" || name.starts_with("git-remote-lor"))
        .map(|(_, kib)| kib / 1024)
        .max()
        .unwrap_or(0);
    assert!(largest > 0, "no lore process measured: {peak:?}");
    let run = Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, largest)
}

/// The most a refused sync may hold: lore and its helper at rest are a few MiB; a 64 MiB record
/// cap allows one record plus its ciphertext, well below this.
const PEAK_MIB: u64 = 200;

/// A member's sync facing a properly sealed gzip bomb (about 0.5 MB sealed that inflates to
/// 512 MiB) or a 512 MiB `.enc` blob refuses it in one line, changes nothing, and no lore
/// process ever holds more than [`PEAK_MIB`]. Before the bounds, the bomb was inflated whole
/// (over 512 MiB held) and the blob read whole twice (over 1 GiB).
///
/// 512 MiB rather than 1 GiB: eight times the largest `.enc` lore reads, and it keeps the
/// test's data generation to a second or two (the blob is a sparse file of zeros behind a
/// valid prefix; git is told to stream it with core.bigFileThreshold, so git's own memory
/// stays out of the picture).
#[test]
fn a_sealed_gzip_bomb_and_a_huge_blob_are_refused_with_memory_bounded() {
    use std::io::Write as _;
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    host.remember();
    host.git(&["config", "core.bigFileThreshold", "1m"]);
    bob.git(&["config", "--global", "core.bigFileThreshold", "1m"])
        .assert_ok();
    let store_id_hex = alice.store_id();
    let forger = Forger::from_member(&alice.user, &store_id_hex);
    let tip = host.tip();
    let files = host.files(&tip);
    let enc_path = Host::session_files(&files, S1)
        .into_iter()
        .find(|p| p.ends_with(".enc"))
        .expect(".enc");
    let meta = host.blob(&files[&enc_path.replace(".enc", ".meta.json")].1);

    // The bomb: 512 MiB of zeros, gzip level 9 (about 0.5 MB), sealed under the store's key.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..512 {
        gz.write_all(&chunk).expect("gzip");
    }
    let bomb = gz.finish().expect("gzip");
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let sealed = seal_plain(&forger.key, &forger.store_id, S1, &meta, &bomb);
    let mut bombed = files.clone();
    bombed.insert(
        enc_path.clone(),
        ("100644".into(), host.write_blob(&sealed)),
    );
    let commit = forger.commit(&host, bombed, &tip, 1);
    host.set_tip(&commit);
    let before = bob.snapshot();
    let (r, peak) = sync_measured(&bob);
    eprintln!("gzip bomb: peak {peak} MiB");
    assert!(peak < PEAK_MIB, "a lore process peaked at {peak} MiB");
    assert_refused_run(&bob, &r, &["sealed record", "decompresses to more than"]);
    assert_eq!(bob.snapshot(), before, "{}", r.stderr);
    host.restore();

    // The blob: 512 MiB starting with a valid prefix (magic, version, key id), then zeros.
    let big = world.path("big.enc");
    let mut f = std::fs::File::create(&big).expect("create");
    f.write_all(b"LORE\x01").expect("write");
    f.write_all(&forger.key.key_id()).expect("write");
    f.set_len(512 << 20).expect("sparse");
    drop(f);
    let oid = host.git(&["hash-object", "-w", big.to_str().expect("utf-8")]);
    let mut huge = files.clone();
    huge.insert(enc_path, ("100644".into(), oid));
    let commit = forger.commit(&host, huge, &tip, 1);
    host.set_tip(&commit);
    let (r, peak) = sync_measured(&bob);
    eprintln!("512 MiB blob: peak {peak} MiB");
    assert!(peak < PEAK_MIB, "a lore process peaked at {peak} MiB");
    assert_refused_run(&bob, &r, &["blob", "above its limit"]);
    assert_eq!(bob.snapshot(), before, "{}", r.stderr);
    host.restore();

    assert_converged(&[&alice, &bob], &[S1, S2]);
}

/// The helper refuses a protocol line longer than 64 KiB in one line, without reading on.
#[test]
fn a_protocol_line_above_64_kib_is_refused() {
    use std::io::Write as _;
    let world = World::new();
    let remote = world.bare("remote.git");
    let alice = founder(&world, &remote);
    let mut child = std::process::Command::new("git-remote-lore")
        .args(["origin", remote.to_str().expect("utf-8")])
        .env("PATH", common::test_path())
        .env("GIT_DIR", alice.repo.join(".git"))
        .env("LORE_HOME", &alice.user.lore_home)
        .env("HOME", &alice.user.home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the helper");
    let mut stdin = child.stdin.take().expect("stdin");
    let line = format!("option {} 1\n", "x".repeat(65 << 10));
    // The helper may stop reading before all of it is written.
    let _ = stdin.write_all(line.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("longer than 64 KiB"), "{stderr}");
    // A line of just under the limit is only an unknown option.
    let ok = format!("option {} 1\n\n", "x".repeat(60 << 10));
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "printf '%s' \"$LINE\" | git-remote-lore origin \"$REMOTE\"",
        ])
        .env("PATH", common::test_path())
        .env("GIT_DIR", alice.repo.join(".git"))
        .env("LORE_HOME", &alice.user.lore_home)
        .env("HOME", &alice.user.home)
        .env("LINE", &ok)
        .env("REMOTE", &remote)
        .output()
        .expect("run the helper");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("longer than"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Seals `body` as a version-2 `.enc` of session `id` in store `store_id`, exactly as
/// docs/store-format.md says but with whatever padding `body` holds: what a key holder who
/// does not follow the spec could write. (Written from the spec here, not through lore.)
fn seal_padded_body(
    key: &DataKey,
    store_id: &[u8; 16],
    id: &str,
    meta: &[u8],
    body: &[u8],
) -> Vec<u8> {
    use aes_gcm::aead::AeadInOut;
    use aes_gcm::{Aes256Gcm, KeyInit};
    use hmac::Mac;
    use sha2::{Digest, Sha256};
    let subkey = |info: &[u8]| {
        let mut out = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(&[]), key.master())
            .expand(info, &mut out)
            .expect("hkdf");
        out
    };
    let (enc_key, nonce_key) = (subkey(b"lore.enc.v1"), subkey(b"lore.nonce.v1"));
    let mut string_id = (id.len() as u32).to_be_bytes().to_vec();
    string_id.extend_from_slice(id.as_bytes());
    let mut mac = <hmac::Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&nonce_key).expect("hmac");
    mac.update(b"lore.nonce.v2");
    mac.update(&string_id);
    mac.update(&Sha256::digest(body));
    let nonce: [u8; 12] = mac.finalize().into_bytes()[..12].try_into().expect("12");
    let aad = [
        b"lore.session.v2".as_slice(),
        store_id,
        &key.key_id(),
        &string_id,
        &Sha256::digest(meta),
    ]
    .concat();
    let mut out = [b"LORE".as_slice(), &[2], &key.key_id(), &nonce, body].concat();
    let tag = Aes256Gcm::new((&enc_key).into())
        .encrypt_inout_detached((&nonce).into(), &aad, (&mut out[33..]).into())
        .expect("aes-gcm");
    out.extend_from_slice(&tag);
    out
}

/// `.enc` padding (docs/store-format.md, "Padding"): the host editing the padding of a record
/// is refused; a key holder writing a padding no writer writes (non-zero pad bytes, a length
/// field that does not fit, the wrong padded size) is refused too; honest records of nearby
/// sizes have equal sizes on the remote.
#[test]
fn a_record_whose_padding_was_tampered_with_is_refused() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    let honest = host.remember();

    // Sizes: every .enc on the remote is 49 bytes plus a Padmé size.
    let files = host.files(&honest);
    for (path, (_, oid)) in files.iter().filter(|(p, _)| p.ends_with(".enc")) {
        let enc = host.blob(oid);
        assert_eq!(enc[4], 2, "{path} is not a padded record");
        let body = enc.len() - 49;
        assert_eq!(
            lore::crypto::padme(body),
            body,
            "{path}: {} bytes",
            enc.len()
        );
    }

    // (a) The host flips a byte of S1's padding (the ciphertext's last bytes before the tag).
    host.amend(|files| {
        let p = Host::session_files(files, S1)
            .into_iter()
            .find(|p| p.ends_with(".enc"))
            .expect("S1.enc");
        let mut enc = host.blob(&files[&p].1);
        let n = enc.len();
        enc[n - 17] ^= 1;
        files.insert(p, ("100644".into(), host.write_blob(&enc)));
    });
    for m in [&alice, &bob] {
        assert_refused(m, &["refused commit"]);
    }
    host.restore();

    // (b) A key holder: S1's record sealed again with padding no writer writes, under a
    // manifest that names it, so that only the padding is wrong.
    let forger = Forger::from_member(&alice.user, &alice.store_id());
    let record = alice
        .git(&[
            "show",
            &format!("refs/lore/sessions:{}", lore::gitstore::record_path(S1)),
        ])
        .stdout;
    let gzip = |record: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, record).expect("gzip");
        gz.finish().expect("gzip")
    };
    // S1's record with a title long enough for its gzip to need a few bytes of padding.
    let (record, plain) = (1..200)
        .map(|n| {
            let r = record_like(record.as_bytes(), S1, &"t".repeat(n));
            let g = gzip(&r);
            (r, g)
        })
        .find(|(_, g)| lore::crypto::padme(4 + g.len()) >= 4 + g.len() + 4)
        .expect("a title that needs padding");
    let meta = lore::gitstore::record::meta_of(&record, S1)
        .expect("a record")
        .to_bytes();
    let good_len = lore::crypto::padme(4 + plain.len());
    let body = |len_field: u32, total: usize, fill: u8| {
        let mut b = len_field.to_be_bytes().to_vec();
        b.extend_from_slice(&plain);
        b.resize(total, fill);
        b
    };
    let n = plain.len() as u32;
    let cases = [
        ("non-zero pad bytes", body(n, good_len, 0xaa), "non-zero"),
        // Its padding is well formed, but then a zero byte follows the gzip member.
        (
            "a length one too long",
            body(n + 1, good_len, 0),
            "bytes follow its gzip member",
        ),
        (
            "a length past the end",
            body(u32::MAX, good_len, 0),
            "length field",
        ),
        (
            "too much padding",
            body(n, good_len + 64, 0),
            "padding is wrong",
        ),
        (
            "no padding",
            body(n, 4 + plain.len(), 0),
            "padding is wrong",
        ),
    ];
    // The honest body opens: the helper is sound and only the padding differs below.
    let honest_enc = seal_padded_body(
        &forger.key,
        &forger.store_id,
        S1,
        &meta,
        &body(n, good_len, 0),
    );
    assert_eq!(
        lore::crypto::open(&forger.key, &forger.store_id, S1, &meta, &honest_enc).unwrap(),
        record
    );
    for (what, bad, words) in cases {
        let enc = seal_padded_body(&forger.key, &forger.store_id, S1, &meta, &bad);
        let mut files = host.files(&honest);
        let folder = lore::gitstore::record_path(S1);
        let folder = folder.rsplit_once('/').expect("folder").0.to_owned();
        files.insert(
            format!("{folder}/{S1}.enc"),
            ("100644".into(), host.write_blob(&enc)),
        );
        let forged = forger.commit(&host, files, &honest, 1);
        host.set_tip(&forged);
        for m in [&alice, &bob] {
            let r = assert_refused(m, &["sealed record is malformed"]);
            assert!(r.stderr.contains(words), "{what}: {}", r.stderr);
        }
        host.restore();
    }
    assert_converged(&[&alice, &bob], &[S1, S2]);
}

/// Attack (issue 16, record format 2): the host replays S1's record from before a tag was
/// removed and before its link had evidence, edits it, or rolls the store back to it. The
/// replay and the edit are refused; a rollback knowingly accepted merges the old record and
/// changes nothing: the removal is later than the tag, and evidence only grows.
#[test]
fn a_replayed_record_cannot_bring_back_a_removed_tag_or_strip_evidence() {
    let world = World::new();
    let remote = world.bare("remote.git");
    let (alice, bob) = pair(&world, &remote);
    let mut host = Host::new(&remote);
    let lore_ok = |m: &Member, args: &[&str]| {
        m.user.lore(&m.repo, args).assert_ok();
        std::thread::sleep(std::time::Duration::from_millis(5));
    };

    // State 0: S1 tagged "wip", no link.
    lore_ok(&alice, &["tag", S1, "wip"]);
    alice.sync();
    bob.sync();
    let old = host.remember();
    let old_files = host.files(&old);

    // State 1: the tag is removed, and S1 (which wrote src/parse.rs) is linked to the commit
    // that adds it, with that evidence.
    lore_ok(&alice, &["tag", S1, "wip", "--remove"]);
    let written =
        "fn parse_header(input: &str) -> Header {\n    Header::from_fields(input.split(';'))\n}\n";
    let repo = canonical_path(&alice.repo);
    let dir = alice.user.root.join("transcripts").join(S1);
    let path = write_transcript(&dir, S1, "parser", &repo);
    let mut text = common::claude_transcript(S1, 1, "parser").replace("/home/dev/acme", &repo);
    text.push_str(&common::claude_write_line(
        S1,
        2,
        &format!("{repo}/src/parse.rs"),
        written,
    ));
    text.push('\n');
    std::fs::write(&path, text).expect("transcript");
    lore_ok(&alice, &["import", dir.to_str().expect("utf-8")]);
    std::fs::create_dir_all(alice.repo.join("src")).expect("mkdir");
    std::fs::write(alice.repo.join("src/parse.rs"), written).expect("write");
    alice.git(&["add", "src/parse.rs"]).assert_ok();
    alice.git(&["commit", "-qm", "parse"]).assert_ok();
    lore_ok(&alice, &["link", S1, "--commit", "HEAD"]);
    alice.sync();
    bob.sync();
    host.remember();
    let state = |m: &Member| -> (serde_json::Value, serde_json::Value) {
        let r = m.user.lore(&m.repo, &["show", S1, "--json"]);
        r.assert_ok();
        let show: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        let r = m.user.lore(&m.repo, &["links", "--json", "--session", S1]);
        r.assert_ok();
        let links: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        (show["tags"].clone(), links["links"][0]["evidence"].clone())
    };
    let honest = state(&bob);
    assert_eq!(honest.0, serde_json::json!([]), "{honest:?}");
    assert_eq!(honest.1["lines"], 2, "{honest:?}");
    assert_eq!(state(&alice), honest);

    // Replay: S1's old .enc and .meta.json (sealed by Alice, once) put back.
    host.amend(|files| {
        for p in Host::session_files(files, S1) {
            let before = old_files[&p].clone();
            assert_ne!(files[&p], before, "{p} changed since");
            files.insert(p, before);
        }
    });
    for m in [&alice, &bob] {
        assert_refused(
            m,
            &[
                "refused commit",
                "sessions are not the ones its manifest names",
            ],
        );
        assert_eq!(state(m), honest, "{}", m.user.name);
    }
    host.restore();

    // Edit: one byte of S1's .enc changed.
    let enc_path = Host::session_files(&host.files(&host.tip()), S1)
        .into_iter()
        .find(|p| p.ends_with(".enc"))
        .expect(".enc");
    let mut enc = host.blob(&host.files(&host.tip())[&enc_path].1);
    let last = enc.len() - 1;
    enc[last] ^= 1;
    let edited = host.write_blob(&enc);
    host.amend(|files| {
        let mode = files[&enc_path].0.clone();
        files.insert(enc_path.clone(), (mode, edited));
    });
    for m in [&alice, &bob] {
        assert_refused(m, &["refused commit"]);
        assert_eq!(state(m), honest, "{}", m.user.name);
    }
    host.restore();

    // Rollback to state 0: refused; knowingly accepted by Bob, it changes nothing.
    host.set_tip(&old);
    assert_refused(&bob, &["went back from", "rolled it back"]);
    bob.git(&["config", "lore.allowRollback", "true"])
        .assert_ok();
    bob.sync();
    bob.git(&["config", "--unset", "lore.allowRollback"])
        .assert_ok();
    assert_eq!(state(&bob), honest);
    host.restore();
    assert_converged(&[&alice, &bob], &[S1, S2]);
    assert_eq!(state(&alice), honest);
    assert_eq!(state(&bob), honest);
}
