//! The built-in redaction rules ([`RULES`]) and the checks that decide whether a labelled value
//! (`DB_PASSWORD=…`, `"token": "…"`, `--password …`, `Authorization: Bearer …`) is a secret.
//!
//! Two families. **Formats**: a provider's token has a prefix and a length that nothing else
//! has (`ghp_` and 36 characters), so any match is a secret. **Labels**: a value with no shape
//! of its own is a secret because of the name it is given, in any syntax transcripts carry
//! (env and shell, YAML, JSON, TOML, INI, XML, command-line flags, HTTP headers, SQL). A label
//! alone is not enough: the value must look like a literal (not `$VAR`, `os.environ[…]`,
//! `<your token>`, `String`, a path), which [`plausible_value`] decides.
//!
//! The table is documented row by row in docs/redaction.md; a rule added here goes there too,
//! with a case and a near miss in `corpus.rs`.

use regex::Captures;

/// How a rule's match becomes the span that is redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The whole match.
    Whole,
    /// The capture group named `secret`.
    Secret,
    /// A labelled value: the group `dq`, `sq` or `bare` (a double-quoted, single-quoted or bare
    /// value) when [`labelled_value`] accepts it with its label (group `key`, if any).
    Labelled(Label),
}

/// Where a label comes from, which sets how much the value must look like a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// `KEY=value`, `key: value`, `"key": "value"`, `<key>value</key>`: the key must name a
    /// secret ([`secret_key`]).
    Assignment,
    /// A command-line flag (`--password x`): the flag must name a secret.
    Flag,
    /// A value whose place alone says it is a secret (`mysql -pX`, `sshpass -p X`,
    /// `Authorization: Bearer X`, `IDENTIFIED BY 'x'`).
    Place,
}

/// A built-in rule: the kind its marker names (`[REDACTED:<kind>]`), its regex and how the
/// redacted span is picked. Several rules may share a kind.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub kind: &'static str,
    pub pattern: &'static str,
    pub pick: Pick,
}

/// A token that starts at an ASCII word boundary (`(?-u:\b)`: the lazy DFA runs it on any input,
/// where a Unicode `\b` would fall back to a slow engine on non-ASCII text) or right after a JSON
/// escape (`\n`, `\r`, `\t`), so a token at the start of a line is found in a raw JSONL line too.
/// The token is the group `secret`.
macro_rules! token {
    ($re:literal) => {
        concat!(r"(?:\\[nrt]|(?-u:\b))(?P<secret>", $re, r")")
    };
}

/// A token as [`token!`], which must also end at a word boundary.
macro_rules! word {
    ($re:literal) => {
        concat!(r"(?:\\[nrt]|(?-u:\b))(?P<secret>", $re, r")(?-u:\b)")
    };
}

/// A token as [`token!`], which must not be followed by another token character (letters,
/// digits, `_`, `-`): for tokens whose last character may be `-` or `_`.
macro_rules! dashed {
    ($re:literal) => {
        concat!(
            r"(?:\\[nrt]|(?-u:\b))(?P<secret>",
            $re,
            r")(?:[^A-Za-z0-9_-]|$)"
        )
    };
}

/// A labelled value: a double-quoted (`dq`), single-quoted (`sq`) or bare (`bare`) value, where
/// quotes may be JSON-escaped (`\"`). A bare value stops at whitespace, quotes, a backslash (the
/// start of a JSON escape), and at `;,&|<>(){}[]`, which end a value in shell, URLs and code.
macro_rules! value {
    () => {
        r#"(?:\\?"(?P<dq>[^"\\\r\n]+)\\?"|'(?P<sq>[^'\\\r\n]+)'|(?P<bare>[^\s"'`\\;,&|<>(){}\[\]]+))"#
    };
}

/// The words a label ends with when it names a secret; [`secret_key`] checks the whole label.
macro_rules! secret_word {
    () => {
        r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_.-]?key|apikey|key|auth|credentials?)"
    };
}

