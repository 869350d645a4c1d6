//! The lines git sends a remote helper (gitremote-helpers(7)), parsed.
//!
//! Pure parsing, no I/O, so it can be fuzzed: `fuzz/fuzz_targets/protocol.rs`.

/// One command from git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `capabilities`
    Capabilities,
    /// `option <name> <value>`
    Option { name: String, value: String },
    /// `list` or `list for-push`
    List { for_push: bool },
    /// `fetch <oid> <name>`
    Fetch { oid: String, name: String },
    /// `push [+]<src>:<dst>`; an empty `src` deletes `dst`.
    Push {
        force: bool,
        src: String,
        dst: String,
    },
    /// An empty line: the end of a batch, or of the session.
    Blank,
}

/// A line git should not have sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected line from git: {0:?}")]
pub struct ProtocolError(pub String);

/// Parses one line (without its newline).
pub fn parse(line: &str) -> Result<Command, ProtocolError> {
    let bad = || ProtocolError(line.chars().take(200).collect());
    if line.is_empty() {
        return Ok(Command::Blank);
    }
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    match word {
        "capabilities" if rest.is_empty() => Ok(Command::Capabilities),
        "list" => match rest {
            "" => Ok(Command::List { for_push: false }),
            "for-push" => Ok(Command::List { for_push: true }),
            _ => Err(bad()),
        },
        "option" => {
            let (name, value) = rest.split_once(' ').ok_or_else(bad)?;
            if name.is_empty() {
                return Err(bad());
            }
            Ok(Command::Option {
                name: name.to_owned(),
                value: unquote(value).ok_or_else(bad)?,
            })
        }
        "fetch" => {
            let (oid, name) = rest.split_once(' ').ok_or_else(bad)?;
            if !is_hex_oid(oid) || name.is_empty() {
                return Err(bad());
            }
            Ok(Command::Fetch {
                oid: oid.to_owned(),
                name: name.to_owned(),
            })
        }
        "push" => {
            let (force, spec) = match rest.strip_prefix('+') {
                Some(s) => (true, s),
                None => (false, rest),
            };
            let (src, dst) = spec.rsplit_once(':').ok_or_else(bad)?;
            if dst.is_empty() {
                return Err(bad());
            }
            Ok(Command::Push {
                force,
                src: src.to_owned(),
                dst: dst.to_owned(),
            })
        }
        _ => Err(bad()),
    }
}

/// Whether `s` is a full SHA-1 object id in hex.
pub fn is_hex_oid(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Undoes git's C-style quoting of an option value (`quote_c_style`): a value that starts with
/// a double quote is quoted; anything else is taken as it is.
pub fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = bytes.next()?;
        out.push(match e {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'"' | b'\\' => e,
            b'0'..=b'3' => {
                let d1 = bytes.next()?;
                let d2 = bytes.next()?;
                if !(b'0'..=b'7').contains(&d1) || !(b'0'..=b'7').contains(&d2) {
                    return None;
                }
                (e - b'0') * 64 + (d1 - b'0') * 8 + (d2 - b'0')
            }
            _ => return None,
        });
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("capabilities"), Ok(Command::Capabilities));
        assert_eq!(parse("list"), Ok(Command::List { for_push: false }));
        assert_eq!(parse("list for-push"), Ok(Command::List { for_push: true }));
        assert_eq!(
            parse("option verbosity 1"),
            Ok(Command::Option {
                name: "verbosity".into(),
                value: "1".into()
            })
        );
        let oid = "a".repeat(40);
        assert_eq!(
            parse(&format!("fetch {oid} refs/lore/sessions")),
            Ok(Command::Fetch {
                oid: oid.clone(),
                name: "refs/lore/sessions".into()
            })
        );
        assert_eq!(
            parse("push +refs/lore/sessions:refs/lore/sessions"),
            Ok(Command::Push {
                force: true,
                src: "refs/lore/sessions".into(),
                dst: "refs/lore/sessions".into()
            })
        );
        assert_eq!(
            parse("push :refs/lore/sessions"),
            Ok(Command::Push {
                force: false,
                src: String::new(),
                dst: "refs/lore/sessions".into()
            })
        );
        assert_eq!(parse(""), Ok(Command::Blank));
    }

    #[test]
    fn refuses_what_git_never_sends() {
        for line in [
            "list everything",
            "fetch abc refs/x",
            "push refs/x",
            "push a:",
            "option novalue",
            "connect git-upload-pack",
            "capabilities now",
        ] {
            assert!(parse(line).is_err(), "{line}");
        }
    }

    #[test]
    fn unquotes_c_style() {
        assert_eq!(unquote("plain").as_deref(), Some("plain"));
        assert_eq!(unquote(r#""a\tb\"c\\\101""#).as_deref(), Some("a\tb\"c\\A"));
        assert_eq!(unquote(r#""unterminated"#), None);
        assert_eq!(unquote(r#""\9""#), None);
    }
}
