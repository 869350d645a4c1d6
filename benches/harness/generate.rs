//! The data generator: deterministic corpora of Claude Code and Codex CLI transcripts in their
//! real on-disk formats (see /work/shared/research/session-formats.md §1–2).
//!
//! Everything comes from one seed through SplitMix64, and each session has its own stream
//! (seed, index), so the output does not depend on how many threads write it. Text is drawn
//! from a Zipf–Mandelbrot distribution over a vocabulary of ~4,300 words (a few hundred real
//! English and programming words, the rest generated pseudo-words), with identifiers, paths,
//! numbers and hashes mixed in, so that the full-text index sees a realistic term distribution.
//!
//! Files are streamed to disk through a `BufWriter`; the largest thing held in memory is one
//! tool output (≤ ~1.2 MB).
//!
//! Corpora are cached under `<data-dir>/<N>-<seed>/corpus/`; `<N>-<seed>/corpus.done` is
//! written last and marks a complete corpus (with [`GEN_VERSION`] and the corpus statistics).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::json::Obj;

/// Bump when the generator's output changes, so cached corpora are rebuilt.
pub const GEN_VERSION: u32 = 1;

/// Median size aimed at (the realised median lands near 40 KB: a session overshoots its
/// target by part of a turn).
const MEDIAN_TARGET: f64 = 13_000.0;
/// Spread of the log-normal size distribution (natural log units).
const SIZE_SIGMA: f64 = 1.3;
const MIN_SIZE: f64 = 3_000.0;
const MAX_REGULAR_SIZE: f64 = 1_500_000.0;
/// One session in this many is a "huge" one: 2–8 MB, driven by large tool outputs.
const HUGE_EVERY: usize = 250;

/// 2026-01-01T00:00:00Z in Unix milliseconds.
const EPOCH_2026_MS: i64 = 1_767_225_600_000;

// ---------------------------------------------------------------------------------------------
// PRNG