/// Every built-in rule. When two rules match at the same place, the one earlier in the table
/// names the redaction, so format rules (which name the provider) come before label rules.
pub const RULES: &[Spec] = &[
    // ---- Private keys -----------------------------------------------------------------------
    // A PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP "PRIVATE KEY BLOCK"):
    // the whole block from BEGIN to END, or, when the END line is missing (the output was cut),
    // the header and at least 64 characters of base64 body. Public keys and certificates are
    // not secrets and are not matched. Newlines may be real or escaped (`\n`, `\\n`).
    Spec {
        kind: "private-key",
        pattern: r#"-{5}BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-{5}(?:[^"'`]{64,}?-{5}END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-{5}|(?:[A-Za-z0-9+/=\r\n]|\\+[rn]){64,})"#,
        pick: Pick::Whole,
    },
    // A PuTTY private key file (.ppk, versions 2 and 3): from its first line to the
    // Private-MAC line; cut short, from the first line through the private lines.
    Spec {
        kind: "private-key",
        pattern: r#"PuTTY-User-Key-File-[0-9]+:(?:[^"'`]*?Private-MAC:[ \t]*[0-9a-fA-F]{16,}|[^"'`]*?Private-Lines:[ \t]*[0-9]+(?:[A-Za-z0-9+/=\r\n]|\\+[rn]){24,})"#,
        pick: Pick::Whole,
    },
    // An age secret key.
    Spec {
        kind: "private-key",
        pattern: word!("AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
        pick: Pick::Secret,
    },
    // ---- Cloud providers --------------------------------------------------------------------
    // An AWS access key id: AKIA (long-term), ASIA (temporary), ABIA, ACCA, A3T* and 16
    // base32 characters.
    Spec {
        kind: "aws-access-key-id",
        pattern: word!("(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"),
        pick: Pick::Secret,
    },
    // An AWS secret access key, which has no prefix, so only when labelled:
    // `aws_secret_access_key = ...`, `AWS_SECRET_KEY=...`, `"SecretAccessKey": "..."` (the JSON
    // of `aws sts`), quoted or not, escaped quotes included. The label stays.
    Spec {
        kind: "aws-secret-access-key",
        pattern: r#"(?i-u:(?:aws_?)?secret_?(?:access_?)?key)\\?["']?(?:\s*(?:=>|[:=])\s*|\s+)\\?["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        pick: Pick::Secret,
    },
    // An AWS STS session token (the base64 of its binary header is always one of these
    // prefixes), labelled or not.
    Spec {
        kind: "aws-session-token",
        pattern: token!("(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE)[A-Za-z0-9/+=]{80,}"),
        pick: Pick::Secret,
    },
    // Google API keys: AIza and 35 characters.
    Spec {
        kind: "gcp-api-key",
        pattern: dashed!("AIza[A-Za-z0-9_-]{35}"),
        pick: Pick::Secret,
    },
    // Google OAuth client secrets (GOCSPX-), access tokens (ya29.) and refresh tokens (1//0).
    Spec {
        kind: "google-oauth",
        pattern: dashed!(
            r"GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[A-Za-z0-9_-]{30,}|1//0[A-Za-z0-9_-]{40,}"
        ),
        pick: Pick::Secret,
    },
    // Azure storage account and Service Bus keys in a connection string.
    Spec {
        kind: "azure-key",
        pattern: r"(?i:AccountKey|SharedAccessKey)=(?P<secret>[A-Za-z0-9+/]{40,}={0,2})",
        pick: Pick::Secret,
    },
    // Azure AD (Entra) client secrets: three characters, a digit, `Q~`, 31 to 34 more.
    Spec {
        kind: "azure-client-secret",
        pattern: r"(?:^|[^A-Za-z0-9_~.-])(?P<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
        pick: Pick::Secret,
    },
    // DigitalOcean personal, OAuth and refresh tokens.
    Spec {
        kind: "digitalocean-token",
        pattern: word!("do[opr]_v1_[a-f0-9]{64}"),
        pick: Pick::Secret,
    },
    // ---- Code hosts and registries -----------------------------------------------------------
    // GitHub tokens: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server
    // (ghs_), refresh (ghr_): 36 or more base62 characters; fine-grained personal (github_pat_).
    Spec {
        kind: "github-token",
        pattern: token!("gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,}"),
        pick: Pick::Secret,
    },
    // GitLab tokens: personal (glpat-), deploy, runner, CI job, trigger, OAuth app secret, feed,
    // incoming mail, SCIM, feature flag and agent tokens.
    Spec {
        kind: "gitlab-token",
        pattern: token!(
            "(?:glpat|gldt|glrt|glcbt|glptt|gloas|glft|glimt|glsoat|glffct|glagent)-[A-Za-z0-9_-]{20,}"
        ),
        pick: Pick::Secret,
    },
    // npm access tokens: npm_ and 36 base62 characters.
    Spec {
        kind: "npm-token",
        pattern: word!("npm_[A-Za-z0-9]{36}"),
        pick: Pick::Secret,
    },
    // PyPI upload tokens (a macaroon whose first bytes name pypi.org).
    Spec {
        kind: "pypi-token",
        pattern: dashed!("pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
        pick: Pick::Secret,
    },
    // Docker Hub personal access tokens.
    Spec {
        kind: "docker-token",
        pattern: dashed!("dckr_pat_[A-Za-z0-9_-]{27,}"),
        pick: Pick::Secret,
    },
    // ---- AI providers -----------------------------------------------------------------------
    // Anthropic keys: sk-ant- and a long body, which covers API keys (sk-ant-api03-), admin keys
    // (sk-ant-admin01-) and Claude OAuth tokens (sk-ant-oat01-).
    Spec {
        kind: "anthropic-api-key",
        pattern: token!("sk-ant-[A-Za-z0-9_-]{32,}"),
        pick: Pick::Secret,
    },
    // OpenAI keys: project, service-account and admin keys (sk-proj-, sk-svcacct-, sk-admin-,
    // sk-None-) and legacy user keys (sk- and exactly 48 base62 characters). A hyphen follows
    // `sk-ant`, so Anthropic keys never match here.
    Spec {
        kind: "openai-api-key",
        pattern: token!(
            r"sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{48}(?-u:\b))"
        ),
        pick: Pick::Secret,
    },
    // OpenRouter keys, and DeepSeek-style keys (sk- and 32 hex digits).
    Spec {
        kind: "llm-api-key",
        pattern: word!("sk-or-v1-[a-f0-9]{64}|sk-[a-f0-9]{32}"),
        pick: Pick::Secret,
    },
    // Hugging Face user and organisation tokens.
    Spec {
        kind: "huggingface-token",
        pattern: word!("(?:hf|api_org)_[A-Za-z0-9]{34}"),
        pick: Pick::Secret,
    },
    // Groq, xAI, Replicate, Perplexity, LangSmith, Tavily and Pinecone keys.
    Spec {
        kind: "llm-api-key",
        pattern: word!(
            "gsk_[A-Za-z0-9]{52}|xai-[A-Za-z0-9]{80}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{48}|lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}|tvly-(?:dev-)?[A-Za-z0-9]{32}|pcsk_[A-Za-z0-9_]{50,}"
        ),
        pick: Pick::Secret,
    },
    // ---- Messaging, payments, SaaS ----------------------------------------------------------
    // Slack tokens: bot (xoxb-), user (xoxp-), app-level and legacy (xoxa-, xoxr-, xoxs-,
    // xoxo-), refresh (xoxe-): the prefix, a numeric team or version part, then the rest; and
    // app-level tokens (xapp-).
    Spec {
        kind: "slack-token",
        pattern: token!(
            "xox[abeoprs]-[0-9]{1,13}-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Z0-9]{8,}-[0-9]{8,}-[A-Za-z0-9]{32,}"
        ),
        pick: Pick::Secret,
    },
    // Slack incoming-webhook and workflow URLs; the host and path kind stay, the secret path goes.
    Spec {
        kind: "slack-webhook",
        pattern: r"(?:\\[nrt]|(?-u:\b))hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9+/]{20,})",
        pick: Pick::Secret,
    },
    // Discord webhook URLs: the token part.
    Spec {
        kind: "discord-webhook",
        pattern: r"discord(?:app)?\.com/api/webhooks/[0-9]{5,30}/(?P<secret>[A-Za-z0-9_-]{60,})",
        pick: Pick::Secret,
    },
    // Telegram bot tokens: the bot id, a colon, AA and 33 characters.
    Spec {
        kind: "telegram-bot-token",
        pattern: dashed!("[0-9]{8,10}:AA[A-Za-z0-9_-]{33}"),
        pick: Pick::Secret,
    },
    // Stripe secret and restricted keys, live and test (test keys still read and write test
    // data), and webhook signing secrets. Publishable keys (pk_) are public and are not matched.
    Spec {
        kind: "stripe-key",
        pattern: token!("(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{20,}|whsec_[A-Za-z0-9]{32,}"),
        pick: Pick::Secret,
    },
    // Square access tokens and OAuth secrets.
    Spec {
        kind: "square-token",
        pattern: dashed!("sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}|EAAA[A-Za-z0-9_-]{60}"),
        pick: Pick::Secret,
    },
    // SendGrid API keys: SG., 22 characters, a dot, 43 characters.
    Spec {
        kind: "sendgrid-api-key",
        pattern: dashed!(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
        pick: Pick::Secret,
    },
    // Twilio API key sids, Mailgun and Mailchimp keys.
    Spec {
        kind: "messaging-api-key",
        pattern: word!("SK[0-9a-fA-F]{32}|key-[a-f0-9]{32}|[a-f0-9]{32}-us[0-9]{1,2}"),
        pick: Pick::Secret,
    },
    // Shopify access tokens and shared secrets.
    Spec {
        kind: "shopify-token",
        pattern: word!("shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
        pick: Pick::Secret,
    },
    // Developer platforms: Databricks, Linear, Postman, Grafana (cloud and service account),
    // Notion, Supabase, Sentry, HashiCorp Vault, Doppler, Heroku, Atlassian, Bitbucket, Pulumi,
    // Fly.io, Terraform Cloud, New Relic, OpenShift, PlanetScale, Prefect, Render, Netlify,
    // 1Password service accounts, Mapbox secret tokens.
    Spec {
        kind: "api-token",
        pattern: dashed!(
            r"dapi[a-f0-9]{32}(?:-[0-9])?|lin_api_[A-Za-z0-9]{40}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|ntn_[0-9]{11}[A-Za-z0-9]{35}|sbp_[a-f0-9]{40}|sntr[ysu]_[A-Za-z0-9+/=_]{40,}|hv[sbr]\.[A-Za-z0-9_-]{24,}|dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}|HRKU-AA[A-Za-z0-9_-]{58}|ATATT3[A-Za-z0-9_=-]{150,}|ATBB[A-Za-z0-9_=.-]{32,}|pul-[a-f0-9]{40}|fo1_[A-Za-z0-9_-]{43}|[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}|NRAK-[A-Z0-9]{27}|sha256~[A-Za-z0-9_-]{43}|pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}|pnu_[A-Za-z0-9]{36}|rnd_[A-Za-z0-9]{32}|nfp_[A-Za-z0-9]{36}|ops_eyJ[A-Za-z0-9+/]{250,}={0,3}|sk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,}"
        ),
        pick: Pick::Secret,
    },
    // ---- Generic shapes ---------------------------------------------------------------------
    // A JSON Web Token: a base64url header and payload that both start with `{"` (eyJ), and the
    // signature, which is empty for an unsigned token.
    Spec {
        kind: "jwt",
        pattern: token!(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.(?:[A-Za-z0-9_-]{10,})?"),
        pick: Pick::Secret,
    },
    // A password inside a URL, `scheme://user:password@host`: only the password goes. The user
    // may be empty (`redis://:password@host`). A password that starts like a placeholder (`$`,
    // `%`, `{`, `[`, `*`, `<`: `${DB_PASSWORD}`, `%s`, `{pass}`, `****`) is left alone.
    Spec {
        kind: "url-credential",
        pattern: r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@"'<>`\\]*:(?P<secret>[^\s/?#@"'<>`\\$%{\[*][^\s/?#"'<>`\\]*)@[^\s/?#@"'<>`\\]"#,
        pick: Pick::Secret,
    },
    // ---- Labelled values --------------------------------------------------------------------
    // HTTP authorization: `Authorization: Basic|Bearer|token|Digest …`, as a header, a
    // `-H` argument, a JSON or YAML field.
    Spec {
        kind: "http-authorization",
        pattern: r#"(?i)(?:\\[nrt]|(?-u:\b))(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:basic|bearer|token|digest|negotiate|apikey|api-key|sso-key)[ \t]+(?P<bare>[A-Za-z0-9._~+/=:-]{6,})"#,
        pick: Pick::Labelled(Label::Place),
    },
    // `KEY=value`, `key: value`, `"key": "value"`, `key = 'value'`, `key => value`,
    // `key := value`, where the key names a secret (`DB_PASSWORD`, `jwtSecret`, `api-key`,
    // `_authToken`, `client_secret`): env files and shell, YAML, JSON, TOML, INI, code.
    Spec {
        kind: "labelled-secret",
        pattern: concat!(
            r#"(?:^|[^A-Za-z0-9_.-])(?P<key>(?:[A-Za-z_][A-Za-z0-9_.-]{0,80}?)?(?i:"#,
            secret_word!(),
            r#"))\\?["']?[ \t]*(?::=|=>|=|:)[ \t]*"#,
            value!()
        ),
        pick: Pick::Labelled(Label::Assignment),
    },
    // `<password>value</password>` (Maven settings, .NET config, any XML).
    Spec {
        kind: "labelled-secret",
        pattern: concat!(
            r"<(?P<key>(?:[A-Za-z_][A-Za-z0-9_.-]{0,80}?)?(?i:",
            secret_word!(),
            r"))>(?P<bare>[^<\s]+)</"
        ),
        pick: Pick::Labelled(Label::Assignment),
    },
    // A flag that names a secret: `--password x`, `--api-key=x`, `-token x`, `--client-secret x`.
    Spec {
        kind: "cli-secret",
        pattern: concat!(
            r"(?:^|\s|\\[nt])--?(?P<key>(?:[A-Za-z0-9][A-Za-z0-9-]{0,60}?)?(?i:",
            secret_word!(),
            r"))(?:=|[ \t]+)",
            value!()
        ),
        pick: Pick::Labelled(Label::Flag),
    },
    // Passwords that commands take by position or short flag: `mysql -pSECRET` (and its
    // siblings), `sshpass -p X`, `redis-cli -a X`, `docker login -p X`, `zip -P X`, `7z -pX`,
    // `ldapsearch -w X`, `sqlcmd -P X`, `openssl … -passin pass:X`, `keytool -storepass X`,
    // `curl -u user:X`, `smbclient -U user%X`.
    Spec {
        kind: "cli-password",
        pattern: concat!(
            r"(?:(?-u:\b)(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlsh|mariadb|mariadb-dump)(?-u:\b)[^\n|;&]*?[ \t]-p",
            r"|(?-u:\b)(?:7z|7za|7zz|rar|unrar)(?-u:\b)[^\n|;&]*?[ \t]-p",
            r"|(?-u:\b)sshpass(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]*",
            r"|(?-u:\b)redis-cli(?-u:\b)[^\n|;&]*?[ \t]-a[ \t]+",
            r"|(?-u:\b)(?:docker|podman|nerdctl|buildah|skopeo|helm|oras)[ \t]+(?:registry[ \t]+)?login(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]+",
            r"|(?-u:\b)(?:zip|unzip)(?-u:\b)[^\n|;&]*?[ \t]-P[ \t]+",
            r"|(?-u:\b)ldap[a-z]*(?-u:\b)[^\n|;&]*?[ \t]-w[ \t]+",
            r"|(?-u:\b)(?:sqlcmd|bcp|osql)(?-u:\b)[^\n|;&]*?[ \t]-P[ \t]*",
            r"|[ \t]-pass(?:in|out)?[ \t]+pass:",
            r"|[ \t]-(?:src|dest)?(?:store|key)pass[ \t]+",
            r"|(?-u:\b)(?:curl|wget|http|https|xh)(?-u:\b)[^\n|;&]*?[ \t](?:-u|--user)(?:[ \t]+|=)?\\?[\x22']?[^\s:\x22'\\]+:",
            r"|(?-u:\b)(?:smbclient|rpcclient|smbmap|smbget)(?-u:\b)[^\n|;&]*?[ \t]-U[ \t]*[^\s%\x22']+%",
            r")",
            value!()
        ),
        pick: Pick::Labelled(Label::Place),
    },
    // SQL: `IDENTIFIED BY 'x'`, `PASSWORD 'x'` (CREATE/ALTER USER, CREATE ROLE … WITH PASSWORD).
    Spec {
        kind: "sql-password",
        pattern: r"(?i)(?-u:\b)(?:identified[ \t]+by|password)[ \t]+'(?P<sq>[^'\\\r\n]+)'",
        pick: Pick::Labelled(Label::Place),
    },
];

/// Whether a labelled rule's match is a secret; the span of the value when it is.
pub fn labelled_value(text: &str, caps: &Captures<'_>, label: Label) -> Option<(usize, usize)> {
    let (m, quoted) = if let Some(m) = caps.name("dq") {
        (m, true)
    } else if let Some(m) = caps.name("sq") {
        (m, true)
    } else {
        (caps.name("bare")?, false)
    };
    let value = m.as_str();
    // A bare value followed by `(`, `[`, `{` or `.` and more is an expression, not a literal:
    // `os.getenv("X")`, `request.form["pw"]`.
    if !quoted {
        let next = text[m.end()..].chars().next();
        if matches!(next, Some('(' | '[' | '{')) {
            return None;
        }
    }
    let strong = match (label, caps.name("key")) {
        (Label::Place, _) => true,
        (_, None) => true,
        (label, Some(k)) => {
            let mut key = k.as_str();
            // A key right after a JSON escape (`\nDB_PASSWORD=`) starts with its letter.
            if k.start() > 0
                && text.as_bytes()[k.start() - 1] == b'\\'
                && key.len() > 1
                && matches!(key.as_bytes()[0], b'n' | b'r' | b't')
            {
                key = &key[1..];
            }
            secret_key(key, label)?
        }
    };
    plausible_value(value, strong, quoted).then_some((m.start(), m.end()))
}

/// Whether `key` names a secret: `Some(strong)`, where a strong label (an `UPPER_SNAKE` env
/// name, or a flag) lets a plainer value through; `None` when the key names no secret.
///
/// The key is cut into words (`_`, `-`, `.`, camelCase); its last word, or last two, must be a
/// secret word (`password`, `secret`, `token`, `api key`, `access key`, …), and no word may say
/// it is something else (`public`, `page`, `max`, `file`, …): `DB_PASSWORD`, `jwtSecret`,
/// `_authToken` and `client-secret` name secrets; `PUBLIC_KEY`, `nextPageToken`, `max_tokens`,
/// `bypass` and `primary_key` do not.
pub fn secret_key(key: &str, label: Label) -> Option<bool> {
    let upper =
        key.bytes().any(|b| b.is_ascii_uppercase()) && !key.bytes().any(|b| b.is_ascii_lowercase());
    let words = split_words(key);
    let last = words.last()?.as_str();
    let before = words.len().checked_sub(2).map(|i| words[i].as_str());
    const NOT_SECRET: &[&str] = &[
        "public",
        "publishable",
        "pub",
        "primary",
        "foreign",
        "sort",
        "partition",
        "cache",
        "page",
        "next",
        "continuation",
        "cancellation",
        "cancel",
        "max",
        "min",
        "count",
        "limit",
        "num",
        "placeholder",
        "hint",
        "label",
        "prompt",
        "field",
        "header",
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "cls",
        "mask",
        "file",
        "path",
        "dir",
        "url",
        "uri",
        "name",
        "id",
        "type",
        "length",
        "len",
        "size",
        "env",
        "var",
        "policy",
        "rule",
        "regex",
        "pattern",
        "col",
        "column",
        "usage",
        "total",
        "completion",
        "completions",
        "idempotency",
        "lookup",
        "sequence",
        "hot",
        "shortcut",
        "map",
        "dict",
        "index",
        "unique",
        "composite",
        "keyboard",
        "press",
        "i18n",
        "translation",
    ];
    if words.iter().any(|w| NOT_SECRET.contains(&w.as_str())) {
        return None;
    }
    // `PGPASSWORD`, `MYSQLPWD`-style env names: one word that ends with a secret word.
    if upper
        && words.len() == 1
        && [
            "password",
            "passwd",
            "passphrase",
            "secret",
            "token",
            "apikey",
        ]
        .iter()
        .any(|w| last.len() > w.len() && last.ends_with(w))
    {
        return Some(true);
    }
    let secret = match last {
        "password" | "passwd" | "passphrase" | "secret" | "token" | "apikey" | "credential"
        | "credentials" => true,
        "pass" | "pwd" => words.len() >= 2 || label == Label::Flag || key == "pass",
        "auth" => key.starts_with('_') || words.len() == 1 || upper,
        "key" => match before {
            Some(
                "api" | "access" | "secret" | "private" | "account" | "encryption" | "signing"
                | "master" | "auth" | "app" | "license" | "client" | "service" | "session"
                | "shared" | "storage" | "encrypt" | "decrypt" | "hmac" | "jwt" | "webhook",
            ) => true,
            // `STRIPE_KEY=`, `OPENAI_KEY=`: an env name ending in _KEY.
            Some(_) => upper,
            None => false,
        },
        _ => false,
    };
    secret.then_some(upper || label == Label::Flag)
}

/// `key` cut into lowercase words at `_`, `-`, `.` and camelCase humps (`jwtSecret` → jwt,
/// secret; `DB_PASSWORD` → db, password; `APIKey` → api, key).
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in key.split(['_', '-', '.']).filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let hump = i > 0
                && c.is_ascii_uppercase()
                && (chars[i - 1].is_ascii_lowercase()
                    || (chars[i - 1].is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())));
            if hump && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.push(c.to_ascii_lowercase());
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// Whether a labelled value looks like a literal secret rather than a reference, a
/// placeholder, a type or a path. `strong` labels (env names, flags, places such as `mysql -p`)
/// accept plain words (`DB_PASSWORD=postgres`); weak ones (`password: …` in code or YAML) need
/// a value that no identifier looks like (`hunter2`, `s3cr3t!`, `dXNlcjpwYXNz`).
pub fn plausible_value(value: &str, strong: bool, quoted: bool) -> bool {
    let v = value.trim();
    let len = v.chars().count();
    if len < 3 || (!strong && len < 6) {
        return false;
    }
    // Letters of other scripts alone (`你的密码`, "your password") are words, not secrets.
    if !v.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let first = v.as_bytes()[0];
    if b"$%{<[(*#@&!:=-\\".contains(&first) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const PLACEHOLDERS: &[&str] = &[
        "your",
        "example",
        "placeholder",
        "redacted",
        "xxxx",
        "****",
        "...",
        "…",
        "changeme",
        "change_me",
        "change-me",
        "dummy",
        "insert",
        "replace",
        "todo",
        "fixme",
        "<",
        ">",
        "secret_here",
        "token_here",
        "password_here",
        "here>",
        "sample",
        "notreal",
        "not-real",
        "fake",
    ];
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return false;
    }
    const WORDS: &[&str] = &[
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "required",
        "optional",
        "string",
        "str",
        "bool",
        "boolean",
        "int",
        "integer",
        "number",
        "object",
        "any",
        "password",
        "passwd",
        "secret",
        "token",
        "hidden",
        "masked",
        "empty",
        "env",
        "environ",
        "default",
        "prompt",
        "stdin",
        "input",
        "file",
        "text",
        "bytes",
        "yes",
        "no",
        "on",
        "off",
        "auto",
        "basic",
        "bearer",
        "value",
        "secretstr",
        "self",
        "this",
        "get",
        "set",
        "new",
        "char",
        "varchar",
        "unknown",
        "missing",
        "invalid",
        "n/a",
        "test",
        "testing",
    ];
    if WORDS.contains(&lower.as_str()) {
        return false;
    }
    // The same character again and again: `--------`, `aaaaaaaa`.
    if v.chars().all(|c| v.starts_with(c)) {
        return false;
    }
    // A path: `/run/secrets/db`, `~/.ssh/id_ed25519`, `./token.txt`.
    if (v.starts_with('/') || v.starts_with("~/") || v.starts_with("./") || v.starts_with("../"))
        && !v.contains(['+', '='])
    {
        return false;
    }
    // Code: `os.environ`, `settings.SECRET_KEY`, `self.token`, `config.db.password`.
    if !quoted && is_dotted_identifier(v) {
        return false;
    }
    if strong {
        return true;
    }
    // A weak label needs a value that is not a word or an identifier: `String`, `token_value`,
    // `SecretStr`, `API_TOKEN` are code; `hunter2`, `s3cr3t!` and `dXNlcjpwYXNz` are not.
    let digits = v.bytes().any(|b| b.is_ascii_digit());
    !(is_word_like(v) || (is_dotted_identifier(v) && !digits))
}

/// `a.b`, `a.b.c`: identifiers joined by dots.
fn is_dotted_identifier(v: &str) -> bool {
    let mut parts = 0;
    for p in v.split('.') {
        let mut chars = p.chars();
        match chars.next() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$' => {}
            _ => return false,
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

/// A word or an identifier of words: `String`, `token`, `TOKEN`, `SecretStr`, `token_value`,
/// `API_TOKEN`, `getToken`, `URLSafe`: letters, `_` and `-` only, each part made of humps that
/// read as words (capitals, then two or more lowercase letters). Random strings have irregular
/// case (`dXNlcjpwYXNz`) or digits.
fn is_word_like(v: &str) -> bool {
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
    {
        return false;
    }
    v.split(['_', '-']).all(|w| {
        let b = w.as_bytes();
        let mut i = 0;
        let mut first = true;
        while i < b.len() {
            let u0 = i;
            while i < b.len() && b[i].is_ascii_uppercase() {
                i += 1;
            }
            let l0 = i;
            while i < b.len() && b[i].is_ascii_lowercase() {
                i += 1;
            }
            let (upper, lower) = (l0 - u0, i - l0);
            let word = lower >= 2 || (first && lower >= 1) || (lower == 0 && i == b.len());
            if !word || upper + lower == 0 {
                return false;
            }
            first = false;
        }
        true
    })
}
