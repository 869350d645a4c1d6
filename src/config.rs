//! `config.toml`: a small, closed set of settings.
//!
//! Every key is declared in [`KEYS`] with its type and default; anything else is an error, so a
//! typo never silently does nothing. Setting a key rewrites only that key and keeps the rest of
//! the file (comments included) as the user left it.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Value};

/// The type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A git remote URL, or the path of a repository.
    Url,
    /// A path (`~/` is expanded when used).
    Path,
    /// A list of paths, given on the command line separated by commas.
    PathList,
    /// `true` or `false`.
    Bool,
    /// A list of regular expressions, checked when set and when loaded. Regexes contain commas,
    /// so on the command line the value is one pattern, or a TOML array of them.
    PatternList,
    /// A number from 0 to 1 (a score or a confidence).
    Fraction,
}

/// A setting lore understands.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub name: &'static str,
    pub ty: KeyType,
    /// The value in effect when the key is not set, as shown to the user.
    pub default: &'static str,
    pub help: &'static str,
}

/// Every setting.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        name: "color",
        ty: KeyType::Choice(&["auto", "always", "never"]),
        default: "auto",
        help: "when to colour output: auto (on a terminal, unless NO_COLOR is set), always, never",
    },
    KeySpec {
        name: "claude_dir",
        ty: KeyType::Path,
        default: "$CLAUDE_CONFIG_DIR or ~/.claude",
        help: "where Claude Code keeps its transcripts",
    },
    KeySpec {
        name: "codex_dir",
        ty: KeyType::Path,
        default: "$CODEX_HOME or ~/.codex",
        help: "where Codex CLI keeps its transcripts",
    },
    KeySpec {
        name: "gemini_dir",
        ty: KeyType::Path,
        default: "~/.gemini",
        help: "where Gemini CLI keeps its transcripts",
    },
    KeySpec {
        name: "copilot_dir",
        ty: KeyType::Path,
        default: "$COPILOT_HOME or ~/.copilot",
        help: "where GitHub Copilot CLI keeps its transcripts (session-state/)",
    },
    KeySpec {
        name: "cursor_dir",
        ty: KeyType::Path,
        default: "~/.cursor",
        help: "where Cursor keeps its agent transcripts (projects/*/agent-transcripts/)",
    },
    KeySpec {
        name: "qwen_dir",
        ty: KeyType::Path,
        default: "$QWEN_HOME or ~/.qwen",
        help: "where Qwen Code keeps its transcripts (projects/*/chats/, tmp/)",
    },
    KeySpec {
        name: "pi_dir",
        ty: KeyType::Path,
        default: "$PI_CODING_AGENT_DIR or ~/.pi/agent",
        help: "where Pi keeps its transcripts (sessions/)",
    },
    KeySpec {
        name: "factory_dir",
        ty: KeyType::Path,
        default: "~/.factory",
        help: "where Factory Droid keeps its transcripts (sessions/)",
    },
    KeySpec {
        name: "kiro_dir",
        ty: KeyType::Path,
        default: "~/.kiro",
        help: "where Kiro CLI keeps its transcripts (sessions/cli/)",
    },
    KeySpec {
        name: "continue_dir",
        ty: KeyType::Path,
        default: "$CONTINUE_GLOBAL_DIR or ~/.continue",
        help: "where Continue keeps its transcripts (sessions/)",
    },
    KeySpec {
        name: "vscode_dirs",
        ty: KeyType::PathList,
        default: "",
        help: "VS Code globalStorage folders where Cline, Roo Code and Kilo Code keep their tasks (default: those of VS Code, Insiders, VSCodium, Cursor and Windsurf, and of VS Code servers)",
    },
    KeySpec {
        name: "cline_dir",
        ty: KeyType::Path,
        default: "~/Documents/Cline",
        help: "Cline's own folder, where lore init puts its hook scripts (Hooks/)",
    },
    KeySpec {
        name: "amp_dir",
        ty: KeyType::Path,
        default: "$XDG_DATA_HOME/amp or ~/.local/share/amp",
        help: "where Amp kept its threads locally (threads/T-*.json; newer threads are on Amp's server: save them with 'amp threads export')",
    },
    KeySpec {
        name: "cursor_ide_dir",
        ty: KeyType::Path,
        default: "~/.config/Cursor/User or ~/Library/Application Support/Cursor/User",
        help: "Cursor IDE's User folder (globalStorage/state.vscdb holds its conversations)",
    },
    KeySpec {
        name: "crush_paths",
        ty: KeyType::PathList,
        default: "",
        help: "projects (holding .crush/crush.db) or Crush database files that 'lore import' reads",
    },
    KeySpec {
        name: "goose_dir",
        ty: KeyType::Path,
        default: "$XDG_DATA_HOME/goose or ~/.local/share/goose",
        help: "where Goose keeps sessions/sessions.db",
    },
    KeySpec {
        name: "opencode_dir",
        ty: KeyType::Path,
        default: "$XDG_DATA_HOME/opencode or ~/.local/share/opencode",
        help: "where OpenCode keeps opencode.db (a folder, or the database file)",
    },
    KeySpec {
        name: "kilo_dir",
        ty: KeyType::Path,
        default: "$KILO_DB or $XDG_DATA_HOME/kilo or ~/.local/share/kilo",
        help: "where Kilo CLI keeps kilo.db (a folder, or the database file)",
    },
    KeySpec {
        name: "aider_paths",
        ty: KeyType::PathList,
        default: "",
        help: "Aider history files, or repositories holding .aider.chat.history.md, that 'lore import' reads",
    },
    KeySpec {
        name: "sync_global_remote",
        ty: KeyType::Url,
        default: "",
        help: "the git remote (URL or path) of the global store that 'lore sync --global' backs every session up to",
    },
    KeySpec {
        name: "keychain",
        ty: KeyType::Bool,
        default: "true",
        help: "keep sync keys in the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) when one is reachable; false keeps them in 0600 files under LORE_HOME/keys (LORE_KEYCHAIN=on|off overrides)",
    },
    KeySpec {
        name: "redact",
        ty: KeyType::Bool,
        default: "true",
        help: "replace secrets (private keys, API tokens, labelled passwords, passwords in URLs; see docs/redaction.md) with [REDACTED:<kind>] in sessions that leave the machine; lore.db keeps the original",
    },
    KeySpec {
        name: "redact_patterns",
        ty: KeyType::PatternList,
        default: "",
        help: "extra regular expressions to redact as [REDACTED:custom]: one pattern, or a TOML array such as '[\"ACME-[0-9]{8}\", \"corp_[a-z0-9]{32}\"]'",
    },
    KeySpec {
        name: "redact_allow",
        ty: KeyType::PatternList,
        default: "",
        help: "regular expressions for values never to redact (a provider's published test key, a known fixture): a redaction whose whole text one of them matches is left as it was",
    },
    KeySpec {
        name: "link_auto_threshold",
        ty: KeyType::Fraction,
        default: "0.6",
        help: "the score (0 to 1) a session and a commit need for 'lore link --auto' to link them; see docs/links.md",
    },
];