/// SplitMix64: tiny, fast, good enough for test data, and fully deterministic.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A stream for item `i` of the stream `seed`.
    pub fn derive(seed: u64, i: u64) -> Rng {
        let mut r = Rng(seed ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        Rng(r.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Log-normal with the given median and sigma.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        (median.ln() + sigma * self.normal()).exp()
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

/// Function words: the top ranks, as in any English text.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "the", "to", "a", "of", "and", "in", "is", "it", "that", "for", "this", "with", "on", "be",
    "we", "i", "you", "as", "not", "can", "at", "are", "if", "so", "from", "by", "or", "but", "an",
    "have", "will", "was", "do", "should", "now", "then", "there", "which", "all", "one", "when",
    "also", "just", "only", "need", "use", "like", "no", "what", "into", "out", "up", "instead",
];

/// Programming words: the next ranks.
#[rustfmt::skip]
const CODE_WORDS: &[&str] = &[
    "function", "error", "test", "file", "build", "cargo", "struct", "impl", "return", "value",
    "config", "import", "module", "type", "string", "path", "query", "index", "database",
    "session", "commit", "branch", "fix", "update", "change", "add", "remove", "check", "run",
    "call", "method", "field", "option", "result", "vec", "map", "key", "list", "line", "output",
    "input", "read", "write", "parse", "format", "json", "sqlite", "table", "row", "column",
    "schema", "migration", "transaction", "lock", "thread", "async", "await", "future", "client",
    "server", "request", "response", "handler", "route", "token", "cache", "buffer", "stream",
    "iterator", "closure", "trait", "generic", "lifetime", "borrow", "reference", "pointer",
    "memory", "allocation", "panic", "unwrap", "expect", "match", "enum", "variant", "crate",
    "dependency", "version", "release", "debug", "log", "warning", "compile", "linker", "binary",
    "script", "shell", "command", "argument", "flag", "env", "variable", "directory", "folder",
    "repo", "git", "diff", "patch", "merge", "rebase", "stash", "history", "blame", "search",
    "filter", "sort", "limit", "offset", "page", "cursor", "timestamp", "date", "time", "duration",
    "timeout", "retry", "backoff", "queue", "worker", "job", "task", "event", "message", "channel",
    "sender", "receiver", "socket", "port", "connection", "network", "http", "api", "endpoint",
    "auth", "user", "password", "permission", "role", "admin", "settings", "default", "override",
    "plugin", "hook", "callback", "trigger", "watch", "reload", "refactor", "rename", "extract",
    "inline", "helper", "util", "wrapper", "adapter", "interface", "abstract", "concrete",
    "instance", "object", "class", "constructor", "property", "attribute", "annotation", "macro",
    "derive", "serialize", "deserialize", "serde", "clap", "tokio", "rusqlite", "anyhow",
    "thiserror", "regex", "glob", "walkdir", "tempfile", "fixture", "snapshot", "assert", "mock",
    "stub", "benchmark", "profile", "flamegraph", "latency", "throughput", "bottleneck", "looks",
    "seems", "because", "works", "failing", "passes", "missing", "unused", "expected", "found",
    "first", "second", "next", "last", "before", "after", "again", "here", "where", "why", "how",
    "make", "sure", "still", "already", "both", "each", "other", "same", "new", "old", "small",
    "large", "simple", "correct", "wrong",
];

/// Whole phrases that error messages and logs repeat (the phrase queries look for them).
#[rustfmt::skip]
pub const PHRASES: &[&str] = &[
    "connection refused", "permission denied", "index out of bounds", "cannot borrow as mutable",
    "no such file or directory", "database is locked", "thread main panicked", "expected one of",
];

#[rustfmt::skip]
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "ch", "cl", "cr", "dr", "fl", "gr", "pl", "pr", "sh", "sk", "sl", "sp", "st", "str", "th",
    "tr",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"];
#[rustfmt::skip]
const CODAS: &[&str] = &[
    "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "x",
];

/// Generated pseudo-words.
const GENERATED_WORDS: usize = 4_000;
/// Words that appear in only a handful of sessions (one session in ~400 mentions one).
const NEEDLES: usize = 12;

/// The vocabulary, ranked: `words[0]` is the most frequent.
pub struct Vocab {
    pub words: Vec<String>,
    /// Cumulative Zipf–Mandelbrot weights, normalised to end at 1.
    cdf: Vec<f64>,
    /// Very rare words (not in `words`).
    pub needles: Vec<String>,
}

impl Vocab {
    pub fn new(seed: u64) -> Vocab {
        let mut rng = Rng::derive(seed, u64::MAX);
        let mut seen = std::collections::HashSet::new();
        let mut words: Vec<String> = Vec::new();
        for w in STOP_WORDS.iter().chain(CODE_WORDS) {
            if seen.insert(w.to_string()) {
                words.push(w.to_string());
            }
        }
        for p in PHRASES {
            for w in p.split(' ') {
                seen.insert(w.to_string());
            }
        }
        let make = |rng: &mut Rng| {
            let syllables = 1 + rng.below(2) + u64::from(rng.chance(0.2));
            let mut w = String::new();
            for _ in 0..syllables {
                w.push_str(rng.pick::<&str>(ONSETS));
                w.push_str(rng.pick::<&str>(VOWELS));
                w.push_str(rng.pick::<&str>(CODAS));
            }
            w
        };
        let mut generated = 0;
        while generated < GENERATED_WORDS {
            let w = make(&mut rng);
            if w.len() >= 3 && seen.insert(w.clone()) {
                words.push(w);
                generated += 1;
            }
        }
        let mut needles = Vec::new();
        while needles.len() < NEEDLES {
            let w = format!("{}{}", make(&mut rng), make(&mut rng));
            if w.len() >= 7 && seen.insert(w.clone()) {
                needles.push(w);
            }
        }
        // Zipf–Mandelbrot: p(r) ∝ 1 / (r + q)^s.
        let (q, s) = (2.7f64, 1.0f64);
        let mut cdf = Vec::with_capacity(words.len());
        let mut acc = 0.0;
        for r in 0..words.len() {
            acc += 1.0 / (r as f64 + 1.0 + q).powf(s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Vocab {
            words,
            cdf,
            needles,
        }
    }

    pub fn sample(&self, rng: &mut Rng) -> &str {
        let u = rng.f64();
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .min(self.words.len() - 1);
        &self.words[i]
    }
}

// ---------------------------------------------------------------------------------------------
// Text

/// Text pieces drawn from the vocabulary.
pub struct Text<'v> {
    pub rng: Rng,
    v: &'v Vocab,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

impl<'v> Text<'v> {
    pub fn new(rng: Rng, v: &'v Vocab) -> Text<'v> {
        Text { rng, v }
    }

    pub fn word(&mut self) -> &'v str {
        self.v.sample(&mut self.rng)
    }

    fn chars(&mut self, out: &mut String, set: &[u8], n: usize) {
        for _ in 0..n {
            out.push(set[self.rng.below(set.len() as u64) as usize] as char);
        }
    }

    pub fn hex(&mut self, out: &mut String, n: usize) {
        self.chars(out, HEX, n)
    }

    pub fn alnum(&mut self, out: &mut String, n: usize) {
        self.chars(out, ALNUM, n)
    }

    pub fn b64(&mut self, out: &mut String, n: usize) {
        self.chars(out, B64, n)
    }

    pub fn uuid(&mut self) -> String {
        let mut s = String::with_capacity(36);
        self.hex(&mut s, 8);
        s.push('-');
        self.hex(&mut s, 4);
        s.push_str("-4");
        self.hex(&mut s, 3);
        s.push('-');
        s.push(['8', '9', 'a', 'b'][self.rng.below(4) as usize]);
        self.hex(&mut s, 3);
        s.push('-');
        self.hex(&mut s, 12);
        s
    }

    fn capitalised(&mut self, out: &mut String) {
        let w = self.word();
        let mut c = w.chars();
        if let Some(f) = c.next() {
            out.push(f.to_ascii_uppercase());
            out.push_str(c.as_str());
        }
    }

    /// `snake_case` of two or three words.
    pub fn ident(&mut self, out: &mut String) {
        let n = 2 + self.rng.below(2);
        for i in 0..n {
            if i > 0 {
                out.push('_');
            }
            out.push_str(self.word());
        }
    }

    /// `CamelCase` of one or two words.
    pub fn camel(&mut self, out: &mut String) {
        let n = 1 + self.rng.below(2);
        for _ in 0..n {
            self.capitalised(out);
        }
    }

    pub fn path(&mut self, out: &mut String) {
        out.push_str(
            ["src/", "src/", "tests/", "benches/", "docs/", "crates/"][self.rng.below(6) as usize],
        );
        out.push_str(self.word());
        out.push('/');
        self.ident(out);
        out.push_str(
            [".rs", ".rs", ".rs", ".toml", ".md", ".py", ".ts", ".json"]
                [self.rng.below(8) as usize],
        );
    }

    pub fn sentence(&mut self, out: &mut String) {
        let n = 5 + self.rng.below(16);
        self.capitalised(out);
        for _ in 1..n {
            out.push(' ');
            let r = self.rng.below(100);
            match r {
                0..=4 => {
                    out.push('`');
                    self.ident(out);
                    out.push('`');
                }
                5..=7 => {
                    out.push('`');
                    self.path(out);
                    out.push('`');
                }
                8..=9 => out.push_str(&self.rng.below(2000).to_string()),
                10..=11 => self.camel(out),
                12 => out.push_str(self.rng.pick::<&str>(PHRASES)),
                13..=17 => {
                    out.push_str(self.word());
                    out.push(',');
                }
                _ => out.push_str(self.word()),
            }
        }
        out.push_str([".", ".", ".", ".", "?", ":", "!"][self.rng.below(7) as usize]);
    }

    pub fn prose(&mut self, out: &mut String, sentences: usize) {
        for i in 0..sentences {
            if i > 0 {
                out.push(if self.rng.chance(0.15) { '\n' } else { ' ' });
            }
            self.sentence(out);
        }
    }

    pub fn code_line(&mut self, out: &mut String) {
        let indent = self.rng.below(4) as usize * 4;
        for _ in 0..indent {
            out.push(' ');
        }
        match self.rng.below(12) {
            0 => {
                out.push_str("let ");
                self.ident(out);
                out.push_str(" = ");
                self.ident(out);
                out.push_str("(&");
                self.ident(out);
                out.push_str(")?;");
            }
            1 => {
                out.push_str("fn ");
                self.ident(out);
                out.push('(');
                self.ident(out);
                out.push_str(": &");
                self.camel(out);
                out.push_str(") -> Result<");
                self.camel(out);
                out.push_str("> {");
            }
            2 => {
                self.ident(out);
                out.push('.');
                self.ident(out);
                out.push('(');
                self.ident(out);
                out.push_str(", ");
                out.push_str(&self.rng.below(1000).to_string());
                out.push_str(");");
            }
            3 => {
                out.push_str("// ");
                self.sentence(out);
            }
            4 => {
                out.push_str("if ");
                self.ident(out);
                out.push_str(".is_empty() {\n");
                out.push_str("    return Ok(None);\n}");
            }
            5 => {
                out.push_str("impl ");
                self.camel(out);
                out.push_str(" for ");
                self.camel(out);
                out.push_str(" {");
            }
            6 => out.push('}'),
            7 => out.push_str("#[derive(Debug, Clone, PartialEq)]"),
            8 => {
                out.push_str("use crate::");
                out.push_str(self.word());
                out.push_str("::");
                self.camel(out);
                out.push(';');
            }
            9 => {
                out.push_str("assert_eq!(");
                self.ident(out);
                out.push_str(", ");
                out.push_str(&self.rng.below(100).to_string());
                out.push_str(");");
            }
            10 => {
                out.push_str("pub ");
                self.ident(out);
                out.push_str(": Option<");
                self.camel(out);
                out.push_str(">,");
            }
            _ => {
                out.push_str("match ");
                self.ident(out);
                out.push_str(" { ");
                self.camel(out);
                out.push_str("::");
                self.camel(out);
                out.push_str(" => ");
                self.ident(out);
                out.push_str("(), _ => {} }");
            }
        }
    }

    pub fn code(&mut self, out: &mut String, lines: usize) {
        for _ in 0..lines {
            self.code_line(out);
            out.push('\n');
        }
    }

    /// What a shell command, a grep or a build prints: about `target` bytes.
    pub fn tool_output(&mut self, out: &mut String, target: usize) {
        let kind = self.rng.below(7);
        let start = out.len();
        let mut n = 0u64;
        while out.len() - start < target {
            n += 1;
            match kind {
                0 => {
                    self.path(out);
                    out.push(':');
                    out.push_str(&self.rng.range(1, 900).to_string());
                    out.push(':');
                    self.code_line(out);
                }
                1 => {
                    if self.rng.chance(0.03) {
                        out.push_str("---- ");
                        self.ident(out);
                        out.push_str(" stdout ----\nthread main panicked at ");
                        self.path(out);
                        out.push_str(":\n");
                        self.sentence(out);
                        out.push_str("\nassertion `left == right` failed: ");
                        out.push_str(self.rng.pick::<&str>(PHRASES));
                    } else {
                        out.push_str("test ");
                        self.ident(out);
                        out.push_str("::");
                        self.ident(out);
                        out.push_str(if self.rng.chance(0.05) {
                            " ... FAILED"
                        } else {
                            " ... ok"
                        });
                    }
                }
                2 => {
                    if self.rng.chance(0.6) {
                        out.push_str("   Compiling ");
                        out.push_str(self.word());
                        out.push_str(&format!(
                            " v{}.{}.{}",
                            self.rng.below(3),
                            self.rng.below(40),
                            self.rng.below(20)
                        ));
                    } else {
                        out.push_str(&format!("error[E0{}]: ", self.rng.range(100, 800)));
                        if self.rng.chance(0.4) {
                            out.push_str(self.rng.pick::<&str>(PHRASES));
                        } else {
                            self.sentence(out);
                        }
                        out.push_str("\n  --> ");
                        self.path(out);
                        out.push_str(&format!(
                            ":{}:{}\n   |\n",
                            self.rng.range(1, 900),
                            self.rng.range(1, 80)
                        ));
                        out.push_str("12 | ");
                        self.code_line(out);
                        out.push_str("\n   |     ^^^^^ ");
                        self.sentence(out);
                    }
                }
                3 => {
                    let ms = EPOCH_2026_MS + self.rng.below(120 * 86_400_000) as i64;
                    out.push_str(&iso(ms));
                    out.push_str(
                        ["  INFO ", "  INFO ", " DEBUG ", "  WARN ", " ERROR "]
                            [self.rng.below(5) as usize],
                    );
                    out.push_str(self.word());
                    out.push_str("::");
                    self.ident(out);
                    out.push_str(": ");
                    if self.rng.chance(0.05) {
                        out.push_str(self.rng.pick::<&str>(PHRASES));
                        out.push_str(" (os error ");
                        out.push_str(&self.rng.range(1, 120).to_string());
                        out.push(')');
                    } else {
                        self.sentence(out);
                    }
                }
                4 => {
                    out.push_str(
                        ["drwxr-xr-x  4", "-rw-r--r--  1", "-rwxr-xr-x  1"]
                            [self.rng.below(3) as usize],
                    );
                    out.push_str(&format!(
                        " dev dev {:>8} Mar {:>2} {:02}:{:02} ",
                        self.rng.below(200_000),
                        self.rng.range(1, 29),
                        self.rng.below(24),
                        self.rng.below(60)
                    ));
                    self.ident(out);
                    if self.rng.chance(0.7) {
                        out.push_str(".rs");
                    }
                }
                5 => {
                    self.hex(out, 7);
                    out.push(' ');
                    self.sentence(out);
                }
                _ => {
                    out.push_str(&format!("{n:>6}\t"));
                    self.code_line(out);
                }
            }
            out.push('\n');
        }
    }
}

/// ISO-8601 UTC with milliseconds and `Z`, as both tools write it.
pub fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// What one generated file is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Claude,
    Codex,
}

/// One session's plan: its stream, tool and size target.
struct Plan {
    rng: Rng,
    kind: Kind,
    target: u64,
    huge: bool,
}

fn plan(seed: u64, i: usize) -> Plan {
    let mut rng = Rng::derive(seed, i as u64);
    let kind = if i.is_multiple_of(2) {
        Kind::Claude
    } else {
        Kind::Codex
    };
    let huge = i % HUGE_EVERY == HUGE_EVERY / 2;
    let target = if huge {
        rng.range(2_000_000, 8_000_000)
    } else {
        rng.log_normal(MEDIAN_TARGET, SIZE_SIGMA)
            .clamp(MIN_SIZE, MAX_REGULAR_SIZE) as u64
    };
    Plan {
        rng,
        kind,
        target,
        huge,
    }
}

/// A transcript being written.
struct Sink {
    out: BufWriter<File>,
    bytes: u64,
    lines: u64,
}

impl Sink {
    fn line(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.bytes += s.len() as u64 + 1;
        self.lines += 1;
        Ok(())
    }
}

/// How many tool calls a turn makes: mostly a few, sometimes many.
fn tool_calls(rng: &mut Rng) -> u32 {
    match rng.below(10) {
        0..=1 => 0,
        2..=4 => 1 + rng.below(2) as u32,
        5..=7 => 3 + rng.below(3) as u32,
        _ => 6 + rng.below(8) as u32,
    }
}

/// Size of one tool output.
fn output_size(rng: &mut Rng, huge: bool) -> usize {
    if huge && rng.chance(0.3) {
        return rng.range(200_000, 1_200_000) as usize;
    }
    rng.log_normal(700.0, 1.3).clamp(40.0, 96_000.0) as usize
}

struct Common {
    sid: String,
    cwd: String,
    branch: String,
    version: String,
    model: &'static str,
    ts: i64,
    huge: bool,
    target: u64,
}

#[rustfmt::skip]
const BRANCHES: &[&str] = &[
    "main", "main", "main", "feat/search", "fix/import-crash", "refactor/store", "feat/sync",
    "wip", "release/0.4", "feat/blame",
];

fn common<'v>(
    t: &mut Text<'v>,
    p: &Plan,
    version: String,
    model: &'static str,
    project: u64,
) -> Common {
    let start = EPOCH_2026_MS
        + t.rng.below(110) as i64 * 86_400_000
        + t.rng.range(7 * 3600, 23 * 3600) as i64 * 1000
        + t.rng.below(1000) as i64;
    Common {
        sid: t.uuid(),
        cwd: format!("/home/dev/proj{project}"),
        branch: t.rng.pick(BRANCHES).to_string(),
        version,
        model,
        ts: start,
        huge: p.huge,
        target: p.target,
    }
}

/// A user prompt: a request in prose, now and then with a pasted error or a needle word.
fn prompt<'v>(t: &mut Text<'v>, out: &mut String, needle: Option<&str>) {
    out.clear();
    let n = 1 + t.rng.below(4) as usize;
    t.prose(out, n);
    if let Some(w) = needle {
        out.push_str(" Also check the ");
        out.push_str(w);
        out.push_str(" case.");
    }
    if t.rng.chance(0.15) {
        out.push_str("\n\n```\n");
        let size = t.rng.range(200, 2_500) as usize;
        t.tool_output(out, size);
        out.push_str("```");
    }
}

/// An assistant reply: prose, sometimes with a code block or a list.
fn reply<'v>(t: &mut Text<'v>, out: &mut String) {
    out.clear();
    let n = 1 + t.rng.below(6) as usize;
    t.prose(out, n);
    if t.rng.chance(0.3) {
        out.push_str("\n\n```rust\n");
        let lines = t.rng.range(3, 30) as usize;
        t.code(out, lines);
        out.push_str("```\n");
    }
    if t.rng.chance(0.25) {
        for _ in 0..t.rng.range(2, 6) {
            out.push_str("\n- ");
            t.sentence(out);
        }
    }
}

