//! Secret redaction for sessions that leave the machine (spec: docs/redaction.md).
//!
//! A transcript holds whatever the agent saw: `.env` files, `aws configure` output, keys pasted
//! into a prompt, `mysql -p…` on a command line. Before a session is written to a store that
//! leaves the machine (the git session store), [`Redactor::redact`] replaces every secret it
//! recognises with `[REDACTED:<kind>]`. The local copy in `lore.db` is never redacted:
//! redaction loses information, and the local database is where the user already keeps the
//! original.
//!
//! What is recognised ([`RULES`], one row each in docs/redaction.md):
//! - **formats**: a provider's token by its prefix and length (`ghp_…`, `AKIA…`, `hf_…`), JWTs,
//!   private-key blocks (PEM, OpenSSH, PuTTY, age), passwords inside URLs;
//! - **labels**: a value named as a secret in any syntax transcripts carry (`DB_PASSWORD=…`,
//!   `"apiKey": "…"`, `--token …`, `mysql -p…`, `Authorization: Bearer …`), when the value
//!   looks like a literal rather than a reference or a placeholder (`rules.rs` decides);
//! - **hidden forms**: a token wrapped across lines (at 80 columns, say) is found in the text
//!   with those line breaks taken out; a base64 value whose decoded text holds a secret (a
//!   Kubernetes Secret's `data:`) is redacted whole.
//!
//! Refused: there is no entropy guess and no rule for a bare unlabelled string, because those
//! redact ordinary code (hashes, identifiers, fixtures), and a redactor that mangles transcripts
//! gets switched off. Users add their own shapes and allow-list known non-secrets; the caller
//! passes them in ([`Redactor::new`], [`Redactor::with_allow`]): this module reads no config.
//!
//! Every rule runs over the same input, so no rule sees another rule's output. Overlapping
//! matches are merged into one redaction. Text that is already a marker is never touched, so
//! redacting twice gives the same text as redacting once. The built-in rules never redact a `"`
//! or cut a JSON escape in half, so the raw line of a JSONL transcript can be redacted as text
//! and stays valid JSON.
//!
//! [`safe_cut`] is for code that truncates text (the importers' cap on tool output): it moves a
//! cut so that no secret is left half in the text, where no rule could recognise it.

mod rules;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::Engine as _;
use regex::Regex;

pub use rules::{Label, Pick, RULES, Spec};

/// The kind of every pattern from `redact_patterns` (or `extra` in [`Redactor::new`]).
pub const CUSTOM_KIND: &str = "custom";

/// What redaction puts where a secret was: `[REDACTED:<kind>]`. Matches of this are never
/// redacted again.
const MARKER: &str = r"\[REDACTED:[A-Za-z0-9_-]+\]";

/// A run of base64 long enough to hold a token once decoded.
const BASE64_RUN: &str = r"[A-Za-z0-9+/]{24,}={0,2}";

/// Errors building a [`Redactor`].
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("redaction pattern '{pattern}' is not a valid regular expression: {message}")]
    BadPattern { pattern: String, message: String },
    #[error("allow-list pattern '{pattern}' is not a valid regular expression: {message}")]
    BadAllow { pattern: String, message: String },
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    kind: &'static str,
    re: Regex,
    pick: Pick,
}

/// The built-in rules, the marker and the base64 run, compiled once per process and only when
/// something is redacted: compiling them costs milliseconds that every command would otherwise
/// pay at start-up, most of which never redact anything (a sync with nothing to do, `lore
/// sessions`). Each rule stays a regex of its own (see [`Redactor::direct`]).
struct Builtin {
    rules: Vec<Rule>,
    marker: Regex,
    base64: Regex,
}

