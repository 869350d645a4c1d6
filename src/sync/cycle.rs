//! One `lore sync`: look whether anything moved, fetch the store through the helper, merge what
//! arrived into lore.db, put the local store on top of the remote's, export the sessions that
//! changed into it, push. A push that loses a race starts over (bounded, with jitter); nothing
//! is ever forced. docs/sync.md lists the steps.

use std::collections::BTreeSet;
use std::time::Duration;

use gix::ObjectId;

use super::SyncError;
use super::merge::{Merged, merge_record};
use super::record::{MachineAlias, export};
use super::state::{self, SyncState};
use crate::db::Db;
use crate::gitstore::local::{ref_target, update_ref};
use crate::gitstore::{GitStoreError, LocalStore, SESSIONS_REF};
use crate::redact::Redactor;
use crate::remote::conversation::Options;
use crate::remote::wire::Git;
use crate::remote::{Conversation, PushOutcome, Rejected};

/// How many times a sync tries before it gives up on a remote that keeps moving.
pub const MAX_ATTEMPTS: u32 = 6;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Sessions new here, changed here, deleted here.
    pub added: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Sessions pushed: those the pushed tip changes against the remote's store.
    pub pushed: usize,
    /// Sessions the remote's store no longer held although nobody deleted them (the host
    /// withheld them, or an old lore dropped them), written again from lore.db.
    pub restored: Vec<String>,
    /// Sessions this machine wrote that someone deleted from the shared store: kept here,
    /// not shared again.
    pub kept: Vec<String>,
    /// Whether the remote's store moved (false: it was up to date).
    pub pushed_commit: bool,
    /// Tries it took (more than one when another push won a race).
    pub attempts: u32,
    /// How long each step took, in order (`LORE_TRACE=1` shows them).
    pub steps: Vec<(&'static str, Duration)>,
    /// The push's own steps, as the helper times them.
    pub push_trace: Vec<String>,
}

impl Report {
    fn step<T>(&mut self, name: &'static str, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let value = f();
        self.steps.push((name, started.elapsed()));
        value
    }
}

/// Everything one sync works with.
pub struct Sync<'a> {
    pub db: &'a mut Db,
    pub local: &'a LocalStore,
    /// git for the user's own commands (not the helper's).
    pub git: &'a Git,
    /// The remote's name.
    pub remote: &'a str,
    /// Which sessions belong to this store.
    pub scope: super::Scope,
    /// Secrets are replaced in every record that leaves the machine.
    pub redactor: &'a Redactor,
    /// The store's key (the keychain or LORE_HOME/keys) and LORE_PASSPHRASE, for the push, which runs the
    /// helper's code in this process.
    pub keys: crate::keys::KeyStore,
    pub passphrase: Option<zeroize::Zeroizing<String>>,
    /// This machine's id: a session it wrote that someone deleted from the shared store stays
    /// here.
    pub machine_id: String,
    /// This machine's local secret (`LORE_HOME/machine-secret`), from which its id in this
    /// store is derived ([`MachineAlias`]).
    pub machine_secret: zeroize::Zeroizing<[u8; 32]>,
}

