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
    /// A path (`~/` is expanded when used).
    Path,
    /// A list of paths, given on the command line separated by commas.
    PathList,
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
        name: "aider_paths",
        ty: KeyType::PathList,
        default: "",
        help: "Aider history files, or repositories holding .aider.chat.history.md, that 'lore import' reads",
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
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::Text(s) => f.write_str(s),
            Setting::List(v) => f.write_str(&v.join(",")),
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
        match spec.ty {
            KeyType::Choice(options) => {
                let s = item.as_str().ok_or_else(|| wrong("a string"))?;
                if !options.contains(&s) {
                    return Err(wrong("one of the listed choices"));
                }
                Ok(Some(Setting::Text(s.to_owned())))
            }
            KeyType::Path => Ok(Some(Setting::Text(
                item.as_str().ok_or_else(|| wrong("a string"))?.to_owned(),
            ))),
            KeyType::PathList => {
                let arr = item
                    .as_array()
                    .ok_or_else(|| wrong("an array of strings"))?;
                let v = arr
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| wrong("an array of strings"))?;
                Ok(Some(Setting::List(v)))
            }
        }
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
            Ok(Some(Setting::List(v))) => v,
            _ => Vec::new(),
        }
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
            KeyType::Path => {
                if value.trim().is_empty() {
                    return Err(ConfigError::BadValue {
                        key: key.to_owned(),
                        value: value.to_owned(),
                        expected: "a path (use 'lore config unset' to go back to the default)"
                            .into(),
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
}