// --- Claude Code ------------------------------------------------------------------------------

#[rustfmt::skip]
const CLAUDE_MODELS: &[&str] = &[
    "claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101",
];

struct Claude<'v> {
    t: Text<'v>,
    c: Common,
    slug: String,
    parent: Option<String>,
    sink: Sink,
    line: String,
}

impl<'v> Claude<'v> {
    fn head(&self, o: &mut Obj, parent: Option<&str>) {
        o.opt_str("parentUuid", parent)
            .bool("isSidechain", false)
            .str("userType", "external")
            .str("cwd", &self.c.cwd)
            .str("sessionId", &self.c.sid)
            .str("version", &self.c.version)
            .str("gitBranch", &self.c.branch)
            .str("slug", &self.slug);
    }

    fn tick(&mut self, lo: u64, hi: u64) -> String {
        self.c.ts += self.t.rng.range(lo, hi) as i64;
        iso(self.c.ts)
    }

    /// Writes the line built by `f`, then makes `uuid` the parent of the next one.
    fn emit(&mut self, f: impl FnOnce(&Self, &mut String)) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        f(self, &mut line);
        self.sink.line(&line)?;
        self.line = line;
        Ok(())
    }

    fn user_prompt(&mut self, text: &str) -> io::Result<String> {
        let uuid = self.t.uuid();
        let ts = self.tick(5_000, 120_000);
        let parent = self.parent.take();
        self.emit(|me, line| {
            let mut o = Obj::begin(line);
            me.head(&mut o, parent.as_deref());
            o.str("type", "user")
                .obj("message", |m| {
                    m.str("role", "user").str("content", text);
                })
                .str("uuid", &uuid)
                .str("timestamp", &ts)
                .str("permissionMode", "default");
            o.end();
        })?;
        self.parent = Some(uuid.clone());
        Ok(uuid)
    }

    fn usage(o: &mut Obj, rng: &mut Rng) {
        let cc = rng.below(5_000) as i64;
        o.obj("usage", |u| {
            u.num("input_tokens", rng.range(1, 12) as i64)
                .num("cache_creation_input_tokens", cc)
                .num("cache_read_input_tokens", rng.range(10_000, 180_000) as i64)
                .num("output_tokens", rng.range(1, 2_000) as i64)
                .obj("server_tool_use", |s| {
                    s.num("web_search_requests", 0).num("web_fetch_requests", 0);
                })
                .str("service_tier", "standard")
                .obj("cache_creation", |c| {
                    c.num("ephemeral_1h_input_tokens", cc)
                        .num("ephemeral_5m_input_tokens", 0);
                })
                .str("inference_geo", "")
                .arr("iterations", |_| {})
                .str("speed", "standard");
        });
    }

    /// One assistant line holding one content block (Claude Code's streaming split).
    fn assistant(
        &mut self,
        msg_id: &str,
        req_id: &str,
        stop: Option<&str>,
        block: impl FnOnce(&mut Obj),
    ) -> io::Result<String> {
        let uuid = self.t.uuid();
        let ts = self.tick(300, 20_000);
        let parent = self.parent.take();
        let mut rng = Rng::new(self.t.rng.next_u64());
        self.emit(|me, line| {
            let mut o = Obj::begin(line);
            me.head(&mut o, parent.as_deref());
            o.obj("message", |m| {
                m.str("model", me.c.model)
                    .str("id", msg_id)
                    .str("type", "message")
                    .str("role", "assistant")
                    .arr("content", |a| {
                        a.obj(block);
                    })
                    .opt_str("stop_reason", stop)
                    .null("stop_sequence");
                Self::usage(m, &mut rng);
            })
            .str("requestId", req_id)
            .str("type", "assistant")
            .str("uuid", &uuid)
            .str("timestamp", &ts);
            o.end();
        })?;
        self.parent = Some(uuid.clone());
        Ok(uuid)
    }

    fn turn(&mut self, first: bool, s: &mut Scratch) -> io::Result<()> {
        let needle = if self.t.rng.chance(1.0 / 400.0) {
            Some(self.t.rng.pick(&self.t.v.needles).clone())
        } else {
            None
        };
        prompt(&mut self.t, &mut s.a, needle.as_deref());
        let prompt_uuid = self.user_prompt(&s.a)?;
        if first {
            let ts = iso(self.c.ts - 1);
            self.emit(|_, line| {
                let mut o = Obj::begin(line);
                o.str("type", "file-history-snapshot")
                    .str("messageId", &prompt_uuid)
                    .obj("snapshot", |sn| {
                        sn.str("messageId", &prompt_uuid)
                            .obj("trackedFileBackups", |_| {})
                            .str("timestamp", &ts);
                    })
                    .bool("isSnapshotUpdate", false);
                o.end();
            })?;
        }
        let started = self.c.ts;
        let mut remaining = tool_calls(&mut self.t.rng);
        loop {
            let mut msg_id = String::from("msg_01");
            self.t.alnum(&mut msg_id, 22);
            let mut req_id = String::from("req_011C");
            self.t.alnum(&mut req_id, 20);
            if self.t.rng.chance(0.55) {
                s.a.clear();
                let n = 1 + self.t.rng.below(5) as usize;
                self.t.prose(&mut s.a, n);
                s.b.clear();
                let sig_len = 200 + self.t.rng.below(900) as usize;
                s.b.push_str("Eq");
                self.t.b64(&mut s.b, sig_len);
                let (th, sig) = (&s.a, &s.b);
                self.assistant(&msg_id, &req_id, None, |b| {
                    b.str("type", "thinking")
                        .str("thinking", th)
                        .str("signature", sig);
                })?;
            }
            let last = remaining == 0;
            if last || self.t.rng.chance(0.5) {
                reply(&mut self.t, &mut s.a);
                let text = &s.a;
                self.assistant(&msg_id, &req_id, last.then_some("end_turn"), |b| {
                    b.str("type", "text").str("text", text);
                })?;
            }
            if last {
                break;
            }
            let k = if remaining > 1 && self.t.rng.chance(0.2) {
                2
            } else {
                1
            };
            remaining -= k;
            let mut calls = Vec::new();
            for _ in 0..k {
                calls.push(self.tool_call(&msg_id, &req_id, s)?);
            }
            for call in calls {
                self.tool_result(call, s)?;
            }
        }
        let ts = self.tick(10, 200);
        let uuid = self.t.uuid();
        let parent = self.parent.take();
        let dur = self.c.ts - started;
        self.emit(|me, line| {
            let mut o = Obj::begin(line);
            me.head(&mut o, parent.as_deref());
            o.str("type", "system")
                .str("subtype", "turn_duration")
                .num("durationMs", dur)
                .str("timestamp", &ts)
                .str("uuid", &uuid)
                .bool("isMeta", false);
            o.end();
        })?;
        self.parent = Some(uuid);
        if first {
            s.a.clear();
            for i in 0..3 + self.t.rng.below(4) {
                if i > 0 {
                    s.a.push(' ');
                }
                if i == 0 {
                    self.t.capitalised(&mut s.a);
                } else {
                    s.a.push_str(self.t.word());
                }
            }
            let title = &s.a;
            self.emit(|me, line| {
                let mut o = Obj::begin(line);
                o.str("type", "ai-title")
                    .str("aiTitle", title)
                    .str("sessionId", &me.c.sid);
                o.end();
            })?;
        }
        Ok(())
    }

    fn tool_call(&mut self, msg_id: &str, req_id: &str, s: &mut Scratch) -> io::Result<ToolCall> {
        let mut id = String::from("toolu_01");
        self.t.alnum(&mut id, 22);
        let kind = match self.t.rng.below(20) {
            0..=7 => Tool::Bash,
            8..=12 => Tool::Read,
            13..=15 => Tool::Edit,
            16..=18 => Tool::Grep,
            _ => Tool::Write,
        };
        let mut path = self.c.cwd.clone();
        path.push('/');
        self.t.path(&mut path);
        s.a.clear();
        s.b.clear();
        match kind {
            Tool::Bash => {
                match self.t.rng.below(6) {
                    0 => s.a.push_str("cargo test "),
                    1 => {
                        s.a.push_str("cargo build --release 2>&1 | tail -n 80; echo ")
                    }
                    2 => s.a.push_str("rg -n "),
                    3 => s.a.push_str("git log --oneline -n 40 -- "),
                    4 => s.a.push_str("ls -la "),
                    _ => s.a.push_str("RUST_LOG=debug cargo run -- "),
                }
                self.t.ident(&mut s.a);
                s.b.clear();
                self.t.sentence(&mut s.b);
            }
            Tool::Edit => {
                let n = self.t.rng.range(1, 10) as usize;
                self.t.code(&mut s.a, n);
                let n = self.t.rng.range(1, 12) as usize;
                self.t.code(&mut s.b, n);
            }
            Tool::Grep => self.t.ident(&mut s.a),
            Tool::Write => {
                let n = self.t.rng.range(20, 200) as usize;
                self.t.code(&mut s.a, n);
            }
            Tool::Read => {}
        }
        let (a, b) = (&s.a, &s.b);
        let name = kind.name();
        let p = &path;
        let call_id = &id;
        let uuid = self.assistant(msg_id, req_id, Some("tool_use"), |blk| {
            blk.str("type", "tool_use")
                .str("id", call_id)
                .str("name", name)
                .obj("input", |i| match kind {
                    Tool::Bash => {
                        i.str("command", a).str("description", b);
                    }
                    Tool::Read => {
                        i.str("file_path", p);
                    }
                    Tool::Edit => {
                        i.str("file_path", p)
                            .str("old_string", a)
                            .str("new_string", b)
                            .bool("replace_all", false);
                    }
                    Tool::Grep => {
                        i.str("pattern", a)
                            .str("path", "src")
                            .str("output_mode", "content");
                    }
                    Tool::Write => {
                        i.str("file_path", p).str("content", a);
                    }
                });
        })?;
        Ok(ToolCall {
            id,
            kind,
            path,
            assistant_uuid: uuid,
            old: std::mem::take(&mut s.a),
            new: std::mem::take(&mut s.b),
        })
    }

    fn tool_result(&mut self, call: ToolCall, s: &mut Scratch) -> io::Result<()> {
        let uuid = self.t.uuid();
        let ts = self.tick(100, 30_000);
        let parent = self.parent.take();
        s.c.clear();
        let size = output_size(&mut self.t.rng, self.c.huge);
        let error = self.t.rng.chance(0.04);
        match call.kind {
            Tool::Bash | Tool::Grep => self.t.tool_output(&mut s.c, size),
            Tool::Read => {
                let mut n = 0;
                while s.c.len() < size {
                    n += 1;
                    s.c.push_str(&format!("{n:>6}\t"));
                    self.t.code_line(&mut s.c);
                    s.c.push('\n');
                }
            }
            Tool::Edit => {
                s.c.push_str(&format!(
                    "The file {} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n",
                    call.path
                ));
                for (i, l) in call.new.lines().enumerate() {
                    s.c.push_str(&format!("{:>6}\t{l}\n", 40 + i));
                }
            }
            Tool::Write => {
                s.c.push_str(&format!("File created successfully at: {}", call.path))
            }
        }
        // Edit results carry the whole file before the edit, as Claude Code writes them.
        s.d.clear();
        if call.kind == Tool::Edit {
            let n = self.t.rng.range(20, 150) as usize;
            self.t.code(&mut s.d, n);
        }
        let out = &s.c;
        let original = &s.d;
        self.emit(|me, line| {
            let mut o = Obj::begin(line);
            me.head(&mut o, parent.as_deref());
            o.str("type", "user")
                .obj("message", |m| {
                    m.str("role", "user").arr("content", |a| {
                        a.obj(|r| {
                            r.str("tool_use_id", &call.id)
                                .str("type", "tool_result")
                                .str("content", out)
                                .bool("is_error", error);
                        });
                    });
                })
                .str("uuid", &uuid)
                .str("timestamp", &ts);
            o.obj("toolUseResult", |r| match call.kind {
                Tool::Bash | Tool::Grep => {
                    r.str("stdout", out)
                        .str("stderr", "")
                        .bool("interrupted", false)
                        .bool("isImage", false);
                }
                Tool::Read => {
                    r.str("type", "text").obj("file", |f| {
                        f.str("filePath", &call.path)
                            .str("content", out)
                            .num("numLines", out.lines().count() as i64)
                            .num("startLine", 1)
                            .num("totalLines", out.lines().count() as i64);
                    });
                }
                Tool::Edit => {
                    r.str("filePath", &call.path)
                        .str("oldString", &call.old)
                        .str("newString", &call.new)
                        .str("originalFile", original)
                        .arr("structuredPatch", |a| {
                            a.obj(|h| {
                                h.num("oldStart", 40)
                                    .num("oldLines", call.old.lines().count() as i64)
                                    .num("newStart", 40)
                                    .num("newLines", call.new.lines().count() as i64)
                                    .arr("lines", |ls| {
                                        for l in call.old.lines() {
                                            ls.str(&format!("-{l}"));
                                        }
                                        for l in call.new.lines() {
                                            ls.str(&format!("+{l}"));
                                        }
                                    });
                            });
                        })
                        .bool("userModified", false)
                        .bool("replaceAll", false);
                }
                Tool::Write => {
                    r.str("type", "create")
                        .str("filePath", &call.path)
                        .str("content", &call.old)
                        .arr("structuredPatch", |_| {});
                }
            })
            .str("sourceToolAssistantUUID", &call.assistant_uuid);
            o.end();
        })?;
        self.parent = Some(uuid);
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Bash,
    Read,
    Edit,
    Grep,
    Write,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Bash => "Bash",
            Tool::Read => "Read",
            Tool::Edit => "Edit",
            Tool::Grep => "Grep",
            Tool::Write => "Write",
        }
    }
}

