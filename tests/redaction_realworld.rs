//! Redaction on real transcripts: every redaction the rules make in the project's collection of
//! public transcripts (`../shared/realworld/`, or `LORE_REALWORLD`), printed with its kind and
//! context so a person can tell true from false positives (docs/redaction.md, "Measured").
//!
//! Ignored by default: it reads files outside the repository, which are never copied into it.
//! Run with `cargo test --test redaction_realworld -- --ignored --nocapture`.

use std::path::PathBuf;

#[test]
#[ignore = "reads ../shared/realworld; run by hand to measure false positives"]
fn every_redaction_on_real_transcripts() {
    let root = std::env::var_os("LORE_REALWORLD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realworld"));
    assert!(root.is_dir(), "no {}", root.display());
    let r = lore::redact::Redactor::new(true, &[]).expect("rules");
    let (mut files, mut bytes, mut found) = (0, 0usize, 0);
    let started = std::time::Instant::now();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.expect("walk");
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        files += 1;
        bytes += text.len();
        let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
        for (s, e, kind) in r.findings(&text) {
            found += 1;
            let mut from = s.saturating_sub(60);
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let mut to = (e + 20).min(text.len());
            while !text.is_char_boundary(to) {
                to += 1;
            }
            let secret: String = text[s..e].chars().take(60).collect();
            eprintln!(
                "{kind}\t{}\t…{}⟦{secret}⟧{}…",
                rel.display(),
                text[from..s].replace('\n', "⏎"),
                text[e..to].replace('\n', "⏎")
            );
        }
    }
    eprintln!(
        "{files} files, {} MB, {found} redactions, {:.1} s",
        bytes / 1_000_000,
        started.elapsed().as_secs_f64()
    );
}
