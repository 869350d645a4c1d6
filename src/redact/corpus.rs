//! The redaction corpus: secrets placed where agent transcripts put them, one or more per rule
//! and per syntax, each with near misses that must stay untouched. Its catch rate is asserted
//! (at least 95%, as text and as the raw JSON line a transcript stores) and recorded in
//! docs/redaction.md.
//!
//! Fake secrets are assembled at run time from short pieces, so no token-shaped literal sits in
//! the repository for secret scanners (or GitHub push protection) to trip on.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

fn an(n: usize, seed: u32) -> String {
    chars(ALNUM, n, seed)
}

fn hex(n: usize, seed: u32) -> String {
    chars(HEX, n, seed)
}

/// `a` and `b` glued at run time.
fn p(a: &str, b: &str) -> String {
    format!("{a}{b}")
}

/// A secret in its place: the text a transcript holds and the secret in it.
struct Case {
    family: &'static str,
    text: String,
    secret: String,
}

fn case(family: &'static str, secret: String, text: impl Fn(&str) -> String) -> Case {
    Case {
        family,
        text: text(&secret),
        secret,
    }
}

/// `text` with its lines wrapped at `width` columns, as a terminal or `fold` does.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let chars: Vec<char> = line.chars().collect();
        let mut first = true;
        for chunk in chars.chunks(width) {
            if !first {
                out.push('\n');
            }
            out.extend(chunk);
            first = false;
        }
        out.push('\n');
    }
    out.pop();
    out
}

fn pem(label: &str, lines: usize, seed: u32) -> String {
    let mut s = format!("-----BEGIN {label}-----\n");
    for i in 0..lines {
        s.push_str(&chars(B64, 64, seed + i as u32));
        s.push('\n');
    }
    s.push_str(&chars(B64, 20, seed + 99));
    s.push_str("==\n");
    s.push_str(&format!("-----END {label}-----"));
    s
}