impl Sync<'_> {
    /// This machine's id in the store whose header is at `commit` (the local tip when
    /// `None`); `None` without a store.
    fn alias_at(&self, commit: Option<ObjectId>) -> Result<Option<MachineAlias>, SyncError> {
        let header = match commit {
            Some(c) => self.local.header_at(c)?,
            None => self.local.header()?,
        };
        Ok(header
            .map(|h| MachineAlias::derive(&self.machine_id, &self.machine_secret, &h.store_id())))
    }

    /// What git calls the remote through the helper: `lore::<name>`, or the name itself when
    /// its URL is already a `lore::` URL (a clone made with `git clone lore::…`). With it, the
    /// remote's push URL as the helper would resolve it (`None` for a `lore::` remote, which
    /// the helper resolves itself).
    fn target(&self) -> Result<(String, Option<String>), SyncError> {
        let url = self.git.remote_url(self.remote, true)?;
        Ok(if url.starts_with("lore::") {
            (self.remote.to_owned(), None)
        } else {
            (format!("lore::{}", self.remote), Some(url))
        })
    }

    /// The helper's configuration for pushing to `target` (`lore::<name>`, or a `lore::`
    /// remote's name) with the push URL the caller resolved: built once per sync.
    fn helper_config(
        &self,
        target: &str,
        push_url: Option<&str>,
    ) -> Result<crate::remote::HelperConfig, SyncError> {
        // The two arguments git would give the helper for `target`.
        let (alias, address) = match target.strip_prefix("lore::") {
            Some(rest) => (target.to_owned(), rest.to_owned()),
            None => (
                target.to_owned(),
                self.git
                    .remote_url(target, true)?
                    .trim_start_matches("lore::")
                    .to_owned(),
            ),
        };
        Ok(crate::remote::HelperConfig {
            alias,
            address: Some(address),
            git_dir: Some(self.local.repo().git_dir().to_path_buf()),
            keys: self.keys.clone(),
            passphrase: self.passphrase.clone(),
            git_program: self.git.program.clone(),
            nested: false,
            trace: true,
            push_url: push_url.map(str::to_owned),
            sessions_required: true,
        })
    }

    /// Pushes refs/lore/sessions as `git push <target> refs/lore/sessions` would, through the
    /// helper's own code in this process (encryption, the lease on the remote's tip, the
    /// fast-forward check, the refs it moves afterwards) without starting git and the helper.
    /// `listed`: the remote's ciphertext tip as ls-remote saw it moments ago.
    fn push_store(
        &self,
        conversation: &mut Option<Conversation>,
        config: &crate::remote::HelperConfig,
        listed: Option<&str>,
        trace: &mut Vec<String>,
    ) -> Result<PushOutcome, SyncError> {
        if conversation.is_none() {
            *conversation = Some(Conversation::open(config, Options::default())?);
        }
        let Some(c) = conversation.as_mut() else {
            return Err(SyncError::PushRejected("the helper did not start".into()));
        };
        let listed = listed.map(|oid| crate::remote::wire::Advertised {
            refs: vec![crate::remote::wire::RemoteRef {
                name: SESSIONS_REF.to_owned(),
                oid: oid.to_owned(),
            }],
            head_target: None,
        });
        let outcome = c.push_sessions(listed);
        trace.extend(c.take_trace());
        Ok(outcome?)
    }

    fn tracking_ref(&self) -> String {
        crate::remote::tracking_ref(&crate::remote::namespace(self.remote))
    }

    /// The remote commit last merged into lore.db.
    fn merged_ref(&self) -> String {
        format!(
            "refs/lore/merged/{}/sessions",
            crate::remote::namespace(self.remote)
        )
    }

    /// Runs the sync, retrying when another push wins the race.
    pub fn run(&mut self) -> Result<Report, SyncError> {
        // One sync at a time per repository (a hook's and the user's, say): the others wait.
        // The lock goes with the process, however it ends.
        let _lock = super::lock::SyncLock::acquire(self.local.repo().common_dir())?;
        let mut report = Report::default();
        let scope = state::scope(&self.scope, &self.redactor.fingerprint());
        let previous = state::load(self.local, self.remote).filter(|s| s.scope == scope);
        let db_head = self.db.head()?;
        // One `git ls-remote`: when the remote's store is where the last sync left it, there
        // is nothing to fetch (and, with nothing new here either, nothing to do at all).
        let wire_tip = previous
            .as_ref()
            .and_then(SyncState::wire_tip)
            .map(|t| t.to_string());
        let remote_unchanged = match &wire_tip {
            Some(tip) => {
                let now = report.step("git ls-remote", || {
                    // The ciphertext tip, asked of the underlying remote with plain git (for a
                    // remote whose URL is `lore::…`, of the address behind it): no helper, no
                    // key, and comparable with the ciphertext tip the last sync recorded.
                    // (Read from the repository's config, not asked of git: no extra process.)
                    let config = self.local.repo().config_snapshot();
                    let url = config
                        .string(format!("remote.{}.url", self.remote).as_str())
                        .map(|u| u.to_string());
                    match url.as_deref().and_then(|u| u.strip_prefix("lore::")) {
                        Some(address) => self.git.ls_remote_ref(address, SESSIONS_REF),
                        None => self.git.ls_remote_ref(self.remote, SESSIONS_REF),
                    }
                })?;
                now.as_ref() == Some(tip)
            }
            None => false,
        };
        if let Some(previous) = &previous
            && remote_unchanged
            && previous.db_head == db_head
            && self.local.tip()? == previous.store_tip()
        {
            self.note_success();
            report.attempts = 1;
            return Ok(report);
        }
        // No key, or a key store that cannot be read (a locked keychain, a key file others
        // can read), stops the sync here, before anything is written, rather than at the push.
        if let Some(header) = self.local.header()? {
            let key = match self
                .keys
                .load_id(header.store_id_hex(), header.key_id_hex())
            {
                // With LORE_PASSPHRASE, a keychain that will not answer is no obstacle.
                Err(crate::keys::KeyError::Keychain { .. }) if self.passphrase.is_some() => None,
                other => other.map_err(SyncError::Key)?,
            };
            if key.is_none() && self.passphrase.is_none() {
                return Err(crate::gitstore::missing_key(&self.keys, &header).into());
            }
        }
        // Which sessions to export: those changed since the last sync exported (found in
        // lore.db's history), or, without a usable record of that, every session here.
        let since = previous.as_ref().and_then(|p| p.db_head.as_deref());
        let changed = match since {
            Some(since) => report.step("changes in lore.db", || {
                self.db.sessions_changed_since(Some(since), &[])
            })?,
            None => None,
        };
        let mut todo = match changed {
            Some(changed) => Todo::Only(changed.ids),
            None => Todo::Everything(BTreeSet::new()),
        };
        let (target, push_url) = report.step("git remote get-url", || self.target())?;
        let config = self.helper_config(&target, push_url.as_deref())?;
        let mut conversation = None;
        // The remote's store as this machine last saw it (its own pushes included): a session
        // it held then and the remote no longer holds is restored, whoever wrote it.
        let last_seen = ref_target(self.local.repo(), &self.tracking_ref())?;
        let mut own_commits = Vec::new();
        for attempt in 1..=MAX_ATTEMPTS {
            report.attempts = attempt;
            if attempt > 1 || !remote_unchanged {
                // A glob, so that a remote without a store yet is no error; the helper lists
                // nothing under refs/lore/ but the store (nothing else there is lore's).
                let refspec = format!(
                    "+refs/lore/*:refs/lore/remotes/{}/*",
                    crate::remote::namespace(self.remote)
                );
                report.step("git fetch", || self.git.fetch_sessions(&target, &[refspec]))?;
            }
            let remote_tip = ref_target(self.local.repo(), &self.tracking_ref())?;
            if let Some(tip) = remote_tip {
                let started = std::time::Instant::now();
                let merged = self.merge_into_db(tip, last_seen, &mut report)?;
                report.steps.push(("merge into lore.db", started.elapsed()));
                own_commits.extend(self.db.last_commit().map(str::to_owned));
                todo.arrived(merged.arrived);
                todo.extend(merged.both_sides);
            }
            let local_side = report.step("merge stores", || self.rebase_store(remote_tip))?;
            todo.extend(local_side);
            report.step("upgrade store", || self.upgrade_store())?;
            let forced: BTreeSet<String> = report.restored.iter().cloned().collect();
            let written = report.step("export", || self.export(&todo, &forced))?;
            report.pushed += written;
            let tip = self.local.tip()?;
            if tip.is_none() || tip == remote_tip {
                report.step("record state", || self.finish(scope, db_head, &own_commits));
                return Ok(report);
            }
            let mut push_trace = Vec::new();
            let pushed = report.step("push", || {
                // On the first try the remote is where ls-remote just saw it.
                let listed = wire_tip
                    .as_deref()
                    .filter(|_| attempt == 1 && remote_unchanged);
                self.push_store(&mut conversation, &config, listed, &mut push_trace)
            })?;
            report.push_trace.extend(push_trace);
            match pushed {
                PushOutcome::Updated { .. } | PushOutcome::UpToDate => {
                    report.pushed_commit = true;
                    // What went out: every session the pushed tip changed against the remote's,
                    // including ones an earlier, failed sync exported but could not push.
                    if let Some(tip) = tip {
                        let mut pushed = 0;
                        self.local.changed_records(remote_tip, tip, |_, _| {
                            pushed += 1;
                            Ok(())
                        })?;
                        report.pushed = pushed;
                    }
                    report.step("record state", || self.finish(scope, db_head, &own_commits));
                    return Ok(report);
                }
                // Someone else pushed first: wait a little (growing, with jitter), then again.
                PushOutcome::Rejected(Rejected::FetchFirst | Rejected::NonFastForward) => {
                    std::thread::sleep(backoff(attempt));
                }
                PushOutcome::Rejected(Rejected::Other(why)) => {
                    return Err(SyncError::PushRejected(why));
                }
            }
        }
        Err(SyncError::TooManyRaces(MAX_ATTEMPTS))
    }

    /// Records a successful sync: its time for `lore sync status`, and where lore.db, the local
    /// store and the remote's store stand for the next sync.
    /// `db_head` is lore.db's head before this sync; when everything after it is this sync's
    /// own merges (`own_commits`), the new head is recorded (their sessions are in the store
    /// already).
    fn finish(&self, scope: String, db_head: Option<String>, own_commits: &[String]) {
        self.note_success();
        // Every store write adds a pack; git's own limits decide when to put them together.
        if self.pack_count() > PACK_LIMIT {
            self.git.gc_auto();
        }
        let head = match self
            .db
            .sessions_changed_since(db_head.as_deref(), own_commits)
        {
            Ok(Some(changed)) if changed.ids.is_empty() => changed.head,
            _ => db_head,
        };
        let wire = ref_target(
            self.local.repo(),
            &crate::remote::wire_ref(&crate::remote::namespace(self.remote)),
        );
        let (Ok(store_tip), Ok(wire_tip)) = (self.local.tip(), wire) else {
            state::clear(self.local, self.remote);
            return;
        };
        state::save(
            self.local,
            self.remote,
            &SyncState {
                version: 1,
                db_head: head,
                scope,
                store_tip: store_tip.map(|t| t.to_string()),
                wire_tip: wire_tip.map(|t| t.to_string()),
            },
        );
    }

    /// How many packs the repository's object database has.
    fn pack_count(&self) -> usize {
        let dir = self.local.repo().common_dir().join("objects").join("pack");
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                .count()
        })
    }

    /// Notes the time of this successful sync for `lore sync status` (best effort: a sync
    /// that cannot note it has still synced).
    fn note_success(&self) {
        let path = super::status::last_sync_file(self.local);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, crate::versioning::now_ms().to_string());
    }

    /// Merges the records that changed on the remote since the last merge into lore.db, in
    /// one versioned commit. Says which sessions may now differ from the remote's record (both
    /// sides had changes: they are exported again) and which arrived as they are.
    fn merge_into_db(
        &mut self,
        remote_tip: ObjectId,
        last_seen: Option<ObjectId>,
        report: &mut Report,
    ) -> Result<MergeOutcome, SyncError> {
        let merged_ref = self.merged_ref();
        let since = ref_target(self.local.repo(), &merged_ref)?;
        if since == Some(remote_tip) {
            return Ok(MergeOutcome::default());
        }
        let mut changed = Vec::new();
        self.local.changed_records(since, remote_tip, |id, blob| {
            changed.push((id.to_owned(), blob));
            Ok(())
        })?;
        // A session the remote's store held at the last merge, or when this machine last saw
        // it (after its own push, say), and holds no more, without a tombstone, was withheld:
        // lore.db keeps it, and the export writes it again.
        let mut missing = BTreeSet::new();
        for old in [since, last_seen].into_iter().flatten() {
            if old != remote_tip {
                self.local.changed_records(Some(remote_tip), old, |id, _| {
                    missing.insert(id.to_owned());
                    Ok(())
                })?;
            }
        }
        let mut restored = Vec::new();
        for id in missing {
            if self.local.read_record(remote_tip, &id)?.is_none() && self.db.has_session(&id)? {
                restored.push(id);
            }
        }
        let local = self.local;
        let redactor = self.redactor;
        let machine = self.machine_id.clone();
        let alias = self.alias_at(Some(remote_tip))?;
        let remote = self.remote.to_owned();
        let (mut both_sides, mut arrived, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        let counts = self.db.write(&format!("{SYNC_PREFIX} from {remote}"), |w| {
            let (mut added, mut updated, mut deleted) = (0, 0, 0);
            for (id, blob) in &changed {
                let bytes = local.read_blob(*blob).map_err(SyncError::from)?;
                match merge_record(w, id, &bytes, redactor, &machine, alias.as_ref())? {
                    Merged::Added => {
                        added += 1;
                        arrived.push(id.clone());
                    }
                    Merged::Updated => {
                        updated += 1;
                        both_sides.push(id.clone());
                    }
                    Merged::Deleted => deleted += 1,
                    Merged::Kept => kept.push(id.clone()),
                    Merged::Unchanged => {}
                }
            }
            w.set_message(format!(
                "{SYNC_PREFIX} {} sessions from {remote} ({added} new, {updated} updated, {deleted} deleted)",
                added + updated + deleted
            ));
            Ok::<_, SyncError>((added, updated, deleted))
        })?;
        report.added += counts.0;
        report.updated += counts.1;
        report.deleted += counts.2;
        update_ref(
            self.local.repo(),
            &merged_ref,
            since,
            Some(remote_tip),
            "lore: merged",
        )?;
        both_sides.extend(restored.iter().cloned());
        report.restored.extend(restored);
        report.kept.extend(kept);
        Ok(MergeOutcome {
            both_sides,
            arrived,
        })
    }

    /// Puts the local store on top of the remote's: a fast-forward when it has nothing of
    /// its own, else a merge commit whose tree is the remote's. Returns the ids of the
    /// sessions the local side changed since the two diverged: they are exported again on
    /// top.
    fn rebase_store(&self, remote_tip: Option<ObjectId>) -> Result<Vec<String>, SyncError> {
        let Some(remote_tip) = remote_tip else {
            return Ok(Vec::new());
        };
        let repo = self.local.repo();
        let Some(local_tip) = self.local.tip()? else {
            update_ref(repo, SESSIONS_REF, None, Some(remote_tip), "lore: sync")?;
            return Ok(Vec::new());
        };
        if local_tip == remote_tip {
            return Ok(Vec::new());
        }
        let base = repo
            .merge_base(local_tip, remote_tip)
            .ok()
            .flatten()
            .map(|b| b.detach());
        if base == Some(local_tip) {
            update_ref(
                repo,
                SESSIONS_REF,
                Some(local_tip),
                Some(remote_tip),
                "lore: sync",
            )?;
            return Ok(Vec::new());
        }
        if base == Some(remote_tip) {
            return Ok(Vec::new());
        }
        let mut ids = Vec::new();
        self.local.changed_records(base, local_tip, |id, _| {
            ids.push(id.to_owned());
            Ok(())
        })?;
        // The merge takes the remote's sessions, and the newer of the two headers: a rotation
        // (or the upgrade to format 2) made here and not yet pushed is kept.
        let (ours, theirs) = (
            self.local.header_at(local_tip)?,
            self.local.header_at(remote_tip)?,
        );
        let header = match (ours, theirs) {
            (Some(o), Some(t))
                if o.store_id() == t.store_id()
                    && ((o.is_format2() && !t.is_format2())
                        || (o.is_format2() == t.is_format2() && o.epoch() > t.epoch())) =>
            {
                Some(o)
            }
            _ => None,
        };
        self.local
            .merge_commit(local_tip, remote_tip, header.as_ref(), "lore: sync merge")?;
        Ok(ids)
    }

    /// Upgrades a format-1 store to format 2 (docs/store-format.md, "Upgrading a format-1
    /// store"): a commit whose header is the same key's format-3 header. The push then writes
    /// the store's first manifest. Nothing to do for a format-2 store or no store.
    fn upgrade_store(&self) -> Result<(), SyncError> {
        let Some(header) = self.local.header()? else {
            return Ok(());
        };
        if header.is_format2() {
            return Ok(());
        }
        let stored = match self
            .keys
            .load_id(header.store_id_hex(), header.key_id_hex())
        {
            Err(crate::keys::KeyError::Keychain { .. }) if self.passphrase.is_some() => None,
            other => other.map_err(SyncError::Key)?,
        };
        let key = match (stored, &self.passphrase) {
            (Some(k), _) if header.verify_key(&k).is_ok() => k,
            (_, Some(p)) => header.unlock(p.as_bytes()).map_err(GitStoreError::from)?,
            _ => return Err(crate::gitstore::missing_key(&self.keys, &header).into()),
        };
        let upgraded = header.upgraded(&key).map_err(GitStoreError::from)?;
        // Recorded as format 2 on this machine once the push lands (the helper does that).
        self.local.write_header(&upgraded, "lore: store format 2")?;
        Ok(())
    }

    /// Writes into the store the sessions of `todo` that belong in it, and returns how many
    /// records changed. A session belongs when its working directory is inside one of this
    /// repository's work trees, or when the store holds it already (a teammate's session
    /// changed here, a session deleted here: its tombstone replaces it).
    fn export(&mut self, todo: &Todo, forced: &BTreeSet<String>) -> Result<usize, SyncError> {
        let Some(tip) = self.local.tip()? else {
            return Ok(0);
        };
        let mut ids: BTreeSet<String> = BTreeSet::new();
        match todo {
            Todo::Everything(arrived) => {
                ids.extend(self.scope.session_ids(self.db)?);
                self.local.for_each_record(tip, |id, _| {
                    ids.insert(id.to_owned());
                    Ok(())
                })?;
                ids.retain(|id| !arrived.contains(id));
            }
            Todo::Only(changed) => {
                for id in changed {
                    if super::belongs(self.db, self.local, tip, &self.scope, id)? {
                        ids.insert(id.clone());
                    }
                }
            }
        }
        // Sessions the remote's store lost: they belonged to it whoever wrote them.
        ids.extend(forced.iter().cloned());
        let skip = self.reconcile(tip, &ids)?;
        ids.retain(|id| !skip.contains(id));
        let alias = self.alias_at(None)?;
        let outcome = export(self.db, self.local, ids, self.redactor, alias.as_ref())?;
        Ok(outcome.written)
    }

    /// Before an export: brings into lore.db the store's record of each session about to be
    /// written whenever the two differ, by the merge rules, so that an export never makes the
    /// store's record lose. A sync reverted in lore.db, an older copy, a deletion that
    /// arrived: every machine converges on what the rules say. Returns the sessions not to
    /// export: those the store holds deleted (the store has the tombstone already; an author
    /// keeps their copy but does not share it again).
    fn reconcile(
        &mut self,
        tip: ObjectId,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, SyncError> {
        let mut differing = Vec::new();
        let mut skip = BTreeSet::new();
        let alias = self.alias_at(Some(tip))?;
        for id in ids {
            let Some(theirs) = self.local.read_record(tip, id)? else {
                continue;
            };
            let ours =
                super::record::record_from_store(self.db, id, Some(self.redactor), alias.as_ref())?;
            if ours.as_deref() == Some(theirs.as_slice()) {
                continue;
            }
            if serde_json::from_slice::<crate::gitstore::record::TombstoneRecord>(&theirs).is_ok() {
                skip.insert(id.clone());
            }
            differing.push((id.clone(), theirs));
        }
        if differing.is_empty() {
            return Ok(skip);
        }
        let (redactor, machine) = (self.redactor, self.machine_id.clone());
        self.db.write(
            &format!("{SYNC_PREFIX} sessions reconciled with the store"),
            |w| {
                for (id, theirs) in &differing {
                    merge_record(w, id, theirs, redactor, &machine, alias.as_ref())?;
                }
                Ok::<_, SyncError>(())
            },
        )?;
        Ok(skip)
    }
}

/// Above this many packs a sync asks git to tidy up (`git gc --auto`, which applies git's own
/// `gc.autoPackLimit`, 50 by default).
const PACK_LIMIT: usize = 50;

/// The prefix of the messages of sync's own commits in lore.db.
const SYNC_PREFIX: &str = "sync:";

/// Which sessions a sync exports.
enum Todo {
    /// Every session of this store, except those that arrived from the remote as they are
    /// (their record is the store's already).
    Everything(BTreeSet<String>),
    /// Only these (changed since the last sync), when they belong to this store.
    Only(BTreeSet<String>),
}

impl Todo {
    /// Sessions to export whatever the case.
    fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        match self {
            Todo::Only(set) => set.extend(ids),
            Todo::Everything(arrived) => {
                for id in ids {
                    arrived.remove(&id);
                }
            }
        }
    }

    /// Sessions merged into lore.db exactly as the remote holds them.
    fn arrived(&mut self, ids: impl IntoIterator<Item = String>) {
        if let Todo::Everything(arrived) = self {
            arrived.extend(ids);
        }
    }
}

/// What merging the remote's changes into lore.db did, for the export that follows.
#[derive(Default)]
struct MergeOutcome {
    /// Changed on both sides: the merged version may differ from the remote's.
    both_sides: Vec<String>,
    /// New here, taken as they are.
    arrived: Vec<String>,
}

/// How long to wait before try `attempt + 1`: 50 ms doubling, with up to as much again of
/// jitter, so racing machines spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64 << attempt.min(6);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
    Duration::from_millis(base + jitter)
}