/// Errors reading or changing the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown config key '{0}'; run 'lore config list' to see the keys")]
    UnknownKey(String),
    #[error("invalid value '{value}' for {key}: expected {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: String,
    },
    #[error("{path} is not valid TOML ({message}); fix or remove it")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {key} must be {expected}; fix it with 'lore config set {key} VALUE'")]
    WrongType {
        path: PathBuf,
        key: String,
        expected: &'static str,
    },
    #[error(
        "{key}: '{pattern}' is not a valid regular expression ({message}){}",
        .path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
    )]
    BadPattern {
        /// The config file, when the pattern was read from it.
        path: Option<PathBuf>,
        key: String,
        pattern: String,
        message: String,
    },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    path: PathBuf,
    doc: DocumentMut,
}

/// A setting's value in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Text(String),
    List(Vec<String>),
    Bool(bool),
    /// Regular expressions; shown as a TOML array, since they may contain commas.
    Patterns(Vec<String>),
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::Text(s) => f.write_str(s),
            Setting::List(v) => f.write_str(&v.join(",")),
            Setting::Bool(b) => write!(f, "{b}"),
            Setting::Patterns(v) => {
                let arr: Array = v.iter().map(String::as_str).collect();
                write!(f, "{arr}")
            }
        }
    }
}

