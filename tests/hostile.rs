//! The hostile host (issue 12): the git host, or a former member who kept an old key, attacks
//! the shared session store, and every member's `lore sync` must refuse what it serves with
//! one line naming what was wrong, change nothing here (lore.db and every local ref exactly as
//! before), and converge again once the host serves the honest tip.
//!
//! [`Host`] plays the host on the bare remote with plain git plumbing and no key at all.
//! Where the attacker holds an old key (a removed member), [`Forger`] seals commits with it
//! through the `lore` library itself: that is the attack done for real, not simulated.

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
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
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
        self.set_tip(self.honest.as_deref().expect("an honest tip was remembered"));
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
        self.git_in(&["update-index", "--index-info"], Some(info.as_bytes()), &vars);
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
            &["hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
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
            .filter(|p| p.ends_with(&format!("/{id}.enc")) || p.ends_with(&format!("/{id}.meta.json")))
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        let key = read_key_file(&user.lore_home.join("keys").join(format!("{store_id_hex}.key")));
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
        for (name, bytes) in [(format!("{id}.enc"), enc), (format!("{id}.meta.json"), meta)] {
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
        let v: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("json");
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
// The attacks, one test each.
// ---------------------------------------------------------------------------------------------

/// 2. Withholding: a new commit that leaves out one session's files (with the manifest of the
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
        assert_refused(m, &["refused commit", "sessions are not the ones its manifest names"]);
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
        host.files(&host.tip()).keys().any(|p| p.ends_with(&format!("{S1}.enc"))),
        "the remote holds S1"
    );
}

/// 3. Replay: a new commit that puts back an older version of a session that has changed
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
        assert_refused(m, &["refused commit", "sessions are not the ones its manifest names"]);
    }
    // A newcomer, who has never seen the newer version, is not fooled either.
    let carol = joiner(&world, &remote, "carol", PASS);
    carol.init_db();
    assert_refused(&carol, &["refused commit", "sessions are not the ones its manifest names"]);
    assert!(carol.ids().is_empty());

    host.restore();
    assert_converged(&[&alice, &bob, &carol], &[S1, S2]);
    for m in [&bob, &carol] {
        assert_eq!(m.messages(S1), new_messages, "{}", m.user.name);
    }
}
