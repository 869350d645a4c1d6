//! One conversation with git: `capabilities`, options, `list`, then a fetch or push batch.
//!
//! [`run`] is the protocol loop: it parses git's lines and formats the answers, and it is the
//! only place that speaks git's strings (`ok`, `error <ref> fetch first`). [`Conversation`]
//! does the work with typed results, so `lore sync` can push in process through it.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use gix::ObjectId;
use zeroize::Zeroizing;

use super::RemoteError;
use super::cache::Cache;
use super::protocol::{Command, parse};
use super::wire::{Git, PushResult};
use crate::crypto::{CryptoError, DataKey, StoreHeader};
use crate::gitstore::crypt::{Direction, Expect, Keys, Work, translate_commit};
use crate::gitstore::local::{ref_target, update_ref};
use crate::gitstore::tree::{Odb, RawCommit};
use crate::gitstore::{GitStoreError, LocalStore, SESSIONS_REF};
use crate::keys::{EpochBook, KeyStore};

/// What the helper needs from its environment; the binary gathers it.
pub struct HelperConfig {
    /// argv\[1\]: the remote's name, or `lore::<address>` for a URL given on the command line.
    pub alias: String,
    /// argv\[2\]: the address after `lore::` (a remote name, URL or path).
    pub address: Option<String>,
    /// `GIT_DIR`, which git sets when it has a repository.
    pub git_dir: Option<PathBuf>,
    /// lore's key store (LORE_HOME/keys).
    pub keys: KeyStore,
    /// LORE_PASSPHRASE, for machines without a stored key (CI).
    pub passphrase: Option<Zeroizing<String>>,
    /// The git program to run.
    pub git_program: OsString,
    /// Whether this helper was started by another git-remote-lore.
    pub nested: bool,
    /// Whether to report the time each step took (`LORE_TRACE=1`), on `run`'s `log`.
    pub trace: bool,
    /// The remote's push URL as the caller resolved it moments ago (`lore sync`'s in-process
    /// push): not asked of git again. Such a session only pushes. `None` for git's own runs.
    pub push_url: Option<String>,
    /// Whether a fetch must bring the sessions (`lore sync`'s, through
    /// [`super::wire::REQUIRED_ENV`]). Otherwise a store this machine has no key for is left
    /// out of the listing with a notice, so `git clone lore::…` still clones the code.
    pub sessions_required: bool,
}

/// The capabilities the helper advertises.
pub const CAPABILITIES: &[&str] = &["fetch", "push", "option"];

/// Runs one helper session: reads git's commands from `input`, answers on `output`; with
/// `config.trace`, one line per step with its duration goes to `log`.
pub fn run(
    config: HelperConfig,
    input: impl BufRead,
    mut output: impl Write,
    log: &mut dyn Write,
) -> Result<(), RemoteError> {
    let mut input = input;
    let mut line = String::new();
    let mut session: Option<Conversation> = None;
    let mut options = Options::default();
    loop {
        let n = read_line(&mut input, &mut line)?;
        if n == 0 {
            return Ok(());
        }
        let command = parse(line.trim_end_matches(['\n', '\r']))?;
        match command {
            Command::Blank => return Ok(()),
            Command::Capabilities => {
                for c in CAPABILITIES {
                    writeln!(output, "{c}").map_err(io)?;
                }
                writeln!(output).map_err(io)?;
            }
            Command::Option { name, value } => {
                let reply = options_reply(&mut options, &name, &value);
                writeln!(output, "{reply}").map_err(io)?;
            }
            Command::List { for_push } => {
                let s = session_for(&mut session, &config, &options)?;
                let lines = s.list(for_push)?;
                for l in lines {
                    writeln!(output, "{l}").map_err(io)?;
                }
                writeln!(output).map_err(io)?;
            }
            Command::Fetch { oid, name } => {
                let mut wants = vec![(oid, name)];
                read_batch(&mut input, &mut line, |c| match c {
                    Command::Fetch { oid, name } => {
                        wants.push((oid, name));
                        Ok(())
                    }
                    other => Err(unexpected(other)),
                })?;
                let s = session_for(&mut session, &config, &options)?;
                s.fetch(&wants)?;
                writeln!(output).map_err(io)?;
            }
            Command::Push { force, src, dst } => {
                let mut pushes = vec![PushSpec { force, src, dst }];
                read_batch(&mut input, &mut line, |c| match c {
                    Command::Push { force, src, dst } => {
                        pushes.push(PushSpec { force, src, dst });
                        Ok(())
                    }
                    other => Err(unexpected(other)),
                })?;
                let s = session_for(&mut session, &config, &options)?;
                for (dst, outcome) in s.push(&pushes)? {
                    writeln!(output, "{}", status_line(&dst, &outcome)).map_err(io)?;
                }
                writeln!(output).map_err(io)?;
            }
        }
        output.flush().map_err(io)?;
        if let Some(s) = session.as_mut() {
            for event in s.trace.drain(..).chain(s.notices.drain(..)) {
                let _ = writeln!(log, "git-remote-lore: {event}");
            }
        }
    }
}