pub fn spec(key: &str) -> Result<&'static KeySpec, ConfigError> {
    KEYS.iter()
        .find(|k| k.name == key)
        .ok_or_else(|| ConfigError::UnknownKey(key.to_owned()))
}

impl Config {
    /// Reads `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let doc: DocumentMut =
            text.parse()
                .map_err(|e: toml_edit::TomlError| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().trim().to_owned(),
                })?;
        let config = Config {
            path: path.to_owned(),
            doc,
        };
        for (key, _) in config.doc.iter() {
            spec(key).map_err(|_| ConfigError::Parse {
                path: path.to_owned(),
                message: format!("unknown key '{key}'"),
            })?;
        }
        for k in KEYS {
            config.get_set(k.name)?;
        }
        Ok(config)
    }

    /// The value set in the file, if any.
    pub fn get_set(&self, key: &str) -> Result<Option<Setting>, ConfigError> {
        let spec = spec(key)?;
        let Some(item) = self.doc.get(key) else {
            return Ok(None);
        };
        let wrong = |expected| ConfigError::WrongType {
            path: self.path.clone(),
            key: key.to_owned(),
            expected,
        };
        // An array of strings, or `None`.
        let strings = || -> Option<Vec<String>> {
            item.as_array()?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        match spec.ty {
            KeyType::Choice(options) => {
                let s = item.as_str().ok_or_else(|| wrong("a string"))?;
                if !options.contains(&s) {
                    return Err(wrong("one of the listed choices"));
                }
                Ok(Some(Setting::Text(s.to_owned())))
            }
            KeyType::Path | KeyType::Url => Ok(Some(Setting::Text(
                item.as_str().ok_or_else(|| wrong("a string"))?.to_owned(),
            ))),
            KeyType::PathList => Ok(Some(Setting::List(
                strings().ok_or_else(|| wrong("an array of strings"))?,
            ))),
            KeyType::Bool => Ok(Some(Setting::Bool(
                item.as_bool().ok_or_else(|| wrong("true or false"))?,
            ))),
            KeyType::PatternList => {
                let v = strings().ok_or_else(|| wrong("an array of strings"))?;
                check_patterns(key, &v, Some(&self.path))?;
                Ok(Some(Setting::Patterns(v)))
            }
            KeyType::Fraction => {
                let x = item
                    .as_float()
                    .or_else(|| item.as_integer().map(|i| i as f64))
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| wrong("a number from 0 to 1"))?;
                Ok(Some(Setting::Text(x.to_string())))
            }
        }
    }

    /// A number setting (a [`KeyType::Fraction`]), or `None` when unset.
    pub fn fraction(&self, key: &str) -> Option<f64> {
        self.text(key).and_then(|s| s.parse().ok())
    }

    /// A text setting, or `None` when unset.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.get_set(key) {
            Ok(Some(Setting::Text(s))) => Some(s),
            _ => None,
        }
    }

    /// A list setting, empty when unset.
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.get_set(key) {
            Ok(Some(Setting::List(v) | Setting::Patterns(v))) => v,
            _ => Vec::new(),
        }
    }

    /// A true/false setting, or `None` when unset.
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.get_set(key) {
            Ok(Some(Setting::Bool(b))) => Some(b),
            _ => None,
        }
    }

    /// `redact`: whether sessions that leave the machine are redacted (default true).
    pub fn redact(&self) -> bool {
        self.flag("redact").unwrap_or(true)
    }

    /// `redact_patterns`: the user's extra redaction patterns (checked when loaded).
    pub fn redact_patterns(&self) -> Vec<String> {
        self.list("redact_patterns")
    }

    /// `redact_allow`: patterns of values never to redact (checked when loaded).
    pub fn redact_allow(&self) -> Vec<String> {
        self.list("redact_allow")
    }

    /// Validates and sets `key` in memory; call [`Config::save`] to write it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let spec = spec(key)?;
        let item = match spec.ty {
            KeyType::Choice(options) => {
                if !options.contains(&value) {
                    return Err(ConfigError::BadValue {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        expected: options.join(", "),
                    });
                }
                Item::Value(Value::from(value))
            }
            KeyType::Path | KeyType::Url => {
                if value.trim().is_empty() {
                    let what = if matches!(spec.ty, KeyType::Url) {
                        "a URL or path"
                    } else {
                        "a path"
                    };
                    return Err(ConfigError::BadValue {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        expected: format!(
                            "{what} (use 'lore config unset' to go back to the default)"
                        ),
                    });
                }
                Item::Value(Value::from(value))
            }
            KeyType::PathList => {
                let mut arr = Array::new();
                for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    arr.push(p);
                }
                Item::Value(Value::Array(arr))
            }
            KeyType::Bool => match value {
                "true" => Item::Value(Value::from(true)),
                "false" => Item::Value(Value::from(false)),
                _ => {
                    return Err(ConfigError::BadValue {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        expected: "true or false".into(),
                    });
                }
            },
            KeyType::PatternList => {
                let patterns = parse_patterns(value);
                check_patterns(key, &patterns, None)?;
                Item::Value(Value::Array(patterns.iter().map(String::as_str).collect()))
            }
            KeyType::Fraction => match value.trim().parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => Item::Value(Value::from(x)),
                _ => {
                    return Err(ConfigError::BadValue {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        expected: "a number from 0 to 1, such as 0.6".into(),
                    });
                }
            },
        };
        self.doc.insert(key, item);
        Ok(())
    }

    /// Removes `key`, so its default applies again.
    pub fn unset(&mut self, key: &str) -> Result<bool, ConfigError> {
        spec(key)?;
        Ok(self.doc.remove(key).is_some())
    }

    /// Writes the file atomically (temporary file, then rename).
    pub fn save(&self) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".config.toml.{}.tmp", std::process::id()));
        std::fs::write(&tmp, self.doc.to_string()).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

