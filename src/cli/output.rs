//! Shared rendering: times, ids, styles, errors.

use anstyle::{AnsiColor, Style};
use jiff::{Timestamp, tz::TimeZone};

pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();
pub const ID: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
pub const HIT: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
pub const WARN: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));

/// Unix ms as local `YYYY-MM-DD HH:MM`.
pub fn local_time(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "-".into();
    };
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned(TimeZone::system())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => "-".into(),
    }
}

pub use lore::answer::iso;

/// "3 minutes ago", "2 days ago".
pub fn ago(ms: i64) -> String {
    let now = Timestamp::now().as_millisecond();
    let secs = (now - ms).max(0) / 1000;
    let (n, unit) = match secs {
        0..=59 => return "just now".into(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Parses `--since`/`--until` (`lore::answer::parse_when`).
pub fn parse_when(s: &str, end_of_day: bool) -> anyhow::Result<i64> {
    lore::answer::parse_when(s, end_of_day).map_err(anyhow::Error::msg)
}

/// A short form of a session id for listings; `lore show` accepts it back.
///
/// UUID-like ids show their first 8 characters. A sub-agent session (`<parent>-agent-x`)
/// shows `<first 8>…<suffix>`.
pub fn short_id(id: &str, parent: Option<&str>) -> String {
    if let Some(p) = parent
        && let Some(rest) = id.strip_prefix(p)
    {
        let rest = rest.trim_start_matches('-');
        return format!("{}…{rest}", prefix(p, 8));
    }
    if let Some(rest) = id.strip_prefix("aider-") {
        return format!("aider-{}", prefix(rest, 8));
    }
    prefix(id, 8).to_owned()
}

fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Cuts `s` to `width` characters with an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let cut: String = s.chars().take(width.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// An error and its causes on one line, without repeating a cause already quoted.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out.replace('\n', " ")
}

/// Whether the error is stdout closing under us (`lore sessions | head`): not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<lore::versioning::Error>().is_some_and(|v| {
                matches!(v, lore::versioning::Error::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
            || c.downcast_ref::<lore::db::query::ForEachError>()
                .is_some_and(|f| matches!(f, lore::db::query::ForEachError::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
            // JSON written straight to stdout: serde_json keeps the io::Error inside, and its
            // source() skips it.
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// `--json`, the same on every command that prints data (docs/json.md).
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct JsonArg {
    /// Print JSON (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

/// `-n N`/`--limit N`: list at most N items, 0 for all; `DEFAULT` is the command's default.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct LimitArg<const DEFAULT: usize> {
    /// List at most N items (0: all).
    #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = DEFAULT)]
    pub limit: usize,
}

impl<const DEFAULT: usize> LimitArg<DEFAULT> {
    /// The number of items wanted, `None` for all.
    pub fn get(&self) -> Option<usize> {
        (self.limit > 0).then_some(self.limit)
    }

    /// As [`LimitArg::get`], with "all" as a count a query can take.
    pub fn or_all(&self) -> usize {
        self.get().unwrap_or(usize::MAX / 2)
    }
}

/// The commit `apply` or `revert` made, as JSON (docs/json.md): `{id, seq, parent_id,
/// state_hash_after, counts}`.
pub fn db_commit_summary(s: &lore::versioning::tx::CommitSummary) -> serde_json::Value {
    serde_json::json!({
        "id": s.commit_id,
        "seq": s.seq,
        "parent_id": s.parent_id,
        "state_hash_after": s.state_hash_after,
        "counts": s.counts,
    })
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids() {
        assert_eq!(short_id("8427ae52-1111-2222", None), "8427ae52");
        assert_eq!(
            short_id("8427ae52-1111-agent-a1", Some("8427ae52-1111")),
            "8427ae52…agent-a1"
        );
        assert_eq!(short_id("aider-0123456789abcdef", None), "aider-01234567");
    }

    #[test]
    fn a_broken_pipe_is_recognised_inside_json_and_context() {
        use anyhow::Context as _;
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let json = serde_json::to_writer(Closed, &serde_json::json!({"a": 1})).unwrap_err();
        let e = anyhow::Error::from(json);
        assert!(is_broken_pipe(&e));
        let e = Err::<(), _>(e).context("writing the blame").unwrap_err();
        assert!(is_broken_pipe(&e));
        let other = anyhow::Error::from(serde_json::from_str::<u8>("x").unwrap_err());
        assert!(!is_broken_pipe(&other));
    }

    #[test]
    fn when_parses_dates_timestamps_and_ages() {
        assert_eq!(
            parse_when("2026-03-11T15:52:12Z", false).unwrap(),
            1_773_244_332_000
        );
        let week = parse_when("7d", false).unwrap();
        let now = Timestamp::now().as_millisecond();
        assert!((now - week - 7 * 86_400_000).abs() < 60_000);
        assert!(parse_when("2 weeks ago", false).unwrap() < week);
        assert!(parse_when("2026-03-01", true).unwrap() > parse_when("2026-03-01", false).unwrap());
        assert!(parse_when("whenever", false).is_err());
    }
}