/// What became of one pushed ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The remote took it; `forced` when it was not a fast-forward (git's `+`).
    Updated { forced: bool },
    /// The remote had it already.
    UpToDate,
    /// The remote, or the helper, refused it.
    Rejected(Rejected),
}

/// Why a push of a ref was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Not a fast-forward of the remote's ref, which is here: merge it first.
    NonFastForward,
    /// The remote's ref is not here (someone else pushed): fetch, merge, push again.
    FetchFirst,
    /// Anything else, in the remote's or the helper's words.
    Other(String),
}

/// The status line gitremote-helpers(7) wants for `outcome` of `dst`: the only place that
/// writes git's words for them.
fn status_line(dst: &str, outcome: &PushOutcome) -> String {
    match outcome {
        PushOutcome::Updated { forced: false } | PushOutcome::UpToDate => format!("ok {dst}"),
        PushOutcome::Updated { forced: true } => format!("ok {dst} forced update"),
        PushOutcome::Rejected(Rejected::NonFastForward) => format!("error {dst} non-fast forward"),
        PushOutcome::Rejected(Rejected::FetchFirst) => format!("error {dst} fetch first"),
        PushOutcome::Rejected(Rejected::Other(why)) => format!("error {dst} {why}"),
    }
}

fn io(e: std::io::Error) -> RemoteError {
    RemoteError::Io(e.to_string())
}

fn unexpected(c: Command) -> RemoteError {
    RemoteError::Protocol(super::protocol::ProtocolError(format!(
        "{c:?} inside a batch"
    )))
}

/// The longest line the helper reads from git: 64 KiB. git's lines are commands with an object
/// id and a ref name or two (refs are at most a few KiB); a longer line is refused, so memory
/// stays bounded whatever writes to the helper's standard input.
pub const MAX_LINE: usize = 64 << 10;

/// Reads one line into `line` (cleared first), at most [`MAX_LINE`] bytes before its newline.
/// Returns the number of bytes read, 0 at the end of input.
fn read_line(input: &mut impl BufRead, line: &mut String) -> Result<usize, RemoteError> {
    use std::io::Read as _;
    line.clear();
    let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 2;
    let n = input.by_ref().take(limit).read_line(line).map_err(io)?;
    if line.trim_end_matches(['\n', '\r']).len() > MAX_LINE {
        return Err(RemoteError::LineTooLong(MAX_LINE));
    }
    Ok(n)
}

/// Reads the rest of a batch up to its blank line.
fn read_batch(
    input: &mut impl BufRead,
    line: &mut String,
    mut each: impl FnMut(Command) -> Result<(), RemoteError>,
) -> Result<(), RemoteError> {
    loop {
        if read_line(input, line)? == 0 {
            return Err(RemoteError::Io("git closed the pipe inside a batch".into()));
        }
        match parse(line.trim_end_matches(['\n', '\r']))? {
            Command::Blank => return Ok(()),
            c => each(c)?,
        }
    }
}

/// The options git set (`option <name> <value>`); git sends them before `list` and before a
/// push batch.
#[derive(Debug, Clone)]
pub struct Options {
    pub verbosity: u32,
    pub progress: bool,
    pub dry_run: bool,
    pub atomic: bool,
    /// `--force-with-lease`: ref → expected value (`None`: must not exist).
    pub cas: HashMap<String, Option<String>>,
    pub push_options: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verbosity: 1,
            progress: false,
            dry_run: false,
            atomic: false,
            cas: HashMap::new(),
            push_options: Vec::new(),
        }
    }
}

fn options_reply(o: &mut Options, name: &str, value: &str) -> &'static str {
    {
        let flag = || match value {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        match name {
            "verbosity" => match value.parse() {
                Ok(v) => {
                    o.verbosity = v;
                    "ok"
                }
                Err(_) => "error verbosity must be a number",
            },
            "progress" => flag().map_or("error progress must be true or false", |b| {
                o.progress = b;
                "ok"
            }),
            "dry-run" => flag().map_or("error dry-run must be true or false", |b| {
                o.dry_run = b;
                "ok"
            }),
            "atomic" => flag().map_or("error atomic must be true or false", |b| {
                o.atomic = b;
                "ok"
            }),
            "cas" => match value.split_once(':') {
                Some((r, expected)) => {
                    let expected = if expected.is_empty() || expected.bytes().all(|b| b == b'0') {
                        None
                    } else {
                        Some(expected.to_owned())
                    };
                    o.cas.insert(r.to_owned(), expected);
                    "ok"
                }
                None => "error cas needs <ref>:<expected>",
            },
            "push-option" => {
                o.push_options.push(value.to_owned());
                "ok"
            }
            // Harmless to accept: tags are followed by git's own fetch of the other refs, a
            // clone needs nothing special, and every object the helper writes is complete.
            "followtags" | "cloning" | "check-connectivity" => "ok",
            _ => "unsupported",
        }
    }
}