struct ToolCall {
    id: String,
    kind: Tool,
    path: String,
    assistant_uuid: String,
    old: String,
    new: String,
}

/// Reused text buffers.
#[derive(Default)]
struct Scratch {
    a: String,
    b: String,
    c: String,
    d: String,
}

fn write_claude(dir: &Path, vocab: &Vocab, p: Plan) -> io::Result<(u64, u64)> {
    let mut t = Text::new(p.rng.clone(), vocab);
    // Projects: a few busy ones, many quiet ones.
    let busy = t.rng.below(60) + 1;
    let project = t.rng.below(busy);
    let version = format!("2.1.{}", t.rng.range(40, 150));
    let model = *t.rng.pick(CLAUDE_MODELS);
    let c = common(&mut t, &p, version, model, project);
    let mut slug = String::new();
    for i in 0..3 {
        if i > 0 {
            slug.push('-');
        }
        slug.push_str(t.word());
    }
    let folder = dir
        .join("claude/projects")
        .join(format!("-home-dev-proj{project}"));
    std::fs::create_dir_all(&folder)?;
    let file = File::create(folder.join(format!("{}.jsonl", c.sid)))?;
    let mut cl = Claude {
        t,
        c,
        slug,
        parent: None,
        sink: Sink {
            out: BufWriter::with_capacity(256 * 1024, file),
            bytes: 0,
            lines: 0,
        },
        line: String::new(),
    };
    let mut s = Scratch::default();
    if cl.t.rng.chance(0.5) {
        let ts = iso(cl.c.ts - 8);
        cl.emit(|me, line| {
            let mut o = Obj::begin(line);
            o.str("type", "queue-operation")
                .str("operation", "dequeue")
                .str("timestamp", &ts)
                .str("sessionId", &me.c.sid);
            o.end();
        })?;
    }
    let mut first = true;
    while first || cl.sink.bytes < cl.c.target {
        cl.turn(first, &mut s)?;
        first = false;
    }
    cl.sink.out.flush()?;
    Ok((cl.sink.bytes, cl.sink.lines))
}

