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
fn the_fingerprint_needs_no_compiling_and_follows_the_patterns() {
    let r = redactor();
    let f = r.fingerprint();
    assert!(r.rules.get().is_none());
    assert_eq!(Redactor::new(true, &[]).unwrap().fingerprint(), f);
    let custom = Redactor::new(true, &["zz[0-9]{8}".to_owned()]).unwrap();
    assert_ne!(custom.fingerprint(), f);
    assert_ne!(Redactor::new(false, &[]).unwrap().fingerprint(), f);
    let allowed = Redactor::new(true, &[])
        .unwrap()
        .with_allow(&["x".into()])
        .unwrap();
    assert_ne!(allowed.fingerprint(), f);
    // A custom rule is redacted after the built-in ones are compiled on first use.
    assert_eq!(custom.redact("id zz12345678 ok"), "id [REDACTED:custom] ok");
}

#[test]
fn the_table_compiles_and_markers_are_left_alone() {
    let r = redactor();
    // Nothing is compiled until something is redacted; then every rule is.
    assert!(r.rules.get().is_none());
    assert_eq!(r.rules().len(), RULES.len());
    assert!(r.rules.get().is_some());
    // No marker is itself something a rule redacts.
    for spec in RULES {
        untouched(&format!("x [REDACTED:{}] y", spec.kind));
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
    // 39 characters is no AWS secret, though the label still makes it a labelled secret.
    assert_eq!(
        redacted(&format!("aws_secret_access_key = {}", chars(b64, 39, 6))),
        "aws_secret_access_key = [REDACTED:labelled-secret]"
    );
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
    let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"1234567890","name":"Jo","iat":1516239022}"#);
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
            r"(?i)internal_ref:\s*(?P<secret>\w+)".into(),
        ],
    )
    .unwrap();
    let out = r.redact("id ACME-12345678, Internal_Ref: abc123 end");
    assert_eq!(
        out,
        "id [REDACTED:custom], Internal_Ref: [REDACTED:custom] end"
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
