//! Secret redaction for sessions that leave the machine.
//!
//! A transcript holds whatever the agent saw: `.env` files, `aws configure` output, keys pasted
//! into a prompt. Before a session is written to a store that leaves the machine (the git session
//! store), [`Redactor::redact`] replaces every high-confidence secret with `[REDACTED:<kind>]`.
//! The local copy in `lore.db` is never redacted: redaction loses information, and the local
//! database is where the user already keeps the original.
//!
//! The rules ([`RULES`]) only match shapes that are secrets on sight: a provider prefix with the
//! right length, a labelled AWS secret, a PEM private key block, a password inside a URL. There is
//! no entropy guess and no generic `key = value` rule, because those redact ordinary code (hashes,
//! identifiers, test fixtures) and a redactor that mangles transcripts gets switched off. Users add
//! their own shapes with the `redact_patterns` config key; `redact = false` switches redaction off.
//!
//! Every rule runs over the same input, so no rule ever sees another rule's output. Overlapping
//! matches are merged into one redaction. Text that is already a marker is never touched, so
//! redacting twice gives the same text as redacting once. The built-in rules never redact a `"` or
//! cut a JSON escape in half, so the raw line of a JSONL transcript can be redacted as text and
//! stays valid JSON; a PEM key whose newlines are escaped (`\n`) is matched like one with real
//! newlines.

use std::borrow::Cow;

use regex::Regex;

use crate::config::{Config, ConfigError, Setting};