// --- Codex CLI --------------------------------------------------------------------------------

const CODEX_MODELS: &[&str] = &["gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5-codex"];

struct Codex<'v> {
    t: Text<'v>,
    c: Common,
    sink: Sink,
    line: String,
    /// Newer versions print shell output as plain text, older ones as a JSON object.
    plain_output: bool,
    total_tokens: i64,
}

impl<'v> Codex<'v> {
    /// One `{"timestamp","type","payload"}` line.
    fn item(
        &mut self,
        lo: u64,
        hi: u64,
        ty: &str,
        payload: impl FnOnce(&mut Obj),
    ) -> io::Result<()> {
        self.c.ts += self.t.rng.range(lo, hi) as i64;
        let ts = iso(self.c.ts);
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        {
            let mut o = Obj::begin(&mut line);
            o.str("timestamp", &ts)
                .str("type", ty)
                .obj("payload", payload);
            o.end();
        }
        self.sink.line(&line)?;
        self.line = line;
        Ok(())
    }

    fn token_count(&mut self) -> io::Result<()> {
        let last_in = self.t.rng.range(2_000, 40_000) as i64;
        let cached = last_in * 3 / 4;
        let out = self.t.rng.range(20, 3_000) as i64;
        let reasoning = out / 2;
        self.total_tokens += last_in + out;
        let total = self.total_tokens;
        self.item(1, 20, "event_msg", |p| {
            p.str("type", "token_count")
                .obj("info", |i| {
                    i.obj("total_token_usage", |u| {
                        u.num("input_tokens", total - out)
                            .num("cached_input_tokens", (total - out) * 3 / 4)
                            .num("output_tokens", out)
                            .num("reasoning_output_tokens", reasoning)
                            .num("total_tokens", total);
                    })
                    .obj("last_token_usage", |u| {
                        u.num("input_tokens", last_in)
                            .num("cached_input_tokens", cached)
                            .num("output_tokens", out)
                            .num("reasoning_output_tokens", reasoning)
                            .num("total_tokens", last_in + out);
                    })
                    .num("model_context_window", 272_000);
                })
                .null("rate_limits");
        })
    }