fn builtin() -> &'static Builtin {
    static BUILTIN: OnceLock<Builtin> = OnceLock::new();
    BUILTIN.get_or_init(|| Builtin {
        rules: RULES
            .iter()
            .map(|spec| Rule {
                kind: spec.kind,
                re: Regex::new(spec.pattern)
                    .unwrap_or_else(|e| panic!("built-in rule {}: {e}", spec.kind)),
                pick: spec.pick,
            })
            .collect(),
        marker: Regex::new(MARKER).expect("the marker regex compiles"),
        base64: Regex::new(BASE64_RUN).expect("the base64 regex compiles"),
    })
}

/// Replaces secrets in text. Cheap to build: the user's own patterns are compiled at once (so
/// that a bad one is an error here), the built-in rules on first use, once per process.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// False when redaction is switched off: then nothing is ever compiled.
    enabled: bool,
    /// The user's patterns (`redact_patterns`), compiled.
    extra: Vec<Rule>,
    /// Secrets that are not to be redacted: a redaction whose text one of these matches whole
    /// is left as it was.
    allow: Vec<Regex>,
    /// The built-in rules then `extra`, put together on first use; a span's rule index points
    /// here.
    rules: OnceLock<Vec<Rule>>,
}

impl Redactor {
    /// The built-in [`RULES`] plus `extra` patterns (each of kind `custom`; a pattern with a group
    /// named `secret` redacts only that group). `enabled = false` gives a redactor that changes
    /// nothing, so callers need no second code path. An `extra` pattern that does not compile, or
    /// is empty, is an error that names it.
    pub fn new(enabled: bool, extra: &[String]) -> Result<Redactor, RedactError> {
        let mut compiled = Vec::new();
        if enabled {
            for pattern in extra {
                let re = compile(pattern).map_err(|message| RedactError::BadPattern {
                    pattern: pattern.clone(),
                    message,
                })?;
                let pick = if re.capture_names().any(|n| n == Some("secret")) {
                    Pick::Secret
                } else {
                    Pick::Whole
                };
                compiled.push(Rule {
                    kind: CUSTOM_KIND,
                    re,
                    pick,
                });
            }
        }
        Ok(Redactor {
            enabled,
            extra: compiled,
            allow: Vec::new(),
            rules: OnceLock::new(),
        })
    }

    /// Every rule in force, in table order (the built-in ones first), compiled on first use.
    fn rules(&self) -> &[Rule] {
        if !self.enabled {
            return &[];
        }
        self.rules
            .get_or_init(|| builtin().rules.iter().chain(&self.extra).cloned().collect())
    }

    /// The same redactor, leaving alone any secret that one of `allow` matches whole (a test key
    /// published in a provider's docs, a fixture everyone knows). An `allow` pattern that does
    /// not compile, or is empty, is an error that names it.
    pub fn with_allow(mut self, allow: &[String]) -> Result<Redactor, RedactError> {
        for pattern in allow {
            let re = compile(pattern)
                .and_then(|_| compile(&format!("^(?:{pattern})$")))
                .map_err(|message| RedactError::BadAllow {
                    pattern: pattern.clone(),
                    message,
                })?;
            self.allow.push(re);
        }
        Ok(self)
    }