/// The built-in rules: `(kind, regex)`, where `kind` names the secret in its marker,
/// `[REDACTED:<kind>]`.
///
/// A rule redacts its whole match, or only the capture group named `secret` when it has one:
/// that keeps the label of a labelled secret, the user and host of a URL, and the terminator some
/// rules consume to know where a token ends. A token must start at an ASCII word boundary
/// (`(?-u:\b)`: the lazy DFA runs it on any input, where a Unicode `\b` would make the engine fall
/// back to a slow one on non-ASCII transcripts) or right after a JSON escape (`\n`, `\r`, `\t`), so
/// a token at the start of a line is found in a raw JSONL line too. No redacted span contains
/// `"`, `'` or a backtick.
///
/// Rules are tried in this order when two match at the same place, so `anthropic-api-key` (the
/// `sk-ant-` prefix) comes before `openai-api-key` (the `sk-` prefix), though the OpenAI rule does
/// not match Anthropic keys either.
pub const RULES: &[(&str, &str)] = &[
    // A PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP "PRIVATE KEY BLOCK"):
    // the whole block from BEGIN to END, or, when the END line is missing (the output was cut),
    // the header and at least 64 characters of base64 body. Public keys and certificates are
    // not secrets and are not matched. Newlines may be real or escaped (`\n`, `\\n`).
    (
        "private-key",
        r#"-{5}BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-{5}(?:[^"'`]{64,}?-{5}END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-{5}|(?:[A-Za-z0-9+/=\r\n]|\\+[rn]){64,})"#,
    ),
    // An AWS access key id: AKIA (long-term), ASIA (temporary), ABIA, ACCA, A3T* and 16
    // base32 characters, as gitleaks' aws-access-token.
    (
        "aws-access-key-id",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?-u:\b)",
    ),
    // An AWS secret access key, which has no prefix, so only when labelled:
    // `aws_secret_access_key = ...`, `AWS_SECRET_ACCESS_KEY=...`, `"SecretAccessKey": "..."`
    // (the JSON of `aws sts`), quoted or not, escaped quotes included. The label stays.
    (
        "aws-secret-access-key",
        r#"(?i-u:(?:aws_?)?secret_?access_?key)\\?["']?(?:\s*(?:=>|[:=])\s*|\s+)\\?["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
    ),
    // GitHub tokens: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server
    // (ghs_), refresh (ghr_): 36 or more base62 characters; fine-grained personal (github_pat_).
    (
        "github-token",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})",
    ),
    // GitLab tokens: personal (glpat-), deploy, runner, CI job, trigger, OAuth app secret, feed,
    // incoming mail and agent tokens, each a `gl...-` prefix and 20 or more characters.
    (
        "gitlab-token",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>(?:glpat|gldt|glrt|glcbt|glptt|gloas|glft|glimt|glagent)-[A-Za-z0-9_-]{20,})",
    ),
    // Anthropic keys: sk-ant- and a long body, which covers API keys (sk-ant-api03-), admin keys
    // (sk-ant-admin01-) and Claude OAuth tokens (sk-ant-oat01-).
    (
        "anthropic-api-key",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>sk-ant-[A-Za-z0-9_-]{32,})",
    ),
    // OpenAI keys: project, service-account and admin keys (sk-proj-, sk-svcacct-, sk-admin-,
    // sk-None-) and legacy user keys (sk- and exactly 48 base62 characters). A hyphen follows
    // `sk-ant`, so Anthropic keys never match here.
    (
        "openai-api-key",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{48}(?-u:\b)))",
    ),
    // Slack tokens: bot (xoxb-), user (xoxp-), app-level and legacy (xoxa-, xoxr-, xoxs-,
    // xoxo-), refresh (xoxe-): the prefix, a numeric team or version part, then the rest.
    (
        "slack-token",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>xox[abeoprs]-[0-9]{1,13}-[A-Za-z0-9-]{10,})",
    ),
    // Slack incoming-webhook and workflow URLs; the host and path kind stay, the secret path goes.
    (
        "slack-webhook",
        r"(?:\\[nrt]|(?-u:\b))hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9+/]{20,})",
    ),
    // Stripe secret and restricted keys, live and test (test keys still read and write test
    // data). Publishable keys (pk_) are public and are not matched.
    (
        "stripe-key",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{20,})",
    ),
    // Google API keys: AIza and 35 characters.
    (
        "gcp-api-key",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>AIza[A-Za-z0-9_-]{35})(?:[^A-Za-z0-9_-]|$)",
    ),
    // npm access tokens: npm_ and 36 base62 characters.
    (
        "npm-token",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>npm_[A-Za-z0-9]{36})(?-u:\b)",
    ),
    // A JSON Web Token: a base64url header and payload that both start with `{"` (eyJ), and the
    // signature, which is empty for an unsigned token.
    (
        "jwt",
        r"(?:\\[nrt]|(?-u:\b))(?P<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.(?:[A-Za-z0-9_-]{10,})?)",
    ),
    // A password inside a URL, `scheme://user:password@host`: only the password goes. The user
    // may be empty (`redis://:password@host`). A password that starts like a placeholder (`$`,
    // `%`, `{`, `[`, `*`, `<`: `${DB_PASSWORD}`, `%s`, `{pass}`, `****`) is left alone.
    (
        "url-credential",
        r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@"'<>`\\]*:(?P<secret>[^\s/?#@"'<>`\\$%{\[*][^\s/?#"'<>`\\]*)@[^\s/?#@"'<>`\\]"#,
    ),
];

/// The kind of every pattern from `redact_patterns` (or `extra` in [`Redactor::new`]).
pub const CUSTOM_KIND: &str = "custom";

/// What redaction puts where a secret was: `[REDACTED:<kind>]`. Matches of this are never
/// redacted again.
const MARKER: &str = r"\[REDACTED:[A-Za-z0-9_-]+\]";

/// Errors building a [`Redactor`].
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("redaction pattern '{pattern}' is not a valid regular expression: {message}")]
    BadPattern { pattern: String, message: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    kind: &'static str,
    re: Regex,
    /// The index of the `secret` group, when only that group is redacted.
    secret: Option<usize>,
}

impl Rule {
    fn new(kind: &'static str, re: Regex) -> Rule {
        let secret = re.capture_names().position(|n| n == Some("secret"));
        Rule { kind, re, secret }
    }
}

/// Replaces secrets in text. Build one per export and reuse it: compiling the rules is the
/// expensive part.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Empty when redaction is switched off.
    rules: Vec<Rule>,
    marker: Regex,
}