fn cases() -> Vec<Case> {
    let private = concat!("PRIV", "ATE KEY");
    let ghp = p("gh", &format!("p_{}", an(36, 1)));
    let sk_ant = p("sk-an", &format!("t-api03-{}AA", an(93, 2)));
    let jwt = {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let b = URL_SAFE_NO_PAD.encode(r#"{"sub":"42","role":"admin","iat":1716239022}"#);
        format!("{h}.{b}.{}", an(43, 3))
    };
    let putty = format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-2024\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{}\nPrivate-MAC: {}",
        chars(B64, 64, 4),
        chars(B64, 12, 5),
        chars(B64, 44, 6),
        hex(64, 7)
    );
    let putty_private = chars(B64, 44, 6);
    vec![
        // ---- Formats -------------------------------------------------------------------------
        case(
            "format",
            p(
                "AK",
                &format!("IA{}", chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 10)),
            ),
            |s| {
                format!(
                    "$ aws configure list\naccess_key     ****************  shared-credentials-file\n{s}"
                )
            },
        ),
        case("format", chars(B64, 40, 11).replace('+', "A"), |s| {
            format!("[default]\naws_secret_access_key = {s}\nregion = eu-west-1")
        }),
        case(
            "format",
            p("IQoJb3JpZ2lu", &format!("X2Vj{}", chars(B64, 300, 12))),
            |s| format!("\"SessionToken\": \"{s}\","),
        ),
        case("format", p("AI", &format!("za{}", an(35, 13))), |s| {
            format!("const firebaseConfig = {{ apiKey: \"{s}\" }};")
        }),
        case("format", p("GOCS", &format!("PX-{}", an(28, 14))), |s| {
            format!("client_id=1234.apps.googleusercontent.com client_secret {s}")
        }),
        case("format", p("ya", &format!("29.{}", an(120, 15))), |s| {
            format!("gcloud auth print-access-token\n{s}")
        }),
        case("format", format!("{}==", chars(B64, 86, 16)), |s| {
            format!(
                "AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net\""
            )
        }),
        case("format", format!("{}7Q~{}", an(3, 17), an(34, 18)), |s| {
            format!("az ad app credential reset --id 42 → password: {s}")
        }),
        case("format", p("dop", &format!("_v1_{}", hex(64, 19))), |s| {
            format!("doctl auth init --access-token {s}")
        }),
        case("format", ghp.clone(), |s| {
            format!("git remote set-url origin https://{s}@github.com/acme/app.git")
        }),
        case(
            "format",
            p("github", &format!("_pat_{}_{}", an(22, 20), an(59, 21))),
            |s| format!("gh auth login --with-token <<< {s}"),
        ),
        case("format", p("glp", &format!("at-{}", an(20, 22))), |s| {
            format!(
                "curl --header \"PRIVATE-TOKEN: {s}\" https://gitlab.example.com/api/v4/projects"
            )
        }),
        case("format", p("np", &format!("m_{}", an(36, 23))), |s| {
            format!("//registry.npmjs.org/:_authToken={s}")
        }),
        case(
            "format",
            p("pypi-AgEIcHlw", &format!("aS5vcmc{}", an(120, 24))),
            |s| format!("[pypi]\n  username = __token__\n  password = {s}"),
        ),
        case("format", p("dckr", &format!("_pat_{}", an(27, 25))), |s| {
            format!("echo {s} | docker login -u acme --password-stdin")
        }),
        case("format", sk_ant.clone(), |s| {
            format!("export ANTHROPIC_API_KEY={s}")
        }),
        case(
            "format",
            p("sk-pr", &format!("oj-{}T3BlbkFJ{}", an(74, 26), an(74, 27))),
            |s| format!("client = OpenAI(api_key=\"{s}\")"),
        ),
        case("format", p("sk-or", &format!("-v1-{}", hex(64, 28))), |s| {
            format!("OPENROUTER_API_KEY={s}")
        }),
        case(
            "format",
            p(
                "hf",
                &format!(
                    "_{}",
                    chars(
                        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                        34,
                        29
                    )
                ),
            ),
            |s| format!("huggingface-cli login --token {s}"),
        ),
        case("format", p("gs", &format!("k_{}", an(52, 30))), |s| {
            format!("GROQ_API_KEY={s}")
        }),
        case(
            "format",
            p(
                "xo",
                &format!("xb-{}-{}-{}", "2345678901", "3456789012345", an(24, 31)),
            ),
            |s| format!("slack_token: {s}"),
        ),
        case(
            "format",
            format!(
                "T{}/B{}/{}",
                an(8, 32).to_uppercase(),
                an(10, 33).to_uppercase(),
                an(24, 34)
            ),
            |s| {
                format!(
                    "curl -X POST -d @msg.json https://hooks.{}.com/services/{s}",
                    "slack"
                )
            },
        ),
        case("format", an(68, 35), |s| {
            format!("WEBHOOK=https://discord.com/api/webhooks/123456789012345678/{s}")
        }),
        case(
            "format",
            format!("{}:AA{}", "7123456789", an(33, 36)),
            |s| format!("bot = telebot.TeleBot(\"{s}\")"),
        ),
        case("format", p("sk_li", &format!("ve_{}", an(24, 37))), |s| {
            format!("Stripe.api_key = '{s}'")
        }),
        case("format", p("whs", &format!("ec_{}", an(32, 38))), |s| {
            format!(
                "stripe listen --forward-to localhost:3000\nReady! Your webhook signing secret is {s} (^C to quit)"
            )
        }),
        case("format", p("sq0", &format!("atp-{}", an(22, 39))), |s| {
            format!("SQUARE_ACCESS_TOKEN={s}")
        }),
        case("format", format!("SG.{}.{}", an(22, 40), an(43, 41)), |s| {
            format!("sg = sendgrid.SendGridAPIClient('{s}')")
        }),
        case("format", p("S", &format!("K{}", hex(32, 42))), |s| {
            format!("client = Client(\"{s}\", api_secret, account_sid)")
        }),
        case("format", p("ke", &format!("y-{}", hex(32, 43))), |s| {
            format!("curl -s --user 'api' https://api.mailgun.net/v3/x -F to=a@b {s}")
        }),
        case("format", p("shp", &format!("at_{}", hex(32, 44))), |s| {
            format!("X-Shopify-Access-Token header set from {s}")
        }),
        case("format", p("dap", &format!("i{}", hex(32, 45))), |s| {
            format!("databricks configure --token\nToken: {s}")
        }),
        case("format", p("hv", &format!("s.{}", an(90, 46))), |s| {
            format!("vault login {s}")
        }),
        case("format", p("lin_", &format!("api_{}", an(40, 47))), |s| {
            format!("LINEAR_KEY={s}")
        }),
        case("format", jwt.clone(), |s| {
            format!("document.cookie = \"session={s}\";")
        }),
        case("format", "Pr0d-Pa55word!".into(), |s| {
            format!("psql postgres://app:{s}@db.internal:5432/app -c 'select 1'")
        }),
        // ---- Private keys ----------------------------------------------------------------------
        case("private-key", pem(&format!("RSA {private}"), 6, 50), |s| {
            format!("$ cat ~/.ssh/id_rsa\n{s}\n$ ")
        }),
        case(
            "private-key",
            pem(&format!("OPENSSH {private}"), 5, 51),
            |s| format!("Write file deploy_key with content:\n{s}\n"),
        ),
        case("private-key", pem(&format!("EC {private}"), 3, 52), |s| {
            serde_json::json!({"type": "service_account", "private_key": s}).to_string()
        }),
        case(
            "private-key",
            pem(&format!("PGP {private} BLOCK"), 8, 53),
            |s| format!("gpg --export-secret-keys --armor me@example.com\n{s}"),
        ),
        case("private-key", putty_private, |_| putty.clone()),
        case(
            "private-key",
            p(
                "AGE-SECRET-",
                &format!(
                    "KEY-1{}",
                    chars(b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58, 54)
                ),
            ),
            |s| format!("# created: 2024-05-01\n# public key: age1xyz\n{s}"),
        ),
        // ---- Labelled: env and shell -------------------------------------------------------------
        case("env", "hunter2-prod".into(), |s| {
            format!("$ cat .env\nNODE_ENV=production\nDB_HOST=db\nDB_PASSWORD={s}\nDB_PORT=5432")
        }),
        case("env", format!("django-insecure-{}", an(40, 60)), |s| {
            format!("SECRET_KEY={s}")
        }),
        case("env", an(64, 61), |s| format!("JWT_SECRET=\"{s}\"")),
        case("env", chars(B64, 40, 62).replace('/', "x"), |s| {
            format!("export AWS_SECRET_KEY={s}")
        }),
        case("env", "pgdev".into(), |s| {
            format!("docker run -e POSTGRES_PASSWORD={s} -d postgres:16")
        }),
        case("env", "S3cure!pass".into(), |s| {
            format!("PGPASSWORD='{s}' psql -h db -U app")
        }),
        case("env", an(32, 63), |s| {
            format!("NEXTAUTH_SECRET={s} npm run dev")
        }),
        case("env", format!("base64:{}=", chars(B64, 43, 64)), |s| {
            format!("APP_KEY={s}")
        }),
        case("env", an(40, 65), |s| format!("$env:OPENAI_KEY = \"{s}\"")),
        // ---- Labelled: YAML, JSON, TOML, INI, XML, code ------------------------------------------------
        case("yaml", "s3cr3t!pw".into(), |s| {
            format!("database:\n  user: app\n  password: {s}\n  host: db")
        }),
        case("yaml", "compose-Pa55".into(), |s| {
            format!("services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {s}")
        }),
        case("yaml", an(40, 66), |s| {
            format!("oauth:\n  client_id: web-app\n  client_secret: \"{s}\"")
        }),
        case("json", an(32, 67), |s| {
            format!("{{\"apiKey\": \"{s}\", \"region\": \"eu\"}}")
        }),
        case("json", "Tr0ub4dor&3".into(), |s| {
            format!("{{\"user\":\"admin\",\"password\":\"{s}\"}}")
        }),
        case("toml", an(48, 68), |s| {
            format!("[server]\nport = 8080\nauth_token = \"{s}\"")
        }),
        case("ini", "iniPa55w0rd".into(), |s| {
            format!("[mysql]\nuser=root\npassword={s}\n")
        }),
        case("xml", "mvnDeploy!42".into(), |s| {
            format!(
                "<server>\n  <id>nexus</id>\n  <username>deploy</username>\n  <password>{s}</password>\n</server>"
            )
        }),
        case("code", "jdbc-Secret-77".into(), |s| {
            format!("spring.datasource.password={s}")
        }),
        case("code", "phpPass#2024".into(), |s| {
            format!("'password' => '{s}',")
        }),
        case("code", "goSecret99x".into(), |s| {
            format!("cfg := Config{{Password: \"{s}\"}}")
        }),
        case("code", hex(40, 69), |s| {
            format!("const webhookSecret = \"{s}\";")
        }),
        // ---- npm -------------------------------------------------------------------------------------------
        case("npm", "0b6c1b7e-2f4d-4c3a-9e8f-5a6b7c8d9e0f".into(), |s| {
            format!(
                "registry=https://npm.acme.dev/\n//npm.acme.dev/:_authToken={s}\nalways-auth=true"
            )
        }),
        case("npm", STANDARD.encode("deploy:npm-Pa55"), |s| {
            format!("_auth={s}\nemail=a@b.c")
        }),
        // ---- Command lines -----------------------------------------------------------------------------------
        case("cli", "Myp4ss".into(), |s| {
            format!("mysql -h db -u root -p{s} shop < dump.sql")
        }),
        case("cli", "dump-Pw9".into(), |s| {
            format!("mysqldump -uroot -p'{s}' --all-databases > all.sql")
        }),
        case("cli", "sshPw-4411".into(), |s| {
            format!("sshpass -p '{s}' ssh deploy@10.0.0.5 uptime")
        }),
        case("cli", "redisPa55".into(), |s| {
            format!("redis-cli -h cache -a {s} ping")
        }),
        case("cli", "dockerPw1!".into(), |s| {
            format!("docker login -u acme -p {s} registry.acme.dev")
        }),
        case("cli", "curlPw42".into(), |s| {
            format!("curl -u admin:{s} https://ci.acme.dev/api/json")
        }),
        case("cli", "flagPass-7".into(), |s| {
            format!("./manage.py createsuperuser --password {s}")
        }),
        case("cli", an(32, 70), |s| {
            format!("terraform apply -var --api-key={s}")
        }),
        case("cli", "opensslPw".into(), |s| {
            format!("openssl pkcs12 -in cert.p12 -passin pass:{s} -nodes")
        }),
        case("cli", "storePw123".into(), |s| {
            format!("keytool -list -keystore app.jks -storepass {s}")
        }),
        case("cli", "zipPw!".into(), |s| {
            format!("zip -r -P {s} backup.zip data/")
        }),
        case("cli", "ldapPw77".into(), |s| {
            format!("ldapsearch -x -D cn=admin,dc=acme -w {s} -b dc=acme")
        }),
        case("cli", "smbPw99".into(), |s| {
            format!("smbclient //nas/share -U backup%{s}")
        }),
        // ---- HTTP headers ---------------------------------------------------------------------------------------
        case("http", STANDARD.encode("admin:http-Pa55"), |s| {
            format!("GET /api HTTP/1.1\nHost: acme.dev\nAuthorization: Basic {s}\n")
        }),
        case("http", an(40, 71), |s| {
            format!("curl -H \"Authorization: Bearer {s}\" https://api.acme.dev/v1/me")
        }),
        case("http", an(32, 72), |s| {
            format!("curl -H 'X-API-Key: {s}' https://api.acme.dev")
        }),
        case("http", an(36, 73), |s| {
            format!("headers = {{\"Authorization\": \"Token {s}\"}}")
        }),
        // ---- SQL -----------------------------------------------------------------------------------------------------
        case("sql", "sqlPa55!".into(), |s| {
            format!("CREATE USER 'app'@'%' IDENTIFIED BY '{s}';")
        }),
        case("sql", "roleSecret1".into(), |s| {
            format!("ALTER ROLE app WITH LOGIN PASSWORD '{s}';")
        }),
        // ---- Wrapped at 80 columns -------------------------------------------------------------------------------------
        case("wrapped", sk_ant.clone(), |s| {
            wrap(
                &format!("Your key is ready. Copy it now, it will not be shown again: {s}"),
                80,
            )
        }),
        case("wrapped", ghp.clone(), |s| {
            wrap(
                &format!(
                    "remote: Use this personal access token for the deploy pipeline please ok: {s} thanks"
                ),
                80,
            )
        }),
        case("wrapped", jwt.clone(), |s| {
            wrap(
                &format!("The session cookie returned by the login endpoint was {s}"),
                80,
            )
        }),
        case("wrapped", an(120, 74), |s| {
            wrap(&format!("export INTERNAL_SERVICE_AUTH_TOKEN={s}"), 80)
        }),
        // ---- Base64 of a known format -------------------------------------------------------------------------------------
        case("base64", ghp.clone(), |s| {
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ntype: Opaque\ndata:\n  GH_TOKEN: {}\n",
                STANDARD.encode(s)
            )
        }),
        case("base64", "k8s-Db-Pa55".into(), |s| {
            format!(
                "kind: Secret\ndata:\n  DATABASE_URL: {}\n",
                STANDARD.encode(format!("postgres://app:{s}@db:5432/app"))
            )
        }),
        case("base64", sk_ant.clone(), |s| {
            format!(
                "echo {} | base64 -d",
                STANDARD.encode(format!("ANTHROPIC_API_KEY={s}"))
            )
        }),
        // ---- In prose and summaries ------------------------------------------------------------------------------------
        case("prose", p("np", &format!("m_{}", an(36, 75))), |s| {
            format!("I published the package using the token {s}; rotate it after the release.")
        }),
        case(
            "prose",
            p(
                "xo",
                &format!("xp-{}-{}-{}", "1234567890", "1234567890123", an(32, 76)),
            ),
            |s| {
                format!(
                    "Summary: configured the Slack bot (user token `{s}`) and tested the webhook."
                )
            },
        ),
    ]
}