    /// A digest of the rules in force: when it changes, records already exported may no longer
    /// be what this redactor would make of them, so sync looks at every session again.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        // From the patterns' text, so that nothing is compiled for it.
        let builtin = RULES.iter().map(|spec| (spec.kind, spec.pattern));
        let extra = self.extra.iter().map(|rule| (rule.kind, rule.re.as_str()));
        for (kind, pattern) in builtin.chain(extra).filter(|_| self.enabled) {
            h.update(kind.as_bytes());
            h.update([0]);
            h.update(pattern.as_bytes());
            h.update([0]);
        }
        for re in &self.allow {
            h.update(b"allow\0");
            h.update(re.as_str().as_bytes());
            h.update([0]);
        }
        crate::crypto::hex(&h.finalize())
    }

    /// Whether this redactor changes anything at all (false when `redact = false`).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// `text` with every match replaced by `[REDACTED:<kind>]`. Borrowed when nothing matched,
    /// which is the common case, so clean text costs no allocation.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let spans = self.spans(text);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (start, end, kind) in spans {
            out.push_str(&text[pos..start]);
            out.push_str("[REDACTED:");
            out.push_str(kind);
            out.push(']');
            pos = end;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }

    /// The kinds of what [`Redactor::redact`] would replace in `text`, with where: `(start,
    /// end, kind)`, sorted, not overlapping. For measuring and explaining redactions.
    pub fn findings(&self, text: &str) -> Vec<(usize, usize, &'static str)> {
        self.spans(text)
    }

    /// What to redact: `(start, end, kind)`, sorted, merged where they overlap (named after the
    /// first), never touching an existing marker, never an allow-listed value.
    fn spans(&self, text: &str) -> Vec<(usize, usize, &'static str)> {
        if !self.enabled || text.is_empty() {
            return Vec::new();
        }
        let rules = self.rules();
        // (start, end, rule index): the rule index breaks ties, so the table order decides.
        let mut spans = self.direct(text);
        self.wrapped(text, &mut spans);
        self.encoded(text, &mut spans);

        // Markers already in the text (from an earlier redaction) are left exactly as they are.
        let markers: Vec<(usize, usize)> = if text.contains("[REDACTED:") {
            builtin()
                .marker
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect()
        } else {
            Vec::new()
        };
        spans.retain(|&(s, e, i)| {
            s < e
                && !markers.iter().any(|&(ms, me)| s < me && ms < e)
                && !self.allow.iter().any(|a| a.is_match(&text[s..e]))
                && (rules[i].kind == CUSTOM_KIND || !is_placeholder(&text[s..e]))
        });
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize, &'static str)> = Vec::with_capacity(spans.len());
        for (s, e, i) in spans {
            match merged.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e, rules[i].kind)),
            }
        }
        merged
    }

    /// Every rule's matches in `text` as it is. Each rule runs on its own: one set of all
    /// rules makes a lazy DFA too big for its cache, ten times slower than the rules one by one,
    /// which each start from a literal prefilter.
    fn direct(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let mut spans = Vec::new();
        for (i, rule) in self.rules().iter().enumerate() {
            match rule.pick {
                Pick::Whole => {
                    for m in rule.re.find_iter(text) {
                        spans.push((m.start(), m.end(), i));
                    }
                }
                Pick::Secret => {
                    for caps in rule.re.captures_iter(text) {
                        if let Some(m) = caps.name("secret") {
                            spans.push((m.start(), m.end(), i));
                        }
                    }
                }
                Pick::Labelled(label) => {
                    for caps in rule.re.captures_iter(text) {
                        if let Some((s, e)) = rules::labelled_value(text, &caps, label) {
                            spans.push((s, e, i));
                        }
                    }
                }
            }
        }
        spans
    }

    /// Secrets split across lines: a terminal or a tool wrapped a long token (at 80 columns,
    /// say), so neither half is a match. The rules run again on the text with such line breaks
    /// taken out, and a match that spans one is redacted in the original, line break and all.
    ///
    /// A line break counts as a wrap when the line before it ends in a run of at least
    /// [`WRAP_RUN`] token characters, the line is at least [`WRAP_LINE`] long, and the next line
    /// starts with a token character (a wrap is never indented). Real and JSON-escaped (`\n`)
    /// line breaks both count. A match found across a wrap must end where a run of token
    /// characters ends, or the two lines held two things.
    fn wrapped(&self, text: &str, spans: &mut Vec<(usize, usize, usize)>) {
        let joins = wrap_joins(text);
        if joins.is_empty() {
            return;
        }
        // The joined text, and for each join its place in it and the bytes taken out.
        let mut joined = String::with_capacity(text.len());
        let mut at: Vec<(usize, usize)> = Vec::with_capacity(joins.len());
        let mut pos = 0;
        let mut removed = 0;
        for &(s, e) in &joins {
            joined.push_str(&text[pos..s]);
            at.push((joined.len(), removed + (e - s)));
            removed += e - s;
            pos = e;
        }
        joined.push_str(&text[pos..]);
        // The original offset of a position in `joined`; `after` says whether a join exactly
        // at `p` is already behind it (a start) or still ahead (an end).
        let original = |p: usize, after: bool| -> usize {
            let n = at.partition_point(|&(j, _)| if after { j <= p } else { j < p });
            p + if n == 0 { 0 } else { at[n - 1].1 }
        };
        let b = text.as_bytes();
        for (s, e, i) in self.direct(&joined) {
            let first = at.partition_point(|&(j, _)| j <= s);
            if at.get(first).is_none_or(|&(j, _)| j >= e) {
                continue;
            }
            let (s, e) = (original(s, true), original(e, false));
            // A wrapped token ends where the run of token characters on its last line ends; a
            // match that stops inside a run joined two things that were apart (a complete
            // token at the end of one line, another at the start of the next).
            if e < b.len() && is_token_byte(b[e]) {
                continue;
            }
            spans.push((s, e, i));
        }
    }

    /// Base64 whose decoded text holds a secret, as in a Kubernetes Secret's `data:` or a
    /// Docker config: the whole base64 run is redacted, named after what it hides.
    fn encoded(&self, text: &str, spans: &mut Vec<(usize, usize, usize)>) {
        for m in builtin().base64.find_iter(text) {
            let (mut start, end) = (m.start(), m.end());
            // `\nZ2hw…` in a raw JSONL line: the `n` belongs to the escape.
            if start > 0
                && text.as_bytes()[start - 1] == b'\\'
                && matches!(text.as_bytes()[start], b'n' | b'r' | b't')
            {
                start += 1;
            }
            let Some(decoded) = decode_text(&text[start..end]) else {
                continue;
            };
            if let Some(&(_, _, i)) = self.direct(&decoded).iter().min() {
                spans.push((start, end, i));
            }
        }
    }
}