impl Redactor {
    /// The built-in [`RULES`] plus `extra` patterns (each of kind `custom`; a pattern with a group
    /// named `secret` redacts only that group). `enabled = false` gives a redactor that changes
    /// nothing, so callers need no second code path. An `extra` pattern that does not compile, or
    /// is empty, is an error that names it.
    pub fn new(enabled: bool, extra: &[String]) -> Result<Redactor, RedactError> {
        let marker = Regex::new(MARKER).expect("the marker regex compiles");
        if !enabled {
            return Ok(Redactor {
                rules: Vec::new(),
                marker,
            });
        }
        let mut rules = Vec::with_capacity(RULES.len() + extra.len());
        for (kind, re) in RULES {
            let re = Regex::new(re).unwrap_or_else(|e| panic!("built-in rule {kind}: {e}"));
            rules.push(Rule::new(kind, re));
        }
        for pattern in extra {
            let re = compile(pattern).map_err(|message| RedactError::BadPattern {
                pattern: pattern.clone(),
                message,
            })?;
            rules.push(Rule::new(CUSTOM_KIND, re));
        }
        Ok(Redactor { rules, marker })
    }

    /// From lore's config: `redact` (default true) switches redaction on or off and
    /// `redact_patterns` adds patterns.
    pub fn from_config(config: &Config) -> Result<Redactor, RedactError> {
        let enabled = match config.get_set("redact")? {
            Some(Setting::Bool(b)) => b,
            _ => true,
        };
        let extra = match config.get_set("redact_patterns")? {
            Some(Setting::Patterns(v) | Setting::List(v)) => v,
            _ => Vec::new(),
        };
        Redactor::new(enabled, &extra)
    }