    fn reasoning(&mut self, s: &mut Scratch) -> io::Result<()> {
        s.a.clear();
        s.a.push_str("**");
        for i in 0..2 + self.t.rng.below(3) {
            if i > 0 {
                s.a.push(' ');
            }
            self.t.capitalised(&mut s.a);
        }
        s.a.push_str("**\n\n");
        let n = 1 + self.t.rng.below(3) as usize;
        self.t.prose(&mut s.a, n);
        s.b.clear();
        s.b.push_str("gAAAAAB");
        let n = self.t.rng.range(400, 3_000) as usize;
        self.t.b64(&mut s.b, n);
        s.b.push_str("==");
        let (summary, enc) = (&s.a, &s.b);
        self.item(500, 15_000, "response_item", |p| {
            p.str("type", "reasoning")
                .arr("summary", |a| {
                    a.obj(|x| {
                        x.str("type", "summary_text").str("text", summary);
                    });
                })
                .null("content")
                .str("encrypted_content", enc);
        })?;
        self.item(1, 5, "event_msg", |p| {
            p.str("type", "agent_reasoning").str("text", summary);
        })
    }

    fn turn(&mut self, first: bool, s: &mut Scratch) -> io::Result<()> {
        let model = self.c.model;
        let cwd = self.c.cwd.clone();
        let turn_id = self.t.uuid();
        self.item(2_000, 90_000, "turn_context", |p| {
            p.str("turn_id", &turn_id)
                .str("cwd", &cwd)
                .str("approval_policy", "on-request")
                .obj("sandbox_policy", |sp| {
                    sp.str("type", "workspace-write")
                        .bool("network_access", false)
                        .bool("exclude_tmpdir_env_var", false)
                        .bool("exclude_slash_tmp", false);
                })
                .str("model", model)
                .str("effort", "medium")
                .str("summary", "auto");
        })?;
        if first {
            let env = format!(
                "<environment_context>\n  <cwd>{cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>zsh</shell>\n</environment_context>"
            );
            self.item(1, 10, "response_item", |p| {
                p.str("type", "message")
                    .str("role", "user")
                    .arr("content", |a| {
                        a.obj(|x| {
                            x.str("type", "input_text").str("text", &env);
                        });
                    });
            })?;
        }
        let needle = if self.t.rng.chance(1.0 / 400.0) {
            Some(self.t.rng.pick(&self.t.v.needles).clone())
        } else {
            None
        };
        prompt(&mut self.t, &mut s.a, needle.as_deref());
        let text = std::mem::take(&mut s.a);
        self.item(1, 10, "response_item", |p| {
            p.str("type", "message")
                .str("role", "user")
                .arr("content", |a| {
                    a.obj(|x| {
                        x.str("type", "input_text").str("text", &text);
                    });
                });
        })?;
        self.item(1, 5, "event_msg", |p| {
            p.str("type", "user_message")
                .str("message", &text)
                .arr("local_images", |_| {})
                .arr("text_elements", |_| {});
        })?;
        s.a = text;
        let mut remaining = tool_calls(&mut self.t.rng);
        while remaining > 0 {
            remaining -= 1;
            if self.t.rng.chance(0.7) {
                self.reasoning(s)?;
            }
            self.call(s)?;
            self.token_count()?;
        }
        if self.t.rng.chance(0.5) {
            self.reasoning(s)?;
        }
        reply(&mut self.t, &mut s.a);
        let text = std::mem::take(&mut s.a);
        self.item(500, 20_000, "event_msg", |p| {
            p.str("type", "agent_message")
                .str("message", &text)
                .null("phase")
                .null("memory_citation");
        })?;
        self.item(1, 5, "response_item", |p| {
            p.str("type", "message")
                .str("role", "assistant")
                .arr("content", |a| {
                    a.obj(|x| {
                        x.str("type", "output_text").str("text", &text);
                    });
                });
        })?;
        s.a = text;
        self.token_count()
    }