/// The session, opened on first use; it always sees the latest options.
fn session_for<'s>(
    session: &'s mut Option<Conversation>,
    config: &HelperConfig,
    options: &Options,
) -> Result<&'s mut Conversation, RemoteError> {
    if session.is_none() {
        *session = Some(Conversation::open(config, options.clone())?);
    }
    let s = session
        .as_mut()
        .ok_or_else(|| RemoteError::Io("no session".into()))?;
    s.options = options.clone();
    s.git.verbosity = options.verbosity;
    s.git.progress = options.progress;
    Ok(s)
}

/// One `push` line.
#[derive(Debug, Clone)]
pub struct PushSpec {
    pub force: bool,
    pub src: String,
    pub dst: String,
}

/// The underlying remote.
#[derive(Debug, Clone)]
struct Remote {
    /// What messages call it: the remote's name, or the address given after `lore::`.
    label: String,
    fetch_url: String,
    push_url: String,
    /// The name of this remote's private refs and cache entries.
    ns: String,
}

/// What `list` found, kept for the fetch or push that follows.
#[derive(Debug, Clone)]
struct Listing {
    url: String,
    cipher: Option<ObjectId>,
    plain: Option<ObjectId>,
}

/// The helper's side of one conversation: the local store, the user's git, the cache, the
/// remote, and what `list` found. Opened on first use.
pub struct Conversation {
    store: LocalStore,
    git: Git,
    cache: Cache,
    remote: Remote,
    options: Options,
    listing: Option<Listing>,
    keys: KeyStore,
    passphrase: Option<Zeroizing<String>>,
    tracing: bool,
    /// Steps and their durations, when tracing.
    trace: Vec<String>,
    /// Things the user should know (a store left out for want of its key), always shown.
    notices: Vec<String>,
    /// The newest key epoch this machine has seen of each store.
    epochs: EpochBook,
    /// [`HelperConfig::sessions_required`].
    sessions_required: bool,
    /// The refs the caller saw on the remote moments ago, for the next `list for-push`
    /// ([`Conversation::push_sessions`]).
    listed: Option<super::wire::Advertised>,
    /// Ciphertext commits this push made (plaintext → ciphertext), recorded in the cache only
    /// once the remote took them. Encryption is not deterministic: two pushes of one
    /// repository at once encrypt the same commit twice, and a translation cached before its
    /// push won would become the parent of the next push's commits, a history that does not
    /// descend from the one the remote holds.
    unpushed: HashMap<ObjectId, ObjectId>,
}