/// Whether a match of a built-in rule is a placeholder that only has a token's shape: the
/// documentation's `AKIAIOSFODNN7EXAMPLE`, `ghp_xxxxxxxx…`, `sk-…0000…`: one that says
/// `EXAMPLE`, or a long one whose last 16 characters hold fewer than 5 distinct letters and
/// digits (16 random characters of a token hold 12 or more).
fn is_placeholder(s: &str) -> bool {
    if s.contains("EXAMPLE") {
        return true;
    }
    if s.len() < 16 {
        return false;
    }
    let mut seen = [false; 128];
    let mut distinct = 0;
    for b in s.as_bytes()[s.len() - 16..]
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
    {
        if !seen[*b as usize] {
            seen[*b as usize] = true;
            distinct += 1;
        }
    }
    distinct < 5
}

/// The shortest run of token characters that ends a wrapped line.
const WRAP_RUN: usize = 4;
/// The shortest line that counts as wrapped.
const WRAP_LINE: usize = 60;

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'/' | b'=' | b'.' | b'-' | b'~')
}

/// The line breaks of `text` that look like a wrap inside a token: `(start, end)` of each.
/// A terminal or `fold` does not indent the continuation, so an indented next line is no wrap.
fn wrap_joins(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut joins = Vec::new();
    let mut line_start = 0;
    let mut i = 0;
    while i < b.len() {
        // A break: `\n`, `\r\n`, or the escapes `\n`, `\r\n` of a raw JSON line.
        let brk = if b[i] == b'\n' {
            Some((i, i + 1))
        } else if (b[i] == b'\r' && b.get(i + 1) == Some(&b'\n'))
            || (b[i] == b'\\' && b.get(i + 1) == Some(&b'n'))
        {
            Some((i, i + 2))
        } else if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'r')
            && b.get(i + 2) == Some(&b'\\')
            && b.get(i + 3) == Some(&b'n')
        {
            Some((i, i + 4))
        } else {
            None
        };
        let Some((s, e)) = brk else {
            i += 1;
            continue;
        };
        let run = b[line_start..s]
            .iter()
            .rev()
            .take_while(|&&c| is_token_byte(c))
            .count();
        if run >= WRAP_RUN
            && s - line_start >= WRAP_LINE
            && e < b.len()
            && is_token_byte(b[e])
            // Not the `\` of a further escape (`\n\n`).
            && b[e] != b'\\'
        {
            joins.push((s, e));
        }
        line_start = e;
        i = e.max(i + 1);
    }
    joins
}

