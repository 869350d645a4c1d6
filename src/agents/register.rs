//! Registering lore with a coding agent beyond its hooks: lore's MCP server (`lore mcp serve`)
//! in the agent's MCP configuration, and lore's skill (a `SKILL.md` telling the agent when to
//! ask lore) in the agent's skills folder.
//!
//! Same rules as every settings edit ([`super::settings`]): surgical, refuses a file that does
//! not parse, backs up once, recorded for `lore init --undo`. Never replaces another server
//! called `lore` or a skill file lore did not write: those are left alone and reported. The
//! skill's text is the CLI's (it names commands); this module only places it. Spec:
//! docs/capture.md, "What `lore init` edits"; docs/mcp.md.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::json_edit::{self, Node};
use super::settings::{self, Installed, SettingsError, StateDir};
use super::{Agent, HookCommand};

/// The name lore's server is registered under in every agent.
pub const SERVER_NAME: &str = "lore";

/// The arguments that start lore's MCP server.
const SERVE_ARGS: [&str; 2] = ["mcp", "serve"];

/// The file holding `agent`'s user-wide MCP servers. `root` is the agent's folder;
/// `claude_config_dir`: whether `CLAUDE_CONFIG_DIR` chose it. Claude Code keeps its servers in
/// `~/.claude.json` (beside `~/.claude`, or inside `$CLAUDE_CONFIG_DIR`); Codex in its
/// `config.toml`; Gemini CLI and Qwen Code in their `settings.json`.
pub fn mcp_file(
    agent: Agent,
    root: &Path,
    user_home: Option<&Path>,
    claude_config_dir: bool,
) -> PathBuf {
    match agent {
        Agent::Claude if claude_config_dir => root.join(".claude.json"),
        Agent::Claude => user_home
            .or(root.parent())
            .unwrap_or(root)
            .join(".claude.json"),
        Agent::Codex | Agent::Gemini | Agent::Qwen => agent.settings_file(root),
        // Not registered yet ([`Agent::has_access_registration`]): where they keep servers.
        Agent::Copilot => root.join("mcp-config.json"),
        Agent::Cursor => root.join("mcp.json"),
        Agent::Droid => root.join("mcp.json"),
        // Cline keeps its servers in the extension's storage (`settings/cline_mcp_settings.json`).
        Agent::Cline => root.join("MCP"),
    }
}

/// Where lore's skill goes: `ROOT/skills/lore/SKILL.md` (Claude Code, Codex, Gemini CLI and
/// Qwen Code all read user skills from `skills/` in their folder).
pub fn skill_file(root: &Path) -> PathBuf {
    root.join("skills").join("lore").join("SKILL.md")
}

/// Places lore's skill (`text`, the CLI's) for the agent whose folder is `root`.
pub fn install_skill(
    state: &StateDir,
    root: &Path,
    text: &str,
) -> Result<Installed, SettingsError> {
    settings::create_file(state, &skill_file(root), text.as_bytes())
}

/// lore's server entry as `agent` spells it.
fn json_entry(agent: Agent, command: &HookCommand) -> Value {
    let mut e = serde_json::Map::new();
    if agent == Agent::Claude {
        e.insert("type".into(), json!("stdio"));
    }
    e.insert("command".into(), json!(command.exe.to_string_lossy()));
    e.insert("args".into(), json!(SERVE_ARGS));
    if let Some(h) = &command.lore_home {
        e.insert("env".into(), json!({ "LORE_HOME": h.to_string_lossy() }));
    }
    Value::Object(e)
}

/// Whether a server entry runs lore's MCP server: a program named `lore…` given `mcp serve`.
fn is_lores(command: Option<&str>, args: &[String]) -> bool {
    let named_lore = command
        .and_then(|c| Path::new(c).file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("lore"));
    named_lore && args.len() >= 2 && args[args.len() - 2..] == SERVE_ARGS
}