    /// A digest of the rules in force: when it changes, records already exported may no longer
    /// be what this redactor would make of them, so sync looks at every session again.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for rule in &self.rules {
            h.update(rule.kind.as_bytes());
            h.update([0]);
            h.update(rule.re.as_str().as_bytes());
            h.update([0]);
        }
        crate::crypto::hex(&h.finalize())
    }

    /// Whether this redactor changes anything at all (false when `redact = false`).
    pub fn is_enabled(&self) -> bool {
        !self.rules.is_empty()
    }

    /// `text` with every match replaced by `[REDACTED:<kind>]`. Borrowed when nothing matched,
    /// which is the common case, so clean text costs no allocation.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.rules.is_empty() || text.is_empty() {
            return Cow::Borrowed(text);
        }
        // Markers already in the text (from an earlier redaction) are left exactly as they are.
        let markers: Vec<(usize, usize)> = if text.contains("[REDACTED:") {
            self.marker
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect()
        } else {
            Vec::new()
        };
        let touches_marker =
            |start: usize, end: usize| markers.iter().any(|&(s, e)| start < e && s < end);

        // (start, end, rule index): the rule index breaks ties, so the table order decides.
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match rule.secret {
                None => {
                    for m in rule.re.find_iter(text) {
                        spans.push((m.start(), m.end(), i));
                    }
                }
                Some(g) => {
                    for caps in rule.re.captures_iter(text) {
                        if let Some(m) = caps.get(g) {
                            spans.push((m.start(), m.end(), i));
                        }
                    }
                }
            }
        }
        spans.retain(|&(s, e, _)| s < e && !touches_marker(s, e));
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable();

        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        let mut iter = spans.into_iter().peekable();
        while let Some((start, mut end, i)) = iter.next() {
            // Overlapping matches become one redaction, named after the first.
            while let Some(&(s, e, _)) = iter.peek() {
                if s >= end {
                    break;
                }
                end = end.max(e);
                iter.next();
            }
            out.push_str(&text[pos..start]);
            out.push_str("[REDACTED:");
            out.push_str(self.rules[i].kind);
            out.push(']');
            pos = end;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    // Fake secrets are assembled at run time from short pieces, so no token-shaped literal sits
    // in the repository for secret scanners (or GitHub push protection) to trip on.

    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// `n` characters of `alphabet`, deterministic but irregular.
    fn chars(alphabet: &[u8], n: usize, seed: u32) -> String {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                alphabet[x as usize % alphabet.len()] as char
            })
            .collect()
    }

    fn alnum(n: usize, seed: u32) -> String {
        chars(ALNUM, n, seed)
    }

    fn redactor() -> Redactor {
        Redactor::new(true, &[]).unwrap()
    }

    /// Redacts `text` and checks that it is owned, that `secret` is gone, and that redacting
    /// again changes nothing.
    fn redacted(text: &str) -> String {
        let r = redactor();
        let once = r.redact(text);
        assert!(matches!(once, Cow::Owned(_)), "nothing redacted in {text}");
        let twice = r.redact(&once);
        assert!(matches!(twice, Cow::Borrowed(_)), "not idempotent: {once}");
        once.into_owned()
    }

    fn untouched(text: &str) {
        let out = redactor().redact(text);
        assert!(matches!(out, Cow::Borrowed(_)), "redacted {text} to {out}");
    }

    fn pem(label: &str, lines: usize, newline: &str) -> String {
        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = format!("-----BEGIN {label}-----{newline}");
        for i in 0..lines {
            s.push_str(&chars(b64, 64, i as u32));
            s.push_str(newline);
        }
        s.push_str(&chars(b64, 20, 99));
        s.push_str("==");
        s.push_str(newline);
        s.push_str(&format!("-----END {label}-----"));
        s
    }

    #[test]
    fn the_table_compiles_and_kinds_are_unique() {
        let r = redactor();
        assert_eq!(r.rules.len(), RULES.len());
        let mut kinds: Vec<_> = RULES.iter().map(|(k, _)| *k).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), RULES.len());
        // No marker is itself something a rule redacts.
        for (kind, _) in RULES {
            untouched(&format!("x [REDACTED:{kind}] y"));
        }
    }

    #[test]
    fn private_keys() {
        let rsa = concat!("RSA PRIV", "ATE KEY");
        let key = pem(rsa, 5, "\n");
        let text = format!("Here is the key:\n{key}\nSave it as id_rsa.");
        assert_eq!(
            redacted(&text),
            "Here is the key:\n[REDACTED:private-key]\nSave it as id_rsa."
        );
        // In a raw JSONL line the newlines are escaped; the JSON stays valid.
        let line = serde_json::json!({ "content": format!("cat key.pem\n{}\n", pem(concat!("PRIV", "ATE KEY"), 3, "\n")) })
            .to_string();
        assert!(line.contains(r"\n"));
        let out = redacted(&line);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["content"], "cat key.pem\n[REDACTED:private-key]\n");
        // OpenSSH and encrypted keys, with headers.
        let ssh = pem(concat!("OPENSSH PRIV", "ATE KEY"), 4, "\n");
        assert_eq!(redacted(&ssh), "[REDACTED:private-key]");
        let enc = pem(rsa, 4, "\n").replacen(
            "-----\n",
            "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C3D\n\n",
            1,
        );
        assert_eq!(redacted(&enc), "[REDACTED:private-key]");
        // Output cut before the END line: the header and body still go.
        let cut: String = pem(rsa, 5, "\n")
            .lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(redacted(&format!("{cut}\n")), "[REDACTED:private-key]");
    }

    #[test]
    fn private_key_near_misses() {
        let header = concat!("-----BEGIN RSA PRIV", "ATE KEY-----");
        // Code that looks for the header holds no key.
        untouched(&format!(
            "if line.starts_with(\"{header}\") {{ return Kind::Rsa; }}"
        ));
        untouched(&format!("const HEADER: &str = \"{header}\\n\";"));
        // Public keys and certificates are not secrets.
        untouched(&pem("PUBLIC KEY", 5, "\n"));
        untouched(&pem("CERTIFICATE", 5, "\n"));
    }

    #[test]
    fn aws_access_key_ids() {
        let b32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let id = format!("{}{}", "AK", "IA") + &chars(b32, 16, 1);
        assert_eq!(
            redacted(&format!("aws_access_key_id = {id}\n")),
            "aws_access_key_id = [REDACTED:aws-access-key-id]\n"
        );
        let temp = format!("{}{}", "AS", "IA") + &chars(b32, 16, 2);
        assert_eq!(
            redacted(&format!("\"AccessKeyId\": \"{temp}\"")),
            "\"AccessKeyId\": \"[REDACTED:aws-access-key-id]\""
        );
    }

    #[test]
    fn aws_access_key_id_near_misses() {
        untouched("AKIA is the prefix of long-term AWS access key ids");
        untouched("AKIASHORT and AKIA1234");
        let b32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        // Part of a longer word, or the wrong alphabet (0, 1, 8, 9 are not base32).
        untouched(&format!("XAKIA{}", chars(b32, 16, 3)));
        untouched(&format!("AKIA{}X", chars(b32, 16, 3)));
        untouched("AKIA0123456789018901");
    }

    #[test]
    fn aws_secret_access_keys_when_labelled() {
        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let secret = chars(b64, 40, 4);
        assert_eq!(
            redacted(&format!("[default]\naws_secret_access_key = {secret}\n")),
            "[default]\naws_secret_access_key = [REDACTED:aws-secret-access-key]\n"
        );
        assert_eq!(
            redacted(&format!("export AWS_SECRET_ACCESS_KEY=\"{secret}\"")),
            "export AWS_SECRET_ACCESS_KEY=\"[REDACTED:aws-secret-access-key]\""
        );
        assert_eq!(
            redacted(&format!("{{\"SecretAccessKey\": \"{secret}\"}}")),
            "{\"SecretAccessKey\": \"[REDACTED:aws-secret-access-key]\"}"
        );
        // Escaped, as in a raw JSONL line.
        assert_eq!(
            redacted(&format!(r#"\"SecretAccessKey\": \"{secret}\""#)),
            r#"\"SecretAccessKey\": \"[REDACTED:aws-secret-access-key]\""#
        );
        assert_eq!(
            redacted(&format!("aws configure set aws_secret_access_key {secret}")),
            "aws configure set aws_secret_access_key [REDACTED:aws-secret-access-key]"
        );
    }

    #[test]
    fn aws_secret_access_key_near_misses() {
        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        // Unlabelled 40-character strings are everywhere (sha1 hashes, for one).
        untouched(&format!("value: {}", chars(b64, 40, 5)));
        untouched("commit 3f786850e387550fdab836ed7e6dc881de23001b");
        untouched("aws_secret_access_key = os.environ[\"AWS_SECRET_ACCESS_KEY\"]");
        untouched("aws_secret_access_key = \"<your secret key>\"");
        untouched(&format!("aws_secret_access_key = {}", chars(b64, 39, 6)));
    }

    #[test]
    fn github_tokens() {
        for prefix in ["ghp", "gho", "ghu", "ghs", "ghr"] {
            let token = format!("{prefix}_{}", alnum(36, 7));
            assert_eq!(
                redacted(&format!("GITHUB_TOKEN={token} gh pr list")),
                "GITHUB_TOKEN=[REDACTED:github-token] gh pr list"
            );
        }
        let pat = format!("github_{}_{}_{}", "pat", alnum(22, 8), alnum(59, 9));
        assert_eq!(
            redacted(&format!("token: {pat}")),
            "token: [REDACTED:github-token]"
        );
    }

    #[test]
    fn github_token_near_misses() {
        untouched("Tokens start with ghp_ (classic) or github_pat_ (fine-grained).");
        untouched("let ghp_token = env::var(\"GH_TOKEN\")?;");
        untouched(&format!("ghp_{}", alnum(20, 10)));
        untouched(&format!("xghp_{}", alnum(36, 10)));
    }

    #[test]
    fn gitlab_tokens() {
        let token = format!("{}-{}", "glpat", alnum(20, 11));
        assert_eq!(
            redacted(&format!("PRIVATE-TOKEN: {token}")),
            "PRIVATE-TOKEN: [REDACTED:gitlab-token]"
        );
        let runner = format!("{}-{}", "glrt", alnum(24, 12));
        assert_eq!(redacted(&runner), "[REDACTED:gitlab-token]");
    }

    #[test]
    fn gitlab_token_near_misses() {
        untouched("Create a token; it starts with glpat- and goes in PRIVATE-TOKEN.");
        untouched("glpat-xxxxxxxxxxxx");
    }

    #[test]
    fn anthropic_keys_are_anthropic_not_openai() {
        let key = format!("sk-{}-api03-{}AA", "ant", alnum(93, 13));
        assert_eq!(
            redacted(&format!("ANTHROPIC_API_KEY={key}\n")),
            "ANTHROPIC_API_KEY=[REDACTED:anthropic-api-key]\n"
        );
        let oauth = format!("sk-{}-oat01-{}", "ant", alnum(80, 14));
        assert_eq!(redacted(&oauth), "[REDACTED:anthropic-api-key]");
    }

    #[test]
    fn anthropic_key_near_misses() {
        untouched("Anthropic keys look like sk-ant-api03-... and live in ANTHROPIC_API_KEY.");
        untouched("sk-ant-api03-xxxxxxxx");
    }

    #[test]
    fn openai_keys() {
        let proj = format!("sk-{}-{}T3BlbkFJ{}", "proj", alnum(74, 15), alnum(74, 16));
        assert_eq!(
            redacted(&format!("OPENAI_API_KEY={proj}")),
            "OPENAI_API_KEY=[REDACTED:openai-api-key]"
        );
        let legacy = format!("sk-{}T3BlbkFJ{}", alnum(20, 17), alnum(20, 18));
        assert_eq!(
            redacted(&format!("openai.api_key = '{legacy}'")),
            "openai.api_key = '[REDACTED:openai-api-key]'"
        );
    }

    #[test]
    fn openai_key_near_misses() {
        untouched("Set the key (it starts with sk-) in the environment.");
        untouched("task-force risk-assessment desk-lamp");
        untouched("sk-proj-xxxxxxxx");
        // 47 characters: not the legacy shape.
        untouched(&format!("sk-{}", alnum(47, 19)));
    }

    #[test]
    fn slack_tokens() {
        for prefix in ["xoxb", "xoxp", "xoxa", "xoxr", "xoxs"] {
            let token = format!(
                "{prefix}-{}-{}-{}",
                "1234567890",
                "9876543210123",
                alnum(24, 20)
            );
            assert_eq!(
                redacted(&format!("SLACK_TOKEN={token}")),
                "SLACK_TOKEN=[REDACTED:slack-token]"
            );
        }
    }

    #[test]
    fn slack_token_near_misses() {
        untouched("export SLACK_BOT_TOKEN=xoxb-your-bot-token");
        untouched("Bot tokens start with xoxb-.");
    }

    #[test]
    fn slack_webhooks_keep_the_host() {
        let url = format!(
            "https://hooks.{}.com/services/T{}/B{}/{}",
            "slack",
            alnum(8, 21).to_uppercase(),
            alnum(10, 22).to_uppercase(),
            alnum(24, 23)
        );
        assert_eq!(
            redacted(&format!("curl -X POST {url} -d @msg.json")),
            "curl -X POST https://hooks.slack.com/services/[REDACTED:slack-webhook] -d @msg.json"
        );
    }

    #[test]
    fn slack_webhook_near_misses() {
        untouched("See https://api.slack.com/messaging/webhooks for incoming webhooks.");
        untouched("POST to https://hooks.slack.com/services/ with your webhook path");
    }

    #[test]
    fn stripe_keys() {
        for prefix in ["sk_live", "rk_live", "sk_test"] {
            let key = format!("{prefix}_{}", alnum(24, 24));
            assert_eq!(
                redacted(&format!("Stripe.api_key = \"{key}\"")),
                "Stripe.api_key = \"[REDACTED:stripe-key]\""
            );
        }
    }

    #[test]
    fn stripe_key_near_misses() {
        // Publishable keys are public.
        untouched(&format!("pk_live_{}", alnum(24, 25)));
        untouched("Use sk_test_ keys in development and sk_live_ keys in production.");
        untouched("def sk_test_charges(): pass");
    }

    #[test]
    fn jwts() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(r#"{"sub":"1234567890","name":"Jo","iat":1516239022}"#);
        let sig = URL_SAFE_NO_PAD.encode(chars(ALNUM, 32, 26));
        let jwt = format!("{header}.{payload}.{sig}");
        assert_eq!(
            redacted(&format!("Authorization: Bearer {jwt}\n")),
            "Authorization: Bearer [REDACTED:jwt]\n"
        );
        // Unsigned.
        assert_eq!(
            redacted(&format!("token={header}.{payload}. ok")),
            "token=[REDACTED:jwt] ok"
        );
    }

    #[test]
    fn jwt_near_misses() {
        // Base64 of JSON, one segment: not a token.
        let blob = URL_SAFE_NO_PAD.encode(r#"{"theme":"dark","fontSize":14}"#);
        untouched(&format!("localStorage value: {blob}"));
        untouched(&format!("{blob}.{blob}"));
        untouched("version 1.2.3 and a.b.c");
    }

    #[test]
    fn google_api_keys() {
        let key = format!("AI{}{}", "za", alnum(35, 27));
        assert_eq!(
            redacted(&format!("?key={key}&q=1")),
            "?key=[REDACTED:gcp-api-key]&q=1"
        );
        untouched("AIza keys are restricted by referrer");
        untouched(&format!("AIza{}", alnum(20, 28)));
    }

    #[test]
    fn npm_tokens() {
        let token = format!("np{}_{}", "m", alnum(36, 29));
        assert_eq!(
            redacted(&format!("//registry.npmjs.org/:_authToken={token}")),
            "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]"
        );
        untouched("npm_config_cache=/tmp/npm npm_package_version=1.0.0");
    }

    #[test]
    fn url_credentials_keep_scheme_user_and_host() {
        for (url, want) in [
            (
                "https://alice:s3cr3t-Pa55@example.com/repo.git",
                "https://alice:[REDACTED:url-credential]@example.com/repo.git",
            ),
            (
                "postgres://app:hunter2@db.internal:5432/app",
                "postgres://app:[REDACTED:url-credential]@db.internal:5432/app",
            ),
            (
                "redis://:topsecret@cache:6379/0",
                "redis://:[REDACTED:url-credential]@cache:6379/0",
            ),
            (
                "mongodb+srv://u:p@ss%21@cluster0.mongodb.net/db",
                "mongodb+srv://u:[REDACTED:url-credential]@cluster0.mongodb.net/db",
            ),
        ] {
            assert_eq!(
                redacted(&format!("DATABASE_URL={url}\n")),
                format!("DATABASE_URL={want}\n")
            );
        }
        // Inside a JSON string, the quote ends it.
        assert_eq!(
            redacted(r#"{"url":"https://bob:pw@example.org"}"#),
            r#"{"url":"https://bob:[REDACTED:url-credential]@example.org"}"#
        );
    }

    #[test]
    fn url_credential_near_misses() {
        untouched("https://example.com/path?q=1 and https://user@example.com/");
        untouched("ssh://git@github.com/org/repo.git and git@github.com:org/repo.git");
        untouched("http://localhost:8080/users/@me and http://[::1]:8080/");
        untouched("postgres://app:${DB_PASSWORD}@db/app");
        untouched("\"postgres://%s:%s@%s/%s\" % (user, pw, host, db)");
        untouched("https://user:{password}@host and https://user:****@host");
        untouched("mailto:alice@example.com");
    }

    #[test]
    fn a_disabled_redactor_changes_nothing() {
        let r = Redactor::new(false, &["secret".into()]).unwrap();
        assert!(!r.is_enabled());
        let text = format!("{}_{} secret", "ghp", alnum(36, 30));
        assert!(matches!(r.redact(&text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn custom_patterns() {
        let r = Redactor::new(
            true,
            &[
                r"ACME-[0-9]{8}".into(),
                r"(?i)internal_token:\s*(?P<secret>\w+)".into(),
            ],
        )
        .unwrap();
        let out = r.redact("id ACME-12345678, Internal_Token: abc123 end");
        assert_eq!(
            out,
            "id [REDACTED:custom], Internal_Token: [REDACTED:custom] end"
        );
        assert_eq!(r.redact(&out), out);
        assert!(matches!(r.redact(&out), Cow::Borrowed(_)));
        // Patterns that match the empty string redact nothing where they match nothing.
        let r = Redactor::new(true, &["z*".into()]).unwrap();
        assert!(matches!(r.redact("abc"), Cow::Borrowed(_)));
    }

    #[test]
    fn an_invalid_custom_pattern_is_an_error_naming_it() {
        let e = Redactor::new(true, &["ok".into(), "token-(".into()]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("'token-('"), "{msg}");
        assert!(msg.contains("unclosed group"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        let e = Redactor::new(true, &[String::new()]).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        // Off means off: the pattern is not even compiled.
        assert!(Redactor::new(false, &["token-(".into()]).is_ok());
    }

    #[test]
    fn redaction_is_idempotent_on_a_mixed_transcript() {
        let text = format!(
            "{}\nAKIA{} {}_{}\nsk-{}-api03-{}AA https://u:pw@h.example/x\n{}",
            pem(concat!("EC PRIV", "ATE KEY"), 3, "\\n"),
            chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 31),
            "ghs",
            alnum(36, 32),
            "ant",
            alnum(93, 33),
            "plain prose with no secrets",
        );
        let r = redactor();
        let once = r.redact(&text).into_owned();
        assert_eq!(
            once,
            "[REDACTED:private-key]\n[REDACTED:aws-access-key-id] [REDACTED:github-token]\n\
             [REDACTED:anthropic-api-key] https://u:[REDACTED:url-credential]@h.example/x\n\
             plain prose with no secrets"
        );
        assert_eq!(r.redact(&once), once);
    }

    #[test]
    fn tokens_after_a_json_escape_are_found_in_raw_lines() {
        // `cat .env` output in a raw JSONL line: each token follows an escaped newline or tab,
        // so the character before it is the `n` or `t` of the escape, not a word boundary.
        let tokens = [
            (format!("{}_{}", "ghp", alnum(36, 40)), "github-token"),
            (
                format!("sk-{}-api03-{}AA", "ant", alnum(93, 41)),
                "anthropic-api-key",
            ),
            (
                format!("AK{}{}", "IA", "QWERTYUIOPASDFGH"),
                "aws-access-key-id",
            ),
            (format!("{}-{}", "glpat", alnum(20, 42)), "gitlab-token"),
            (format!("np{}_{}", "m", alnum(36, 43)), "npm-token"),
        ];
        let decoded: String = tokens.iter().map(|(t, _)| format!("{t}\n\t")).collect();
        let line = serde_json::json!({ "type": "tool_result", "content": decoded }).to_string();
        let out = redacted(&line);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want: String = tokens
            .iter()
            .map(|(_, kind)| format!("[REDACTED:{kind}]\n\t"))
            .collect();
        assert_eq!(v["content"], want.as_str());
        // The decoded text gives the same result.
        assert_eq!(redacted(&decoded), want);
    }

    #[test]
    fn clean_text_is_borrowed() {
        let r = redactor();
        let text = "fn main() {\n    println!(\"hello, sk- world: https://example.com/a@b\");\n}\n";
        assert!(matches!(r.redact(text), Cow::Borrowed(t) if std::ptr::eq(t, text)));
        assert!(matches!(r.redact(""), Cow::Borrowed("")));
        // A marker someone typed is left alone too.
        assert!(matches!(
            r.redact("[REDACTED:github-token]"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn overlapping_matches_become_one_redaction() {
        let r = Redactor::new(true, &[r"Bearer \S+".into()]).unwrap();
        let token = format!("{}_{}", "ghp", alnum(36, 34));
        // The github rule and the custom one overlap; the earlier start names the redaction.
        assert_eq!(
            r.redact(&format!("Authorization: Bearer {token}!")),
            "Authorization: [REDACTED:custom]"
        );
    }

    #[test]
    fn from_config_reads_the_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        let token = format!("{}_{}", "ghp", alnum(36, 35));
        let text = format!("{token} ACME-1");

        let r = Redactor::from_config(&Config::load(&p).unwrap()).unwrap();
        assert_eq!(r.redact(&text), "[REDACTED:github-token] ACME-1");

        std::fs::write(&p, "redact_patterns = [\"ACME-[0-9]\"]\n").unwrap();
        let r = Redactor::from_config(&Config::load(&p).unwrap()).unwrap();
        assert_eq!(r.redact(&text), "[REDACTED:github-token] [REDACTED:custom]");

        std::fs::write(&p, "redact = false\nredact_patterns = [\"ACME-[0-9]\"]\n").unwrap();
        let r = Redactor::from_config(&Config::load(&p).unwrap()).unwrap();
        assert!(!r.is_enabled());
        assert_eq!(r.redact(&text), text);
    }
}