    fn call(&mut self, s: &mut Scratch) -> io::Result<()> {
        let mut call_id = String::from("call_");
        self.t.alnum(&mut call_id, 24);
        let patch = self.t.rng.chance(0.2);
        if patch {
            s.a.clear();
            s.a.push_str("*** Begin Patch\n*** Update File: ");
            self.t.path(&mut s.a);
            s.a.push_str("\n@@\n");
            for _ in 0..self.t.rng.range(1, 8) {
                s.a.push('-');
                self.t.code_line(&mut s.a);
                s.a.push('\n');
            }
            for _ in 0..self.t.rng.range(1, 12) {
                s.a.push('+');
                self.t.code_line(&mut s.a);
                s.a.push('\n');
            }
            s.a.push_str("*** End Patch");
            let input = &s.a;
            let id = &call_id;
            self.item(500, 15_000, "response_item", |p| {
                p.str("type", "custom_tool_call")
                    .str("status", "completed")
                    .str("call_id", id)
                    .str("name", "apply_patch")
                    .str("input", input);
            })?;
            s.b.clear();
            s.b.push_str("Success. Updated the following files:\nM ");
            self.t.path(&mut s.b);
            s.b.push('\n');
            let mut out = String::new();
            {
                let mut o = Obj::begin(&mut out);
                o.str("output", &s.b).obj("metadata", |m| {
                    m.num("exit_code", 0).float("duration_seconds", 0.0);
                });
                o.end();
            }
            return self.item(50, 2_000, "response_item", |p| {
                p.str("type", "custom_tool_call_output")
                    .str("call_id", id)
                    .str("output", &out);
            });
        }
        s.a.clear();
        match self.t.rng.below(6) {
            0 => s.a.push_str("cargo test "),
            1 => {
                s.a.push_str("cargo check --all-targets 2>&1 | head -n 200; echo ")
            }
            2 => s.a.push_str("rg -n "),
            3 => s.a.push_str("sed -n '1,200p' src/"),
            4 => s.a.push_str("git diff --stat "),
            _ => s.a.push_str("ls -la "),
        }
        self.t.ident(&mut s.a);
        let mut args = String::new();
        {
            let mut o = Obj::begin(&mut args);
            o.str("command", &s.a).str("workdir", &self.c.cwd);
            if self.t.rng.chance(0.3) {
                o.num("timeout_ms", 120_000);
            }
            o.end();
        }
        let id = &call_id;
        self.item(500, 15_000, "response_item", |p| {
            p.str("type", "function_call")
                .str("name", "shell_command")
                .str("arguments", &args)
                .str("call_id", id);
        })?;
        s.c.clear();
        let size = output_size(&mut self.t.rng, self.c.huge);
        self.t.tool_output(&mut s.c, size);
        let code = if self.t.rng.chance(0.08) { 1 } else { 0 };
        let wall = self.t.rng.below(300) as f64 / 10.0;
        s.d.clear();
        if self.plain_output {
            s.d.push_str(&format!(
                "Exit code: {code}\nWall time: {wall:.1} seconds\nOutput:\n"
            ));
            s.d.push_str(&s.c);
        } else {
            let mut o = Obj::begin(&mut s.d);
            o.str("output", &s.c).obj("metadata", |m| {
                m.num("exit_code", code).float("duration_seconds", wall);
            });
            o.end();
        }
        let out = &s.d;
        self.item(100, 30_000, "response_item", |p| {
            p.str("type", "function_call_output")
                .str("call_id", id)
                .str("output", out);
        })
    }
}

/// Codex's base instructions: the same long system prompt in every session of a version.
fn base_instructions(vocab: &Vocab, seed: u64) -> String {
    let mut t = Text::new(Rng::derive(seed, u64::MAX - 1), vocab);
    let mut s = String::from(
        "You are Codex, a coding agent based on GPT-5. You and the user share the same workspace and collaborate to achieve the user's goals.\n\n",
    );
    while s.len() < 7_000 {
        s.push_str("## ");
        t.capitalised(&mut s);
        s.push_str("\n\n");
        t.prose(&mut s, 4);
        s.push_str("\n\n");
    }
    s
}

fn write_codex(dir: &Path, vocab: &Vocab, base: &str, p: Plan) -> io::Result<(u64, u64)> {
    let mut t = Text::new(p.rng.clone(), vocab);
    let busy = t.rng.below(60) + 1;
    let project = t.rng.below(busy);
    let version = format!("0.{}.0", t.rng.range(90, 140));
    let model = *t.rng.pick(CODEX_MODELS);
    let mut c = common(&mut t, &p, version, model, project);
    // Codex ids are UUIDv7: the time first.
    c.sid = format!("{:08x}-{:04x}-7{}", c.ts >> 16, c.ts & 0xffff, &c.sid[15..]);
    let stamp = iso(c.ts);
    let (date, time) = (&stamp[..10], &stamp[11..19]);
    let folder = dir
        .join("codex/sessions")
        .join(&date[..4])
        .join(&date[5..7])
        .join(&date[8..10]);
    std::fs::create_dir_all(&folder)?;
    let name = format!("rollout-{date}T{}-{}.jsonl", time.replace(':', "-"), c.sid);
    let file = File::create(folder.join(name))?;
    let plain_output = t.rng.chance(0.6);
    let mut cx = Codex {
        t,
        c,
        sink: Sink {
            out: BufWriter::with_capacity(256 * 1024, file),
            bytes: 0,
            lines: 0,
        },
        line: String::new(),
        plain_output,
        total_tokens: 0,
    };
    let mut commit = String::new();
    cx.t.hex(&mut commit, 40);
    let (sid, cwd, version, branch) = (
        cx.c.sid.clone(),
        cx.c.cwd.clone(),
        cx.c.version.clone(),
        cx.c.branch.clone(),
    );
    let meta_ts = stamp.clone();
    cx.item(0, 1, "session_meta", |pl| {
        pl.str("id", &sid)
            .str("timestamp", &meta_ts)
            .str("cwd", &cwd)
            .str("originator", "codex_cli_rs")
            .str("cli_version", &version)
            .str("source", "cli")
            .str("model_provider", "openai")
            .obj("base_instructions", |b| {
                b.str("text", base);
            })
            .obj("git", |g| {
                g.str("commit_hash", &commit).str("branch", &branch).str(
                    "repository_url",
                    &format!("git@github.com:dev/proj{project}.git"),
                );
            });
    })?;
    let mut s = Scratch::default();
    let mut first = true;
    while first || cx.sink.bytes < cx.c.target {
        cx.turn(first, &mut s)?;
        first = false;
    }
    cx.sink.out.flush()?;
    Ok((cx.sink.bytes, cx.sink.lines))
}