impl Conversation {
    fn timed<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Self) -> Result<T, RemoteError>,
    ) -> Result<T, RemoteError> {
        let started = std::time::Instant::now();
        let result = f(self);
        if self.tracing {
            self.trace.push(format!(
                "{what}: {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            ));
        }
        result
    }

    /// Opens the conversation for `config` (git's options as `options`).
    pub fn open(config: &HelperConfig, options: Options) -> Result<Conversation, RemoteError> {
        if config.nested {
            return Err(RemoteError::Recursion(
                config
                    .address
                    .clone()
                    .unwrap_or_else(|| config.alias.clone()),
            ));
        }
        let git_dir = config.git_dir.clone().ok_or(RemoteError::NoGitDir)?;
        let store = LocalStore::open(&git_dir)?;
        let git = Git {
            program: config.git_program.clone(),
            git_dir: git_dir.clone(),
            verbosity: options.verbosity,
            progress: options.progress,
            in_helper: true,
        };
        let remote = match &config.push_url {
            Some(url) => Remote {
                label: label(&config.alias, config.address.as_deref()),
                fetch_url: url.clone(),
                push_url: url.clone(),
                ns: super::namespace(config.address.as_deref().unwrap_or(&config.alias)),
            },
            None => resolve(&git, &config.alias, config.address.as_deref())?,
        };
        let cache = Cache::open(&git_dir.join("lore"))?;
        Ok(Conversation {
            store,
            git,
            cache,
            remote,
            options,
            listing: None,
            keys: config.keys.clone(),
            passphrase: config.passphrase.clone(),
            tracing: config.trace,
            trace: Vec::new(),
            notices: Vec::new(),
            epochs: config.keys.epochs(),
            sessions_required: config.sessions_required || config.push_url.is_some(),
            listed: None,
            unpushed: HashMap::new(),
        })
    }

    fn repo(&self) -> &gix::Repository {
        self.store.repo()
    }

    fn wire_ref(&self) -> String {
        super::wire_ref(&self.remote.ns)
    }

    fn tracking_ref(&self) -> String {
        super::tracking_ref(&self.remote.ns)
    }

    /// Answers `list` / `list for-push`.
    fn list(&mut self, for_push: bool) -> Result<Vec<String>, RemoteError> {
        let url = if for_push {
            self.remote.push_url.clone()
        } else {
            self.remote.fetch_url.clone()
        };
        let adv = match self.listed.take().filter(|_| for_push) {
            Some(listed) => listed,
            None => self.timed("git ls-remote", |s| s.git.ls_remote(&url))?,
        };
        let advertised = adv
            .refs
            .iter()
            .find(|r| r.name == SESSIONS_REF)
            .and_then(|r| ObjectId::from_hex(r.oid.as_bytes()).ok());
        let (cipher, plain) = match advertised {
            Some(c) => match self.receive(&url, c) {
                Ok((c, p)) => (Some(c), Some(p)),
                // Without the store's key, `git clone lore::…` (or a fetch of the code) still
                // brings everything else; `lore sync` and pushes need the sessions.
                Err(RemoteError::Store(
                    e @ (GitStoreError::NoKey { .. }
                    | GitStoreError::Rotated { .. }
                    | GitStoreError::WrongPassphrase { .. }),
                )) if !for_push && !self.sessions_required => {
                    self.notices.push(format!(
                        "the sessions in {SESSIONS_REF} were not fetched: {e}"
                    ));
                    (None, None)
                }
                Err(e) => return Err(e),
            },
            None => (None, None),
        };
        let mut lines = Vec::new();
        for r in &adv.refs {
            if r.name == SESSIONS_REF || (r.name == "HEAD" && adv.head_target.is_some()) {
                continue;
            }
            // Nothing else under refs/lore/ is lore's on a remote: another ref there could be
            // anything (plaintext pushed by mistake, or planted), so it is never fetched.
            if r.name.starts_with("refs/lore/") {
                continue;
            }
            lines.push(format!("{} {}", r.oid, r.name));
        }
        if let Some(p) = plain {
            lines.push(format!("{p} {SESSIONS_REF}"));
        }
        // The remote's own HEAD wins, so `git clone lore::<url>` checks out the code as usual;
        // a store with nothing else in it points HEAD at the sessions.
        match &adv.head_target {
            Some(t) if adv.refs.iter().any(|r| &r.name == t) => lines.push(format!("@{t} HEAD")),
            _ if plain.is_some() && !adv.refs.iter().any(|r| r.name == "HEAD") => {
                lines.push(format!("@{SESSIONS_REF} HEAD"))
            }
            _ => {}
        }
        self.listing = Some(Listing { url, cipher, plain });
        Ok(lines)
    }

    /// Brings the remote's ciphertext tip `advertised` here and decrypts what is new; returns
    /// the ciphertext tip and its plaintext.
    fn receive(
        &mut self,
        url: &str,
        advertised: ObjectId,
    ) -> Result<(ObjectId, ObjectId), RemoteError> {
        // What arrives goes to a holding ref first: the helper's own refs move only once the
        // whole of it has been checked and decrypted.
        let wire = self.wire_ref();
        let incoming = super::incoming_ref(&self.remote.ns);
        let mut cipher = advertised;
        if !self.repo().has_object(cipher) {
            let spec = format!("+{SESSIONS_REF}:{incoming}");
            self.timed("git fetch (sessions)", |s| s.git.fetch(url, &[spec]))?;
            cipher = ref_target(self.repo(), &incoming)?.ok_or_else(|| {
                RemoteError::Io(format!("git fetch did not bring {SESSIONS_REF}"))
            })?;
        }
        let result = self.accept(cipher);
        // The holding ref goes once the tip is checked. It stays only when this machine
        // lacks the key the tip's header names (a rotation, say): nothing of it was read, and
        // `lore sync status` and `lore doctor` find the new header there to say what to do.
        let missing_key = matches!(
            &result,
            Err(RemoteError::Store(
                GitStoreError::NoKey { .. } | GitStoreError::Rotated { .. }
            ))
        );
        if let Some(held) = ref_target(self.repo(), &incoming)?
            && !missing_key
        {
            update_ref(self.repo(), &incoming, Some(held), None, "lore: checked")?;
        }
        if result.is_ok() {
            let current = ref_target(self.repo(), &wire)?;
            if current != Some(cipher) {
                update_ref(
                    self.repo(),
                    &wire,
                    current,
                    Some(cipher),
                    "lore: remote tip",
                )?;
            }
        }
        // What the remote served and lore refused names the remote, in one line.
        let label = self.remote.label.clone();
        result.map(|plain| (cipher, plain)).map_err(|e| match e {
            RemoteError::Store(
                e @ (GitStoreError::Refused { .. }
                | GitStoreError::OldEpoch { .. }
                | GitStoreError::Malformed { .. }
                | GitStoreError::Crypto(_)),
            ) => RemoteError::Served {
                remote: label,
                source: e,
            },
            e => e,
        })
    }

    /// Checks and decrypts the remote's ciphertext tip `cipher`.
    fn accept(&mut self, cipher: ObjectId) -> Result<ObjectId, RemoteError> {
        self.check_rollback(cipher)?;
        let plain = self.timed("decrypt", |s| s.translate(Direction::Decrypt, cipher))?;
        self.cache.set_last_tip(&self.remote.ns, Some(cipher))?;
        // The plaintext view of the remote, for `lore sync` and for people reading it.
        let tracking = self.tracking_ref();
        let current = ref_target(self.repo(), &tracking)?;
        if current != Some(plain) {
            update_ref(
                self.repo(),
                &tracking,
                current,
                Some(plain),
                "lore: fetched",
            )?;
        }
        Ok(plain)
    }

    /// The remote's store only grows: its new tip must be the last one seen there or a
    /// descendant of it. A tip that went back to an ancestor was rolled back; one that does
    /// not descend from it is an unrelated or rewritten history.
    fn check_rollback(&self, cipher: ObjectId) -> Result<(), RemoteError> {
        let Some(last) = self.cache.last_tip(&self.remote.ns)? else {
            return Ok(());
        };
        if last == cipher || !self.repo().has_object(last) || self.is_ancestor(last, cipher) {
            return Ok(());
        }
        // Asked of git, so `git -c lore.allowRollback=true fetch …` counts.
        if self.git.config_bool("lore.allowRollback") {
            // Accepted on purpose, but never a store older than this machine has seen (a
            // commit from before a rotation or before the upgrade to format 2), which the
            // translation below would not look at again for a commit translated before.
            if let Some(header) = self.store.header_at(cipher)? {
                self.check_floor(Direction::Decrypt, cipher, &header)?;
            }
            return Ok(());
        }
        let (old, new) = (last.to_string(), cipher.to_string());
        Err(if self.is_ancestor(cipher, last) {
            RemoteError::Rollback { old, new }
        } else {
            RemoteError::Rewritten { old, new }
        })
    }

    fn is_ancestor(&self, ancestor: ObjectId, of: ObjectId) -> bool {
        ancestor == of
            || self
                .repo()
                .merge_base(ancestor, of)
                .is_ok_and(|base| base.is_some_and(|b| b.detach() == ancestor))
    }

    /// Refuses `tip` (whose header is `header`) when it is older than what this machine has
    /// seen of the store: a format-1 or older-epoch tip from the remote, or a local tip to
    /// encrypt under an older key than the newest this machine holds.
    fn check_floor(
        &self,
        direction: Direction,
        tip: ObjectId,
        header: &StoreHeader,
    ) -> Result<(), RemoteError> {
        let floor = self
            .epochs
            .get(header.store_id_hex())
            .map_err(|e| GitStoreError::Other(e.to_string()))?;
        if let Some((seen, seen_key)) = floor {
            let older = !header.is_format2()
                || header.epoch() < seen
                || (header.epoch() == seen && header.key_id() != seen_key);
            match direction {
                Direction::Decrypt if !header.is_format2() => {
                    return Err(GitStoreError::Refused {
                        commit: tip.to_string(),
                        why: "the remote's store is in format 1, but this machine has seen it in format 2 (rolled back to before its upgrade)".into(),
                    }
                    .into());
                }
                Direction::Decrypt if older => {
                    return Err(GitStoreError::OldEpoch {
                        commit: tip.to_string(),
                        found: header.epoch(),
                        seen,
                    }
                    .into());
                }
                // Encrypt only under the newest key this machine holds.
                Direction::Encrypt if older => {
                    return Err(GitStoreError::Other(format!(
                        "the local store is sealed under key epoch {} of store {}, but this machine has seen epoch {seen}: run 'lore sync' to bring it up to date first",
                        header.epoch(),
                        header.store_id_hex()
                    ))
                    .into());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Translates `tip` and every ancestor not yet translated, parents first.
    fn translate(&mut self, direction: Direction, tip: ObjectId) -> Result<ObjectId, RemoteError> {
        // What this conversation encrypted already counts as translated (it is not in the
        // cache until pushed).
        let mut pending: HashMap<ObjectId, ObjectId> = match direction {
            Direction::Encrypt => self.unpushed.clone(),
            Direction::Decrypt => HashMap::new(),
        };
        if let Some(t) = known(&self.cache, self.store.repo(), &pending, direction, tip)? {
            return Ok(t);
        }
        // Walk back to the commits already translated; order the rest parents first.
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(tip, false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                order.push(id);
                continue;
            }
            if !seen.insert(id)
                || known(&self.cache, self.store.repo(), &pending, direction, id)?.is_some()
            {
                continue;
            }
            stack.push((id, true));
            for p in RawCommit::read(&Odb::loose(self.repo()), id)?.parents {
                stack.push((p, false));
            }
        }
        // The tip's header is the only one unlocked with LORE_PASSPHRASE: an older header
        // (from before a passphrase change) must not open the store with an old passphrase.
        // Older commits' keys come from the tip's header (the keys of before its rotations)
        // and from the keys this machine kept.
        let header = self.store.header_at(tip)?.ok_or(GitStoreError::NoHeader)?;
        self.check_floor(direction, tip, &header)?;
        let keys_store = self.keys.clone();
        let mut keys = Keys::new(move |h: &StoreHeader| find_key(&keys_store, None, h));
        let tip_key = find_key(&self.keys, self.passphrase.as_deref(), &header)?;
        keys.insert(&header, tip_key)?;
        keys.prime(&header)?;
        let expect = Expect {
            store_id: Some(header.store_id()),
        };
        let mut work = Work::default();
        // Everything this translation writes goes into one pack.
        let odb = Odb::packed(self.store.repo())?;
        for id in order {
            let cache = &self.cache;
            let repo = self.store.repo();
            let translated = translate_commit(
                &odb,
                &mut keys,
                direction,
                id,
                |p| {
                    known(cache, repo, &pending, direction, p)
                        .map_err(|e| GitStoreError::Other(e.to_string()))
                },
                &expect,
                &mut work,
            )?;
            pending.insert(id, translated);
        }
        odb.finish()?;
        // Everything verified: this machine has now seen the tip's epoch. (A push records it
        // once the remote took it: a rotation not yet published must not refuse what others
        // push meanwhile.)
        if direction == Direction::Decrypt && header.is_format2() {
            self.epochs
                .raise(header.store_id_hex(), header.epoch(), header.key_id())
                .map_err(|e| GitStoreError::Other(e.to_string()))?;
        }
        let pairs: Vec<(ObjectId, ObjectId)> = pending
            .iter()
            .map(|(src, dst)| match direction {
                Direction::Encrypt => (*src, *dst),
                Direction::Decrypt => (*dst, *src),
            })
            .collect();
        if self.tracing {
            self.trace.push(format!(
                "{direction:?}: {} commits, {} sessions, {} bytes of records",
                pairs.len(),
                work.sessions,
                work.bytes
            ));
        }
        let translated = pending
            .get(&tip)
            .copied()
            .ok_or_else(|| RemoteError::Io(format!("{tip} was not translated")))?;
        match direction {
            // What the remote holds: every process of this repository may build on it.
            Direction::Decrypt => self.cache.record(&pairs)?,
            // Recorded by `after_sessions_push` once the remote took it.
            Direction::Encrypt => self.unpushed = pending,
        }
        Ok(translated)
    }

    /// Answers a fetch batch: the sessions are already here (decrypted during `list`); every
    /// other ref comes with one `git fetch`.
    fn fetch(&mut self, wants: &[(String, String)]) -> Result<(), RemoteError> {
        let listing = self
            .listing
            .clone()
            .ok_or_else(|| RemoteError::Io("git asked to fetch before listing".into()))?;
        let mut names = Vec::new();
        for (oid, name) in wants {
            let have = ObjectId::from_hex(oid.as_bytes())
                .map(|id| self.repo().has_object(id))
                .unwrap_or(false);
            if !have && name != SESSIONS_REF {
                names.push(name.clone());
            }
        }
        if !names.is_empty() {
            self.timed("git fetch (other refs)", |s| {
                s.git.fetch(&listing.url, &names)
            })?;
        }
        // A clone, or a fetch of the code, brings the sessions too: the local store moves to
        // the remote's when it has none or when that is a fast-forward; a local store that has
        // diverged is left for `lore sync` to merge.
        if let Some(plain) = listing.plain {
            let local = ref_target(self.repo(), SESSIONS_REF)?;
            let forward = match local {
                None => true,
                Some(l) => l != plain && self.is_ancestor(l, plain),
            };
            if forward {
                update_ref(
                    self.repo(),
                    SESSIONS_REF,
                    local,
                    Some(plain),
                    "lore: fetched",
                )?;
            }
        }
        Ok(())
    }

    /// Pushes `refs/lore/sessions` as `git push <remote> refs/lore/sessions` would, listing
    /// the remote first (from `listed`, refs the caller saw moments ago, when given: a stale
    /// one costs nothing but a [`Rejected::FetchFirst`]). For `lore sync`'s in-process push.
    pub fn push_sessions(
        &mut self,
        listed: Option<super::wire::Advertised>,
    ) -> Result<PushOutcome, RemoteError> {
        self.listed = listed;
        self.list(true)?;
        let spec = PushSpec {
            force: false,
            src: SESSIONS_REF.into(),
            dst: SESSIONS_REF.into(),
        };
        let mut outcomes = self.push(&[spec])?;
        Ok(outcomes
            .pop()
            .map(|(_, o)| o)
            .unwrap_or_else(|| PushOutcome::Rejected(Rejected::Other("nothing was pushed".into()))))
    }

    /// The steps and their durations recorded so far (when tracing), and the notices.
    pub fn take_trace(&mut self) -> Vec<String> {
        self.trace.drain(..).chain(self.notices.drain(..)).collect()
    }

    /// Pushes a batch: what became of each destination ref, in order.
    fn push(&mut self, specs: &[PushSpec]) -> Result<Vec<(String, PushOutcome)>, RemoteError> {
        let listing = self
            .listing
            .clone()
            .ok_or_else(|| RemoteError::Io("git asked to push before listing".into()))?;
        // dst, and what the helper decided before pushing (None: push it).
        let mut status: Vec<(String, Option<PushOutcome>)> = Vec::new();
        let mut refspecs = Vec::new();
        let mut flags = Vec::new();
        let mut sessions_push: Option<(Option<ObjectId>, bool)> = None; // new cipher, forced
        for spec in specs {
            if spec.dst != SESSIONS_REF {
                refspecs.push(format!(
                    "{}{}:{}",
                    if spec.force { "+" } else { "" },
                    spec.src,
                    spec.dst
                ));
                if let Some(expected) = self.options.cas.get(&spec.dst) {
                    flags.push(format!(
                        "--force-with-lease={}:{}",
                        spec.dst,
                        expected.clone().unwrap_or_default()
                    ));
                }
                status.push((spec.dst.clone(), None));
                continue;
            }
            match self.plan_sessions_push(spec, &listing) {
                Ok(Some((new_cipher, forced))) => {
                    refspecs.push(match new_cipher {
                        Some(c) => format!("{c}:{SESSIONS_REF}"),
                        None => format!(":{SESSIONS_REF}"),
                    });
                    flags.push(format!(
                        "--force-with-lease={SESSIONS_REF}:{}",
                        listing.cipher.map(|c| c.to_string()).unwrap_or_default()
                    ));
                    sessions_push = Some((new_cipher, forced));
                    status.push((spec.dst.clone(), None));
                }
                Ok(None) => status.push((spec.dst.clone(), Some(PushOutcome::UpToDate))),
                Err(why) => status.push((spec.dst.clone(), Some(PushOutcome::Rejected(why)))),
            }
        }
        let refused_here = status
            .iter()
            .any(|(_, o)| matches!(o, Some(PushOutcome::Rejected(_))));
        if self.options.atomic && refused_here {
            return Ok(status
                .into_iter()
                .map(|(dst, o)| match o {
                    Some(o @ PushOutcome::Rejected(_)) => (dst, o),
                    _ => (
                        dst,
                        PushOutcome::Rejected(Rejected::Other("atomic push failed".into())),
                    ),
                })
                .collect());
        }
        let mut results: Vec<PushResult> = Vec::new();
        if !refspecs.is_empty() {
            if self.options.atomic {
                flags.push("--atomic".into());
            }
            if self.options.dry_run {
                flags.push("--dry-run".into());
            }
            for o in &self.options.push_options {
                flags.push(format!("--push-option={o}"));
            }
            let url = self.remote.push_url.clone();
            results = self.timed("git push", |s| s.git.push(&url, &flags, &refspecs))?;
        }
        let user_cas = self.options.cas.contains_key(SESSIONS_REF);
        let mut out = Vec::new();
        for (dst, decided) in status {
            if let Some(o) = decided {
                out.push((dst, o));
                continue;
            }
            let Some(r) = results.iter().find(|r| r.dst == dst) else {
                out.push((
                    dst,
                    PushOutcome::Rejected(Rejected::Other(
                        "git push did not report this ref".into(),
                    )),
                ));
                continue;
            };
            let ok = matches!(r.flag, ' ' | '+' | '*' | '-' | '=');
            if ok {
                let forced =
                    r.flag == '+' || (dst == SESSIONS_REF && sessions_push.is_some_and(|(_, f)| f));
                if dst == SESSIONS_REF && !self.options.dry_run {
                    let new = sessions_push.and_then(|(c, _)| c);
                    self.after_sessions_push(new)?;
                }
                out.push((dst, PushOutcome::Updated { forced }));
            } else {
                // What this push encrypted is not the remote's: a retry starts from what the
                // remote holds.
                if dst == SESSIONS_REF {
                    self.unpushed.clear();
                }
                let reason = reason_of(&r.summary);
                let rejected = match reason.as_str() {
                    "non-fast-forward" => Rejected::NonFastForward,
                    "fetch first" => Rejected::FetchFirst,
                    // The remote moved after we listed it: someone else pushed. (Caught by
                    // git's lease check, or by the server's own compare-and-swap when the
                    // other push landed a moment later.)
                    "stale info" | "failed to update ref" if dst == SESSIONS_REF && !user_cas => {
                        Rejected::FetchFirst
                    }
                    _ => Rejected::Other(reason),
                };
                out.push((dst, PushOutcome::Rejected(rejected)));
            }
        }
        Ok(out)
    }

    /// Decides what pushing `spec` to refs/lore/sessions means: `Ok(None)` when the remote
    /// already has it, `Ok(Some((cipher, forced)))` to push, `Err(why)` to refuse it.
    fn plan_sessions_push(
        &mut self,
        spec: &PushSpec,
        listing: &Listing,
    ) -> Result<Option<(Option<ObjectId>, bool)>, Rejected> {
        if let Some(expected) = self.options.cas.get(SESSIONS_REF) {
            let actual = listing.plain.map(|p| p.to_string());
            if expected.as_deref() != actual.as_deref() {
                return Err(Rejected::Other("stale info".into()));
            }
        }
        if spec.src.is_empty() {
            return match listing.cipher {
                Some(_) => Ok(Some((None, false))),
                None => Ok(None),
            };
        }
        let plain = self
            .repo()
            .rev_parse_single(spec.src.as_str())
            .map(|id| id.detach())
            .map_err(|_| Rejected::Other(format!("cannot resolve {}", spec.src)))?;
        let forced = match listing.plain {
            Some(remote) if !self.is_ancestor(remote, plain) => {
                if !spec.force {
                    return Err(if self.repo().has_object(remote) {
                        Rejected::NonFastForward
                    } else {
                        Rejected::FetchFirst
                    });
                }
                true
            }
            _ => false,
        };
        let cipher = self
            .timed("encrypt", |s| s.translate(Direction::Encrypt, plain))
            .map_err(|e| Rejected::Other(format!("cannot encrypt: {e}")))?;
        if Some(cipher) == listing.cipher {
            return Ok(None);
        }
        Ok(Some((Some(cipher), forced)))
    }

    /// After a push of the sessions: the helper's refs follow the remote (the ciphertext tip,
    /// and the decrypted tracking ref).
    fn after_sessions_push(&mut self, new: Option<ObjectId>) -> Result<(), RemoteError> {
        let pairs: Vec<(ObjectId, ObjectId)> =
            std::mem::take(&mut self.unpushed).into_iter().collect();
        self.cache.record(&pairs)?;
        let plain = match new {
            Some(c) => self.cache.mapped(Direction::Decrypt, c)?,
            None => None,
        };
        for (name, value) in [(self.wire_ref(), new), (self.tracking_ref(), plain)] {
            let current = ref_target(self.repo(), &name)?;
            if current != value {
                update_ref(self.repo(), &name, current, value, "lore: pushed")?;
            }
        }
        self.cache.set_last_tip(&self.remote.ns, new)?;
        // The remote holds the pushed store now: its epoch (a rotation, the upgrade to format
        // 2) is the newest this machine accepts from here on.
        if let Some(p) = plain
            && let Some(header) = self.store.header_at(p)?
            && header.is_format2()
        {
            self.epochs
                .raise(header.store_id_hex(), header.epoch(), header.key_id())
                .map_err(|e| GitStoreError::Other(e.to_string()))?;
        }
        Ok(())
    }
}

/// The translation of `id`: made in this run (`pending`), or remembered in the cache and still
/// in the object database.
fn known(
    cache: &Cache,
    repo: &gix::Repository,
    pending: &HashMap<ObjectId, ObjectId>,
    direction: Direction,
    id: ObjectId,
) -> Result<Option<ObjectId>, RemoteError> {
    if let Some(t) = pending.get(&id) {
        return Ok(Some(*t));
    }
    Ok(cache.mapped(direction, id)?.filter(|t| repo.has_object(*t)))
}

/// The text inside the last parentheses of a porcelain summary (`[rejected] (stale info)`).
fn reason_of(summary: &str) -> String {
    match (summary.rfind('('), summary.rfind(')')) {
        (Some(a), Some(b)) if a < b => summary[a + 1..b].to_owned(),
        _ => summary.trim_matches(['[', ']']).to_owned(),
    }
}

/// The data key for `header`: lore's key store first (the current key, or one from before a
/// rotation), then LORE_PASSPHRASE.
fn find_key(
    keys: &KeyStore,
    passphrase: Option<&String>,
    header: &StoreHeader,
) -> Result<DataKey, GitStoreError> {
    let stored = match keys.load_id(header.store_id_hex(), header.key_id_hex()) {
        // With LORE_PASSPHRASE, a keychain that will not answer is no obstacle.
        Err(crate::keys::KeyError::Keychain { .. }) if passphrase.is_some() => None,
        other => other.map_err(|e| GitStoreError::Other(e.to_string()))?,
    };
    if let Some(key) = stored
        && header.verify_key(&key).is_ok()
    {
        return Ok(key);
    }
    match passphrase {
        Some(p) => header.unlock(p.as_bytes()).map_err(|e| match e {
            CryptoError::WrongPassphrase => GitStoreError::WrongPassphrase {
                store_id: header.store_id_hex().to_owned(),
            },
            e => GitStoreError::Crypto(e),
        }),
        None => Err(crate::gitstore::missing_key(keys, header)),
    }
}

/// Works out the underlying remote from git's two arguments.
fn resolve(git: &Git, alias: &str, address: Option<&str>) -> Result<Remote, RemoteError> {
    let address = address.unwrap_or(alias);
    // A remote's name first (as git does), else a URL or path.
    let named = if address.is_empty() || address.contains(['/', ':', '\\']) {
        None
    } else {
        git.remote_url(address, false).ok()
    };
    let (fetch_url, push_url, ns) = match named {
        Some(fetch_url) => (
            fetch_url,
            git.remote_url(address, true)?,
            super::namespace(address),
        ),
        None => {
            let ns = if !alias.starts_with("lore::") && alias != address {
                super::namespace(alias)
            } else {
                format!("url-{}", super::short_hash(address))
            };
            (address.to_owned(), address.to_owned(), ns)
        }
    };
    for url in [&fetch_url, &push_url] {
        if url.starts_with("lore::") {
            return Err(RemoteError::Recursion(address.to_owned()));
        }
    }
    Ok(Remote {
        label: label(alias, Some(address)),
        fetch_url,
        push_url,
        ns,
    })
}

/// What messages call a remote: git's name for it, or the address after `lore::`.
fn label(alias: &str, address: Option<&str>) -> String {
    match alias.strip_prefix("lore::") {
        Some(rest) => address.unwrap_or(rest).to_owned(),
        None => alias.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        assert_eq!(reason_of("[rejected] (stale info)"), "stale info");
        assert_eq!(
            reason_of("[remote rejected] (hook declined)"),
            "hook declined"
        );
        assert_eq!(reason_of("[up to date]"), "up to date");
    }
}