/// A pattern list as given on the command line: nothing (no patterns), a TOML array of strings,
/// or else the whole value as one pattern (which may itself contain commas or start with `[`).
fn parse_patterns(value: &str) -> Vec<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if trimmed.starts_with('[')
        && let Ok(Value::Array(arr)) = trimmed.parse::<Value>()
        && let Some(v) = arr
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
    {
        return v;
    }
    vec![value.to_owned()]
}

/// Every pattern in `patterns` compiles the way the redactor will compile it.
fn check_patterns(key: &str, patterns: &[String], path: Option<&Path>) -> Result<(), ConfigError> {
    for p in patterns {
        crate::redact::check_pattern(p).map_err(|message| ConfigError::BadPattern {
            path: path.map(Path::to_owned),
            key: key.to_owned(),
            pattern: p.clone(),
            message,
        })?;
    }
    Ok(())
}

/// Expands a leading `~/` with `home`.
pub fn expand_tilde(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_comments_and_rejects_unknown_keys_and_bad_values() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(&p, "# my settings\ncolor = \"never\"\n").unwrap();
        let mut c = Config::load(&p).unwrap();
        assert_eq!(c.text("color").as_deref(), Some("never"));
        assert!(matches!(
            c.set("colour", "x"),
            Err(ConfigError::UnknownKey(_))
        ));
        assert!(matches!(
            c.set("color", "sometimes"),
            Err(ConfigError::BadValue { .. })
        ));
        c.set("aider_paths", "~/a, /b").unwrap();
        c.save().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# my settings\n"), "{text}");
        let c = Config::load(&p).unwrap();
        assert_eq!(c.list("aider_paths"), vec!["~/a", "/b"]);
    }

    #[test]
    fn a_broken_or_unknown_file_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(&p, "color = \n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Parse { .. })));
        std::fs::write(&p, "colr = \"auto\"\n").unwrap();
        assert!(matches!(Config::load(&p), Err(ConfigError::Parse { .. })));
        std::fs::write(&p, "color = 3\n").unwrap();
        assert!(matches!(
            Config::load(&p),
            Err(ConfigError::WrongType { .. })
        ));
    }

    #[test]
    fn redact_is_a_bool() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        let mut c = Config::load(&p).unwrap();
        assert_eq!(c.flag("redact"), None);
        assert_eq!(spec("redact").unwrap().default, "true");
        let e = c.set("redact", "no").unwrap_err();
        assert!(matches!(e, ConfigError::BadValue { .. }));
        assert!(e.to_string().contains("redact"), "{e}");
        assert!(e.to_string().contains("true or false"), "{e}");
        c.set("redact", "false").unwrap();
        c.save().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "redact = false\n");
        let c = Config::load(&p).unwrap();
        assert_eq!(c.flag("redact"), Some(false));
        assert_eq!(c.get_set("redact").unwrap().unwrap().to_string(), "false");
        std::fs::write(&p, "redact = \"yes\"\n").unwrap();
        let e = Config::load(&p).unwrap_err();
        assert!(
            e.to_string().contains("redact must be true or false"),
            "{e}"
        );
    }

    #[test]
    fn redact_patterns_are_regexes_checked_when_set_and_loaded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        let mut c = Config::load(&p).unwrap();
        // One pattern, commas and all.
        c.set("redact_patterns", "ACME-[0-9]{8,12}").unwrap();
        assert_eq!(c.list("redact_patterns"), vec!["ACME-[0-9]{8,12}"]);
        // A pattern that starts with '[' but is no TOML array is still one pattern.
        c.set("redact_patterns", "[A-Z]{4}-secret").unwrap();
        assert_eq!(c.list("redact_patterns"), vec!["[A-Z]{4}-secret"]);
        // Several, as a TOML array; shown the same way.
        c.set("redact_patterns", r#"["a{1,2}", 'corp_\w+']"#)
            .unwrap();
        assert_eq!(c.list("redact_patterns"), vec!["a{1,2}", r"corp_\w+"]);
        assert_eq!(
            c.get_set("redact_patterns").unwrap().unwrap().to_string(),
            r#"["a{1,2}", 'corp_\w+']"#
        );
        c.save().unwrap();
        let loaded = Config::load(&p).unwrap();
        assert_eq!(loaded.list("redact_patterns"), vec!["a{1,2}", r"corp_\w+"]);
        // Clearing.
        c.set("redact_patterns", "").unwrap();
        assert!(c.list("redact_patterns").is_empty());

        let e = c.set("redact_patterns", r#"["ok", "tok(en"]"#).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ConfigError::BadPattern { .. }));
        assert!(
            msg.starts_with(
                "redact_patterns: 'tok(en' is not a valid regular expression (unclosed group)"
            ),
            "{msg}"
        );

        std::fs::write(&p, "redact_patterns = [\"x[\"]\n").unwrap();
        let msg = Config::load(&p).unwrap_err().to_string();
        assert!(
            msg.contains("redact_patterns: 'x[' is not a valid regular expression"),
            "{msg}"
        );
        assert!(msg.contains("config.toml"), "{msg}");
        std::fs::write(&p, "redact_patterns = \"x\"\n").unwrap();
        assert!(matches!(
            Config::load(&p),
            Err(ConfigError::WrongType { .. })
        ));
    }
}