// ---------------------------------------------------------------------------------------------
// Corpora

/// A generated corpus on disk.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The folder to import (holds `claude/` and `codex/`).
    pub root: PathBuf,
    pub sessions: u64,
    pub claude: u64,
    pub codex: u64,
    pub bytes: u64,
    pub lines: u64,
    pub median: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    /// Files of 1 MB or more.
    pub over_1mb: u64,
}

impl Corpus {
    fn to_marker(&self) -> String {
        format!(
            "gen_version={GEN_VERSION}\nsessions={}\nclaude={}\ncodex={}\nbytes={}\nlines={}\nmedian={}\np90={}\np99={}\nmax={}\nover_1mb={}\n",
            self.sessions,
            self.claude,
            self.codex,
            self.bytes,
            self.lines,
            self.median,
            self.p90,
            self.p99,
            self.max,
            self.over_1mb
        )
    }

    fn from_marker(root: PathBuf, text: &str) -> Option<Corpus> {
        let get = |k: &str| -> Option<u64> {
            text.lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('=')?.trim().parse().ok())
        };
        if get("gen_version")? != u64::from(GEN_VERSION) {
            return None;
        }
        Some(Corpus {
            root,
            sessions: get("sessions")?,
            claude: get("claude")?,
            codex: get("codex")?,
            bytes: get("bytes")?,
            lines: get("lines")?,
            median: get("median")?,
            p90: get("p90")?,
            p99: get("p99")?,
            max: get("max")?,
            over_1mb: get("over_1mb")?,
        })
    }
}

/// The corpus of `n` sessions from `seed` under `data_dir`, generated unless already cached.
pub fn ensure(data_dir: &Path, n: usize, seed: u64) -> io::Result<Corpus> {
    let dir = data_dir.join(format!("{n}-{seed}"));
    let marker = dir.join("corpus.done");
    let root = dir.join("corpus");
    if let Ok(text) = std::fs::read_to_string(&marker)
        && let Some(c) = Corpus::from_marker(root.clone(), &text)
        && root.is_dir()
    {
        eprintln!(
            "corpus {n} sessions (seed {seed}): cached at {} ({})",
            root.display(),
            crate::report::mb(c.bytes)
        );
        return Ok(c);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&root)?;
    eprintln!(
        "corpus {n} sessions (seed {seed}): generating in {} …",
        root.display()
    );
    let started = Instant::now();
    let vocab = Vocab::new(seed);
    let base = base_instructions(&vocab, seed);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let results: Vec<io::Result<Vec<(Kind, u64, u64)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let (vocab, base, root) = (&vocab, &base, &root);
                scope.spawn(move || -> io::Result<Vec<(Kind, u64, u64)>> {
                    let mut out = Vec::new();
                    for i in (w..n).step_by(threads) {
                        let p = plan(seed, i);
                        let kind = p.kind;
                        let (bytes, lines) = match kind {
                            Kind::Claude => write_claude(root, vocab, p)?,
                            Kind::Codex => write_codex(root, vocab, base, p)?,
                        };
                        out.push((kind, bytes, lines));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread panicked"))
            .collect()
    });
    let mut sizes = Vec::with_capacity(n);
    let (mut claude, mut codex, mut lines) = (0, 0, 0);
    for r in results {
        for (kind, b, l) in r? {
            match kind {
                Kind::Claude => claude += 1,
                Kind::Codex => codex += 1,
            }
            sizes.push(b);
            lines += l;
        }
    }
    sizes.sort_unstable();
    let q = |p: f64| sizes[((sizes.len() as f64 - 1.0) * p).round() as usize];
    let c = Corpus {
        root,
        sessions: n as u64,
        claude,
        codex,
        bytes: sizes.iter().sum(),
        lines,
        median: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        max: *sizes.last().unwrap_or(&0),
        over_1mb: sizes.iter().filter(|&&s| s >= 1_000_000).count() as u64,
    };
    std::fs::write(&marker, c.to_marker())?;
    eprintln!(
        "  {} files, {} in {:.1} s (median {}, p99 {}, max {})",
        n,
        crate::report::mb(c.bytes),
        started.elapsed().as_secs_f64(),
        crate::report::kb(c.median),
        crate::report::kb(c.p99),
        crate::report::mb(c.max)
    );
    Ok(c)
}

/// Every file under `root`, sorted.
pub fn files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let ty = e.file_type()?;
            if ty.is_dir() {
                stack.push(e.path());
            } else if ty.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parses every line of every file as JSON; returns (files, lines) or the first bad line.
pub fn verify(root: &Path) -> io::Result<(u64, u64)> {
    self_check()?;
    let (mut nf, mut nl) = (0, 0);
    let mut buf = String::new();
    for f in files(root)? {
        nf += 1;
        let mut r = BufReader::new(File::open(&f)?);
        let mut ln = 0;
        loop {
            buf.clear();
            if r.read_line(&mut buf)? == 0 {
                break;
            }
            ln += 1;
            nl += 1;
            if let Err(e) = serde_json::from_str::<serde_json::Value>(buf.trim_end()) {
                return Err(io::Error::other(format!("{}:{ln}: {e}", f.display())));
            }
        }
    }
    Ok((nf, nl))
}

/// The generator's own building blocks agree with the real thing.
fn self_check() -> io::Result<()> {
    let tricky = "a\"b\\c\nd\te\u{1}f é\r";
    let mut out = String::new();
    crate::json::esc(&mut out, tricky);
    let want = serde_json::to_string(tricky).map_err(io::Error::other)?;
    let checks = [
        (out, want),
        (iso(EPOCH_2026_MS), "2026-01-01T00:00:00.000Z".to_owned()),
        (
            iso(EPOCH_2026_MS + 59 * 86_400_000 + 3_723_004),
            "2026-03-01T01:02:03.004Z".to_owned(),
        ),
    ];
    for (got, want) in checks {
        if got != want {
            return Err(io::Error::other(format!(
                "generator self-check: {got} != {want}"
            )));
        }
    }
    Ok(())
}