fn json_is_lores(entry: &Value) -> bool {
    let args: Vec<String> = entry["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    is_lores(entry["command"].as_str(), &args)
}

/// Registers lore's MCP server with `agent` in the file at `path` (see [`mcp_file`]).
pub fn install_mcp(
    state: &StateDir,
    agent: Agent,
    path: &Path,
    command: &HookCommand,
) -> Result<Installed, SettingsError> {
    let target = settings::resolve(path);
    let mut occupied = None;
    let changed = match agent {
        Agent::Copilot | Agent::Cursor | Agent::Droid | Agent::Cline => {
            return Ok(Installed::Occupied {
                path: target,
                existing: format!(
                    "lore registers no MCP server with {} yet",
                    agent.display_name()
                ),
            });
        }
        Agent::Claude | Agent::Gemini | Agent::Qwen => settings::edit_file(
            state,
            agent,
            path,
            |text| {
                let text = match text {
                    Some(t) if !t.trim().is_empty() => t.to_owned(),
                    Some(t) => format!("{{}}{}", if t.ends_with('\n') { "\n" } else { "" }),
                    None => "{}\n".to_owned(),
                };
                let root = settings::parse_json(&target, &text)?;
                let entry = json_entry(agent, command);
                let Some(servers) = root.get("mcpServers") else {
                    return Ok(Some(json_edit::insert_member(
                        &text,
                        &root,
                        "mcpServers",
                        &json!({ SERVER_NAME: entry }),
                    )));
                };
                if !matches!(servers.value, Node::Object { .. }) {
                    return Err(settings::shape(&target, "mcpServers", "an object"));
                }
                match servers.value.get(SERVER_NAME) {
                    Some(m) => {
                        let v = m.value.value(&text);
                        if !json_is_lores(&v) {
                            occupied = Some(v["command"].as_str().unwrap_or("?").to_owned());
                        }
                        Ok(None)
                    }
                    None => Ok(Some(json_edit::insert_member(
                        &text,
                        &servers.value,
                        SERVER_NAME,
                        &entry,
                    ))),
                }
            },
            |_| {},
        )?,
        Agent::Codex => settings::edit_file(
            state,
            agent,
            path,
            |text| {
                let mut doc = settings::parse_toml(&target, text.unwrap_or(""))?;
                if let Some(servers) = doc.get("mcp_servers") {
                    let Some(t) = servers.as_table_like() else {
                        return Err(SettingsError::Toml {
                            path: target.clone(),
                            detail: "`mcp_servers` is not a table".into(),
                        });
                    };
                    if let Some(l) = t.get(SERVER_NAME) {
                        if !toml_is_lores(l) {
                            let c = l.get("command").and_then(|c| c.as_str()).unwrap_or("?");
                            occupied = Some(c.to_owned());
                        }
                        return Ok(None);
                    }
                }
                let mut lore = toml_edit::Table::new();
                lore.insert(
                    "command",
                    toml_edit::value(command.exe.to_string_lossy().into_owned()),
                );
                let mut args = toml_edit::Array::new();
                for a in SERVE_ARGS {
                    args.push(a);
                }
                lore.insert("args", toml_edit::value(args));
                if let Some(h) = &command.lore_home {
                    let mut env = toml_edit::InlineTable::new();
                    env.insert("LORE_HOME", h.to_string_lossy().into_owned().into());
                    lore.insert("env", toml_edit::value(env));
                }
                match doc.get_mut("mcp_servers") {
                    None => {
                        let mut servers = toml_edit::Table::new();
                        servers.set_implicit(true);
                        servers.insert(SERVER_NAME, toml_edit::Item::Table(lore));
                        doc.insert("mcp_servers", toml_edit::Item::Table(servers));
                    }
                    Some(toml_edit::Item::Table(t)) => {
                        t.insert(SERVER_NAME, toml_edit::Item::Table(lore));
                    }
                    Some(item) => {
                        let Some(t) = item.as_inline_table_mut() else {
                            return Err(SettingsError::Toml {
                                path: target.clone(),
                                detail: "`mcp_servers` is not a table".into(),
                            });
                        };
                        t.insert(SERVER_NAME, lore.into_inline_table().into());
                    }
                }
                let mut out = doc.to_string();
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                Ok(Some(out))
            },
            |_| {},
        )?,
    };
    Ok(match (changed, occupied) {
        (true, _) => Installed::Added { path: target },
        (false, Some(existing)) => Installed::Occupied {
            path: target,
            existing,
        },
        (false, None) => Installed::AlreadyThere { path: target },
    })
}

fn toml_is_lores(item: &toml_edit::Item) -> bool {
    let args: Vec<String> = item
        .get("args")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    is_lores(item.get("command").and_then(|c| c.as_str()), &args)
}

/// Whether lore's server is registered in `agent`'s MCP configuration at `path`.
pub fn mcp_registered(agent: Agent, path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match agent {
        Agent::Copilot | Agent::Cursor | Agent::Droid | Agent::Cline => false,
        Agent::Claude | Agent::Gemini | Agent::Qwen => json_edit::parse(&text)
            .ok()
            .and_then(|root| root.get("mcpServers").map(|s| s.value.value(&text)))
            .is_some_and(|servers| json_is_lores(&servers[SERVER_NAME])),
        Agent::Codex => text
            .parse::<toml_edit::DocumentMut>()
            .ok()
            .and_then(|d| {
                d.get("mcp_servers")
                    .and_then(|s| s.get(SERVER_NAME))
                    .map(toml_is_lores)
            })
            .unwrap_or(false),
    }
}

/// Takes lore's server out of a JSON MCP configuration (and `mcpServers` when it held nothing
/// else); `None` when lore's was not there.
pub fn remove_json_mcp(path: &Path, text: &str) -> Result<Option<String>, SettingsError> {
    let root = settings::parse_json(path, text)?;
    let Some(servers) = root.get("mcpServers") else {
        return Ok(None);
    };
    let Node::Object { members, .. } = &servers.value else {
        return Ok(None);
    };
    let Some(m) = servers.value.get(SERVER_NAME) else {
        return Ok(None);
    };
    if !json_is_lores(&m.value.value(text)) {
        return Ok(None);
    }
    Ok(Some(if members.len() == 1 {
        json_edit::remove_member(text, &root, "mcpServers")
    } else {
        json_edit::remove_member(text, &servers.value, SERVER_NAME)
    }))
}

/// Takes lore's server out of Codex's configuration (and `[mcp_servers]` when it held nothing
/// else); whether it was there.
pub fn remove_toml_mcp(doc: &mut toml_edit::DocumentMut) -> bool {
    let Some(servers) = doc.get_mut("mcp_servers") else {
        return false;
    };
    let Some(t) = servers.as_table_like_mut() else {
        return false;
    };
    if !t.get(SERVER_NAME).is_some_and(toml_is_lores) {
        return false;
    }
    t.remove(SERVER_NAME);
    if t.is_empty() {
        doc.remove("mcp_servers");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lores_server_is_told_apart_from_another_called_lore() {
        let ours = vec!["mcp".to_owned(), "serve".to_owned()];
        assert!(is_lores(Some("/usr/local/bin/lore"), &ours));
        assert!(!is_lores(Some("npx"), &ours));
        assert!(!is_lores(Some("/usr/bin/lore"), &["serve".to_owned()]));
        assert!(!is_lores(None, &ours));
    }

    #[test]
    fn json_server_is_added_beside_others_and_taken_out_alone() {
        let p = Path::new("settings.json");
        let text = "{\n  \"theme\": \"x\",\n  \"mcpServers\": {\n    \"other\": {\"command\": \"npx\"}\n  }\n}\n";
        let root = settings::parse_json(p, text).unwrap();
        let servers = root.get("mcpServers").unwrap();
        let cmd = HookCommand {
            exe: PathBuf::from("/bin/lore"),
            lore_home: None,
        };
        let added = json_edit::insert_member(
            text,
            &servers.value,
            SERVER_NAME,
            &json_entry(Agent::Gemini, &cmd),
        );
        let v: Value = serde_json::from_str(&added).unwrap();
        assert_eq!(v["mcpServers"]["other"]["command"], "npx");
        assert_eq!(v["mcpServers"]["lore"]["args"], json!(["mcp", "serve"]));
        assert_eq!(remove_json_mcp(p, &added).unwrap().as_deref(), Some(text));
        assert!(remove_json_mcp(p, text).unwrap().is_none());
    }

    #[test]
    fn toml_server_is_removed_with_its_table_when_alone() {
        let mut doc: toml_edit::DocumentMut =
            "model = \"m\"\n\n[mcp_servers.lore]\ncommand = \"/bin/lore\"\nargs = [\"mcp\", \"serve\"]\n"
                .parse()
                .unwrap();
        assert!(remove_toml_mcp(&mut doc));
        assert_eq!(doc.to_string(), "model = \"m\"\n");
        assert!(!remove_toml_mcp(&mut doc));
    }
}
