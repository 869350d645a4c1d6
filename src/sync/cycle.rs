//! One `lore sync`: fetch the store through the helper, merge what arrived into lore.db, put
//! the local store on top of the remote's, export this repository's sessions into it, push.
//! A push that loses a race starts over (bounded, with jitter); nothing is ever forced.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use gix::ObjectId;

use super::SyncError;
use super::merge::{Merged, merge_record};
use crate::gitstore::local::{export, ref_target, update_ref};
use crate::gitstore::{LocalStore, SESSIONS_REF};
use crate::redact::Redactor;
use crate::remote::wire::Git;
use crate::store::Store;

/// How many times a sync tries before it gives up on a remote that keeps moving.
pub const MAX_ATTEMPTS: u32 = 6;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Sessions new here, changed here, deleted here.
    pub added: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Sessions written into the store and pushed.
    pub pushed: usize,
    /// Whether the remote's store moved (false: it was up to date).
    pub pushed_commit: bool,
    /// Tries it took (more than one when another push won a race).
    pub attempts: u32,
}

/// Everything one sync works with.
pub struct Sync<'a> {
    pub db: &'a mut Store,
    pub local: &'a LocalStore,
    /// git for the user's own commands (not the helper's).
    pub git: &'a Git,
    /// The remote's name.
    pub remote: &'a str,
    /// Work tree roots of this repository: sessions whose working directory is inside one
    /// of them belong to its store.
    pub roots: Vec<PathBuf>,
    /// Secrets are replaced in every record that leaves the machine.
    pub redactor: &'a Redactor,
}

impl Sync<'_> {
    /// What git calls the remote through the helper: `lore::<name>`, or the name itself when
    /// its URL is already a `lore::` URL (a clone made with `git clone lore::…`).
    fn target(&self) -> Result<String, SyncError> {
        let url = self.git.remote_url(self.remote, false)?;
        Ok(if url.starts_with("lore::") {
            self.remote.to_owned()
        } else {
            format!("lore::{}", self.remote)
        })
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
        let target = self.target()?;
        let mut report = Report::default();
        for attempt in 1..=MAX_ATTEMPTS {
            report.attempts = attempt;
            self.git.fetch(
                &target,
                &[format!(
                    "+refs/lore/*:refs/lore/remotes/{}/*",
                    crate::remote::namespace(self.remote)
                )],
            )?;
            let remote_tip = ref_target(self.local.repo(), &self.tracking_ref())?;
            if let Some(tip) = remote_tip {
                self.merge_into_db(tip, &mut report)?;
            }
            let local_side = self.rebase_store(remote_tip)?;
            let written = self.export(local_side)?;
            report.pushed += written;
            let tip = self.local.tip()?;
            if tip.is_none() || tip == remote_tip {
                self.note_success();
                return Ok(report);
            }
            let results =
                self.git
                    .push(&target, &[], &[format!("{SESSIONS_REF}:{SESSIONS_REF}")])?;
            let ok = results
                .iter()
                .any(|r| r.dst == SESSIONS_REF && matches!(r.flag, ' ' | '*' | '='));
            if ok {
                report.pushed_commit = true;
                self.note_success();
                return Ok(report);
            }
            let why = results
                .iter()
                .find(|r| r.dst == SESSIONS_REF)
                .map(|r| r.summary.clone())
                .unwrap_or_default();
            if !(why.contains("fetch first") || why.contains("non-fast-forward")) {
                return Err(SyncError::PushRejected(why));
            }
            // Someone else pushed first: wait a little (growing, with jitter), then again.
            std::thread::sleep(backoff(attempt));
        }
        Err(SyncError::TooManyRaces(MAX_ATTEMPTS))
    }

    /// Notes the time of this successful sync for `lore sync status` (best effort: a sync
    /// that cannot note it has still synced).
    fn note_success(&self) {
        let path = super::status::last_sync_file(self.local);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, crate::store::now_ms().to_string());
    }

    /// Merges the records that changed on the remote since the last merge into lore.db, in
    /// one versioned commit.
    fn merge_into_db(
        &mut self,
        remote_tip: ObjectId,
        report: &mut Report,
    ) -> Result<(), SyncError> {
        let merged_ref = self.merged_ref();
        let since = ref_target(self.local.repo(), &merged_ref)?;
        if since == Some(remote_tip) {
            return Ok(());
        }
        let mut changed = Vec::new();
        self.local.changed_records(since, remote_tip, |id, blob| {
            changed.push((id.to_owned(), blob));
            Ok(())
        })?;
        let local = self.local;
        let redactor = self.redactor;
        let remote = self.remote.to_owned();
        let counts = self.db.write(&format!("sync: from {remote}"), |w| {
            let (mut added, mut updated, mut deleted) = (0, 0, 0);
            for (id, blob) in &changed {
                let bytes = local.read_blob(*blob).map_err(SyncError::from)?;
                match merge_record(w, id, &bytes, redactor)? {
                    Merged::Added => added += 1,
                    Merged::Updated => updated += 1,
                    Merged::Deleted => deleted += 1,
                    Merged::Unchanged => {}
                }
            }
            w.set_message(format!(
                "sync: {} sessions from {remote} ({added} new, {updated} updated, {deleted} deleted)",
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
        Ok(())
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
        self.local
            .merge_commit(local_tip, remote_tip, "lore: sync merge")?;
        Ok(ids)
    }

    /// Writes into the store this repository's sessions, the sessions the local side changed,
    /// and the tombstones of sessions the store holds. Returns how many records changed.
    fn export(&mut self, local_side: Vec<String>) -> Result<usize, SyncError> {
        let mut ids: BTreeSet<String> = local_side.into_iter().collect();
        for root in &self.roots {
            ids.extend(super::repo_session_ids(self.db, root)?);
        }
        if let Some(tip) = self.local.tip()? {
            for id in self.db.tombstone_ids()? {
                let held = self.local.read_record(tip, &id).map_err(SyncError::from)?;
                if held.is_some() {
                    ids.insert(id);
                }
            }
        }
        if self.local.tip()?.is_none() {
            return Ok(0);
        }
        let outcome = export(self.db, self.local, ids, self.redactor)?;
        Ok(outcome.written)
    }
}

/// How long to wait before try `attempt + 1`: 50 ms doubling, with up to as much again of
/// jitter, so racing machines spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64 << attempt.min(6);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
    Duration::from_millis(base + jitter)
}