/// The text `run` (standard base64) decodes to, when it is mostly printable text: `None` for
/// binary (images, hashes, compressed data) and for what is not base64 at all.
fn decode_text(run: &str) -> Option<String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const B64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let body = run.trim_end_matches('=');
    // A look at the first bytes first: most runs are binary, and a megabyte image should not
    // be decoded whole to learn that.
    let head = &body[..body.len().min(64) / 4 * 4];
    let printable = |bytes: &[u8]| {
        let ok = bytes
            .iter()
            .filter(|&&c| c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7f).contains(&c))
            .count();
        ok * 20 >= bytes.len() * 19
    };
    if head.is_empty() || !printable(&B64.decode(head).ok()?) {
        return None;
    }
    let usable = match body.len() % 4 {
        1 => &body[..body.len() - 1],
        _ => body,
    };
    let bytes = B64.decode(usable).ok()?;
    if !printable(&bytes) {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Where to cut `text` to keep at most `max` bytes without leaving part of a secret behind: at
/// most `max`, on a character boundary, and before any secret (or run of token characters) that
/// the cut would split. A secret cut in half is a secret no rule recognises any more (its first
/// 20 characters stay); cut before it, none of it stays.
///
/// Uses the built-in rules only (user patterns are not known where text is cut).
pub fn safe_cut(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // 1. Back to the start of a run of token characters that the cut splits (a token, a
    //    `KEY=value`), unless the run is longer than any token (a base64 blob).
    let b = text.as_bytes();
    if end > 0 && is_token_byte(b[end - 1]) && is_token_byte(b[end]) {
        let run = b[..end]
            .iter()
            .rev()
            .take_while(|&&c| is_token_byte(c))
            .count();
        if run <= CUT_WINDOW {
            end -= run;
        }
    }
    // 2. Back to the start of any match that spans the cut: a private-key block, a wrapped
    //    token, a labelled value, found in a window around the cut.
    static BUILTIN: OnceLock<Redactor> = OnceLock::new();
    let r = BUILTIN.get_or_init(|| Redactor::new(true, &[]).expect("the built-in rules compile"));
    loop {
        let mut from = end.saturating_sub(CUT_WINDOW);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (end + CUT_WINDOW).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        let window = &text[from..to];
        let spanning = r
            .spans(window)
            .into_iter()
            .filter(|&(s, e, _)| from + s < end && end < from + e)
            .map(|(s, _, _)| from + s)
            .min();
        match spanning {
            Some(s) if s < end => end = s,
            _ => return end,
        }
    }
}

/// How far around a cut [`safe_cut`] looks.
const CUT_WINDOW: usize = 16 * 1024;

/// Checks a user pattern the way [`Redactor::new`] compiles it; the error is one line, for
/// config validation messages.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    compile(pattern).map(drop)
}

fn compile(pattern: &str) -> Result<Regex, String> {
    if pattern.is_empty() {
        return Err("the pattern is empty".into());
    }
    Regex::new(pattern).map_err(|e| match e {
        // The syntax error is a multi-line picture; its last line says what is wrong.
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.trim_start_matches("error: ").to_owned())
            .unwrap_or(s),
        other => other.to_string(),
    })
}