/// Text that looks like a secret to a careless rule but is not one: at least one per rule.
fn near_misses() -> Vec<String> {
    let private = concat!("PRIV", "ATE KEY");
    vec![
        format!("if line.starts_with(\"-----BEGIN RSA {private}-----\") {{ kind = Rsa }}"),
        pem("PUBLIC KEY", 4, 80),
        "PuTTY-User-Key-File-3 is the header of a .ppk file".into(),
        "age-keygen prints AGE-SECRET-KEY-1... on stdout".into(),
        "AKIA is the prefix of long-term access key ids; ASIA of temporary ones".into(),
        "aws_secret_access_key = os.environ[\"AWS_SECRET_ACCESS_KEY\"]".into(),
        "STS tokens start with IQoJb3JpZ2luX2Vj and are long".into(),
        "Google API keys start with AIza and have 39 characters".into(),
        "client secrets now start with GOCSPX- and access tokens with ya29.".into(),
        "AccountKey=<your account key>;EndpointSuffix=core.windows.net".into(),
        format!("abc7Q~{}", an(10, 81)),
        format!("do{}_v1_{}", "p", hex(10, 82)),
        "let ghp_token = env::var(\"GH_TOKEN\")?; // ghp_ or github_pat_".into(),
        "glpat-xxxxxxxxxxxxxxxxxxxxxxxx and AKIAIOSFODNN7EXAMPLE".into(),
        "npm_config_cache=/tmp/npm npm_package_version=1.0.0".into(),
        "pypi-AgEI is how PyPI tokens start".into(),
        "dckr_pat_ tokens are created in Account settings".into(),
        "Anthropic keys look like sk-ant-api03-... and live in ANTHROPIC_API_KEY.".into(),
        "sk-proj-xxxxxxxx and sk-svcacct- are OpenAI prefixes".into(),
        "sk-or-v1-<key> from openrouter.ai".into(),
        "from huggingface_hub import hf_hub_download; hf_hub_download(repo_id=\"gpt2\")".into(),
        "gsk_ keys come from console.groq.com".into(),
        "export SLACK_BOT_TOKEN=xoxb-your-bot-token".into(),
        "POST to https://hooks.slack.com/services/ with your webhook path".into(),
        "https://discord.com/api/webhooks/{webhook.id}/{webhook.token}".into(),
        "curl https://api.telegram.org/bot<token>/getMe".into(),
        format!("pk_live_{} is the publishable key", an(24, 83)),
        "sq0atp- tokens come from the Square developer dashboard".into(),
        "SendGrid keys start with SG. and are 69 characters long".into(),
        "the twilio API key sid (SK...) and secret".into(),
        "shpat_ tokens belong to custom apps".into(),
        "dapi tokens are created in User settings; lin_api_ keys in Linear".into(),
        format!(
            "localStorage value: {}",
            URL_SAFE_NO_PAD.encode(r#"{"theme":"dark","fontSize":14}"#)
        ),
        "postgres://app:${DB_PASSWORD}@db/app and \"postgres://%s:%s@%s/%s\"".into(),
        "Authorization: Bearer $GITHUB_TOKEN".into(),
        "-H \"Authorization: Bearer <token>\"".into(),
        "password = os.getenv(\"DB_PASSWORD\")".into(),
        "  token: string;\n  password: String,\n  secret: SecretStr".into(),
        "NEXT_PUBLIC_SUPABASE_URL=https://x.supabase.co PUBLIC_KEY=abc123def456".into(),
        "{\"max_tokens\": 4096, \"nextPageToken\": \"CAESBwiQ4x\"}".into(),
        "password: ${DB_PASSWORD:-postgres}".into(),
        "SECRET_KEY = get_random_secret_key()".into(),
        "{\"password\": \"Password\", \"forgot_password\": \"Forgot your password?\"}".into(),
        "password_hash = bcrypt.hashpw(pw, salt)".into(),
        "api_key: Optional[str] = None".into(),
        "token = self.token\npassword = request.form['password']".into(),
        "SSH_KEY=~/.ssh/id_ed25519 GOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/key.json".into(),
        "<password>${env.NEXUS_PASSWORD}</password>".into(),
        "echo $CR_PAT | docker login ghcr.io -u me --password-stdin --token-file ./t".into(),
        "gh secret set API_KEY --body \"$API_KEY\"".into(),
        "mysql -u root -p mydb".into(),
        "ssh -p 2222 host; docker run -p 8080:80 nginx; mkdir -p dir; git add -p".into(),
        "curl -u $USER:$PASS https://ci.acme.dev".into(),
        "ALTER ROLE app WITH PASSWORD '********';".into(),
        "kind: Secret\ndata:\n  config: eyJsb2dsZXZlbCI6ICJkZWJ1ZyJ9".into(),
        format!("commit {}\nsha256:{}", hex(40, 84), hex(64, 85)),
        "Use `--password` to pass the password, or set it with PGPASSWORD.".into(),
        "export CPOLAR_PASSWORD=你的密码 # your password".into(),
        format!(
            "CLAUDE_PROJECT_AGENTS=/home/me/.config/claude/project-agents-{}.json\nPWD=/home/me/Documents/work-tree\nCLAUDE_METRICS_ENABLE=1",
            hex(8, 86)
        ),
        "    export POSTGRES_USER=app_user_for_the_service\n    export POSTGRES_HOST=localhost"
            .into(),
    ]
}

/// Whether `secret` is gone from `out`: no 8 characters of it in a row remain (all of it, for
/// shorter secrets), so neither the secret nor a usable part of it leaks.
fn caught(out: &str, secret: &str) -> bool {
    let chars: Vec<char> = secret.chars().collect();
    let w = chars.len().min(8);
    chars
        .windows(w)
        .map(|c| c.iter().collect::<String>())
        .all(|piece| !out.contains(&piece))
}

#[test]
fn the_corpus_catch_rate_is_at_least_95_percent_as_text_and_as_json() {
    let r = Redactor::new(true, &[]).unwrap();
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut missed = Vec::new();
    let mut total = 0;
    for c in &cases {
        // As the text the agent saw, and as the raw JSONL line a transcript stores it in.
        let json = serde_json::to_string(&c.text).unwrap();
        for (form, text) in [("text", c.text.clone()), ("json", json)] {
            total += 1;
            let out = r.redact(&text);
            if !caught(&out, &c.secret) {
                missed.push(format!("{} ({form}): {out}", c.family));
            }
            if form == "json" {
                // Still valid JSON, whatever was redacted.
                let v: Result<String, _> = serde_json::from_str(&out);
                assert!(v.is_ok(), "invalid JSON after redaction: {out}");
            }
            // Idempotent.
            assert_eq!(r.redact(&out), out);
        }
    }
    let rate = 100.0 * (total - missed.len()) as f64 / total as f64;
    eprintln!(
        "redaction corpus: {} cases, {} forms, {} missed, catch rate {rate:.1}%",
        cases.len(),
        total,
        missed.len()
    );
    for m in &missed {
        eprintln!("missed: {m}");
    }
    assert!(rate >= 95.0, "catch rate {rate:.1}%: {missed:#?}");
}

#[test]
fn every_near_miss_is_left_alone() {
    let r = Redactor::new(true, &[]).unwrap();
    let near = near_misses();
    eprintln!("near misses: {}", near.len());
    let touched: Vec<String> = near
        .iter()
        .flat_map(|t| [t.clone(), serde_json::to_string(t).unwrap()])
        .filter_map(|t| match r.redact(&t) {
            Cow::Borrowed(_) => None,
            Cow::Owned(out) => Some(format!("{t}\n  became {out}")),
        })
        .collect();
    assert!(touched.is_empty(), "{}", touched.join("\n"));
}

#[test]
fn every_rule_catches_a_corpus_case() {
    let r = Redactor::new(true, &[]).unwrap();
    let mut kinds: Vec<&str> = cases()
        .iter()
        .flat_map(|c| r.findings(&c.text).into_iter().map(|(_, _, k)| k))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    for spec in RULES {
        assert!(
            kinds.contains(&spec.kind),
            "no corpus case is redacted as {}",
            spec.kind
        );
    }
}

#[test]
fn a_secret_at_the_cap_is_cut_whole_not_in_half() {
    let r = Redactor::new(true, &[]).unwrap();
    let ghp = p("gh", &format!("p_{}", an(36, 90)));
    let key = pem(&format!("RSA {}", concat!("PRIV", "ATE KEY")), 10, 91);
    for (secret, text) in [
        (ghp.clone(), format!("token {ghp} end")),
        (
            ghp.clone(),
            wrap(&format!("{}{ghp} end", "x ".repeat(30)), 80),
        ),
        (
            "S3cr3t-Pa55".to_owned(),
            "DB_PASSWORD=S3cr3t-Pa55\n".to_owned(),
        ),
        (key.clone(), format!("cat id_rsa\n{key}\n")),
    ] {
        let filler = "lorem ipsum ".repeat(100);
        let full = format!("{filler}{text}");
        let at = full.find(&secret[..4]).unwrap();
        // Every cut from just inside the secret to its end.
        for cap in at + 1..at + secret.len() {
            let end = safe_cut(&full, cap);
            assert!(end <= cap && full.is_char_boundary(end));
            let kept = &full[..end];
            let out = r.redact(kept);
            assert!(
                caught(&out, &secret) || secret.len() < 8,
                "cut at {cap} (kept {end}) leaves part of the secret: …{}",
                &out[out.len().saturating_sub(80)..]
            );
            assert!(end >= filler.len() - 12, "cut too far back: {end}");
        }
    }
    // Short text is not cut.
    assert_eq!(safe_cut("abc", 10), 3);
}

#[test]
fn allow_listed_values_are_kept() {
    let test_key = p("sk_te", &format!("st_{}", an(24, 92)));
    let r = Redactor::new(true, &[])
        .unwrap()
        .with_allow(&[format!("{}.*", &test_key[..12])])
        .unwrap();
    let text = format!("Stripe docs test key {test_key} and DB_PASSWORD=Real-Pa55");
    assert_eq!(
        r.redact(&text),
        format!("Stripe docs test key {test_key} and DB_PASSWORD=[REDACTED:labelled-secret]")
    );
    let e = Redactor::new(true, &[])
        .unwrap()
        .with_allow(&["(".into()])
        .unwrap_err();
    assert!(e.to_string().contains("allow-list pattern '('"), "{e}");
}
