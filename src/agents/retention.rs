//! When a tool deletes its own transcripts: Claude Code removes transcripts not modified for
//! `cleanupPeriodDays` days (default 30) when it starts. Read from the user's settings; a file
//! that does not parse counts as the default. Spec: docs/capture.md, "Warn before loss".

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Claude Code's default `cleanupPeriodDays`.
pub const CLAUDE_DEFAULT_DAYS: u64 = 30;

/// "Soon": transcripts a tool deletes within this many days are flagged.
pub const SOON_DAYS: u64 = 7;

/// A tool's retention setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: u64,
    /// The user set it (otherwise it is the tool's default).
    pub explicit: bool,
}

/// Claude Code's retention from its settings file at `settings`.
pub fn claude(settings: &Path) -> Retention {
    let set = std::fs::read_to_string(settings).ok().and_then(|t| {
        let node = super::json_edit::parse(&t).ok()?;
        node.get("cleanupPeriodDays")?.value.value(&t).as_u64()
    });
    match set {
        Some(days) => Retention {
            days,
            explicit: true,
        },
        None => Retention {
            days: CLAUDE_DEFAULT_DAYS,
            explicit: false,
        },
    }
}

/// Whether a transcript last modified at `mtime` will be deleted within [`SOON_DAYS`] under
/// `r` (already past its age counts too: the tool deletes it at its next start).
pub fn deleted_soon(r: Retention, mtime: SystemTime, now: SystemTime) -> bool {
    let age = now.duration_since(mtime).unwrap_or(Duration::ZERO);
    let limit = Duration::from_secs(r.days.saturating_sub(SOON_DAYS) * 86_400);
    age >= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_setting_and_flags_old_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("settings.json");
        assert_eq!(claude(&p).days, 30);
        std::fs::write(&p, "{\"cleanupPeriodDays\": 90}").unwrap();
        assert_eq!(
            claude(&p),
            Retention {
                days: 90,
                explicit: true
            }
        );
        let r = Retention {
            days: 30,
            explicit: false,
        };
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        assert!(deleted_soon(r, now - 24 * day, now));
        assert!(!deleted_soon(r, now - 22 * day, now));
    }
}

/// What is on disk and not in lore, for `lore status`, `lore doctor` and `lore init`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gaps {
    /// Transcripts under the default locations whose current content is not in lore.
    pub not_imported: usize,
    /// Of those, Claude Code's that its retention deletes within [`SOON_DAYS`].
    pub deleted_soon: usize,
    /// Claude Code's retention, when Claude Code is there.
    pub claude: Option<Retention>,
}

/// Counts what [`Gaps`] holds for the default locations `loc`.
pub fn gaps(
    store: Option<&crate::db::Db>,
    loc: &crate::capture::DefaultLocations,
) -> Result<Gaps, crate::db::DbError> {
    let candidates = loc.candidates();
    let pending = crate::import::not_imported(store, &candidates)?;
    let claude = loc
        .claude
        .iter()
        .find(|r| r.is_dir())
        .map(|r| claude(&super::settings::resolve(&r.join("settings.json"))));
    let now = SystemTime::now();
    let deleted_soon = match claude {
        Some(r) => pending
            .iter()
            .filter(|c| c.tool == Some(crate::model::Tool::ClaudeCode))
            .filter(|c| {
                std::fs::metadata(&c.path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| deleted_soon(r, t, now))
            })
            .count(),
        None => 0,
    };
    Ok(Gaps {
        not_imported: pending.len(),
        deleted_soon,
        claude,
    })
}
