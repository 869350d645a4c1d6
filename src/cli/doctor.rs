//! `lore doctor [--rebuild-cache] [--json]`: checks what syncing needs, one line each; exit 1
//! when something is broken.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use lore::gitstore::LocalStore;
use lore::hooks::{Hook, Hooks, State, hooks_dir};

use super::Ctx;
use super::output::print_json;

#[derive(Args)]
pub struct DoctorArgs {
    /// Delete the helper's cache ($GIT_DIR/lore) even when it looks sound; the next fetch
    /// rebuilds it from the remote.
    #[arg(long)]
    rebuild_cache: bool,
    #[command(flatten)]
    json: crate::cli::output::JsonArg,
}

/// How one check came out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// Worth knowing, not broken.
    Note,
    Fail,
}

struct Check {
    name: &'static str,
    outcome: Outcome,
    detail: String,
}

/// The oldest git with everything the helper runs (`fetch --no-write-fetch-head`,
/// `--no-auto-maintenance`, `rev-parse --path-format`).
const MIN_GIT: (u32, u32) = (2, 31);

pub fn run(ctx: &Ctx, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let git = lore::git::program();
    let mut checks = vec![check_git(&git), check_helper()];
    checks.push(check_db(ctx));
    checks.push(check_home(ctx));
    checks.push(check_keychain(ctx));
    checks.push(check_agents(ctx));
    checks.push(check_capture(ctx));
    let cwd = std::env::current_dir()?;
    match LocalStore::discover(&cwd) {
        Ok(local) => {
            checks.push(check_key(ctx, &local));
            checks.push(check_hooks(&git, &cwd));
            checks.push(check_cache(&local, args.rebuild_cache));
        }
        Err(_) => checks.push(Check {
            name: "repository",
            outcome: Outcome::Note,
            detail: "not inside a git repository: store, key, hooks and cache not checked".into(),
        }),
    }
    let failed = checks.iter().any(|c| c.outcome == Outcome::Fail);
    if args.json.json {
        let list: Vec<serde_json::Value> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "status": match c.outcome { Outcome::Ok => "ok", Outcome::Note => "note", Outcome::Fail => "fail" },
                    "detail": c.detail,
                })
            })
            .collect();
        print_json(&serde_json::json!({ "ok": !failed, "checks": list }))?;
    } else {
        let mut out = anstream::stdout().lock();
        for c in &checks {
            let mark = match c.outcome {
                Outcome::Ok => "ok  ",
                Outcome::Note => "note",
                Outcome::Fail => "FAIL",
            };
            writeln!(out, "{mark}  {:<11} {}", c.name, c.detail)?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_git(git: &std::ffi::OsStr) -> Check {
    let out = lore::git::command(git).arg("--version").output();
    let text = out
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(text) = text else {
        return Check {
            name: "git",
            outcome: Outcome::Fail,
            detail: "git is not on PATH: install git".into(),
        };
    };
    let version = text.split_whitespace().nth(2).unwrap_or("");
    let mut parts = version.split('.').filter_map(|p| p.parse::<u32>().ok());
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found >= MIN_GIT {
        Check {
            name: "git",
            outcome: Outcome::Ok,
            detail: text,
        }
    } else {
        Check {
            name: "git",
            outcome: Outcome::Fail,
            detail: format!(
                "{text}: lore needs git {}.{} or newer",
                MIN_GIT.0, MIN_GIT.1
            ),
        }
    }
}

fn check_helper() -> Check {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("git-remote-lore"))
            .find(|p| is_executable(p))
    });
    match found {
        Some(p) => Check {
            name: "helper",
            outcome: Outcome::Ok,
            detail: format!("git-remote-lore at {}", p.display()),
        },
        None => Check {
            name: "helper",
            outcome: Outcome::Fail,
            detail: "git-remote-lore is not on PATH, so git cannot use lore:: remotes: install lore (cargo install) or add its folder to PATH".into(),
        },
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn check_db(ctx: &Ctx) -> Check {
    let path = ctx.home.db_path();
    if !path.exists() {
        return Check {
            name: "lore.db",
            outcome: Outcome::Note,
            detail: format!("{} does not exist yet (run lore import)", path.display()),
        };
    }
    // Read-only, and in a read-only home too.
    let conn = match lore::db::connect_read_only(&path) {
        Ok(c) => c,
        Err(e) => return fail(format!("{}: {e}", path.display())),
    };
    // Whose database it is, before anything else (docs/database.md, "Whose database").
    use lore::db::identity::{Identity, identify};
    let whose = match identify(&conn) {
        Ok(Identity::Foreign(kind)) => {
            return fail(format!(
                "{} is not lore's database: it is {}; {}",
                path.display(),
                kind.describe(),
                kind.advice()
            ));
        }
        Ok(Identity::LoreUnmarked) => {
            "lore's own (made by an older lore: marked on the next write)"
        }
        Ok(_) => "lore's own",
        Err(e) => return fail(format!("{}: {e}", path.display())),
    };
    match conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)) {
        Ok(s) if s == "ok" => Check {
            name: "lore.db",
            outcome: Outcome::Ok,
            detail: format!("{}: {whose}, integrity ok", path.display()),
        },
        Ok(s) => fail(format!("{}: {s}", path.display())),
        Err(e) => fail(format!("{}: {e}", path.display())),
    }
}

/// The coding agents found in the default locations, with how many transcripts each has.
fn check_agents(ctx: &Ctx) -> Check {
    let found = ctx.config().ok().map(|config| {
        let env = |k: &str| std::env::var(k).ok();
        let loc = lore::import::default_locations(&config, &env, ctx.user_home.as_deref());
        lore::agents::detect(&loc)
    });
    let detail = match found {
        None => "cannot tell (config.toml does not load)".to_owned(),
        Some(f) if f.is_empty() => "none found in the default locations".to_owned(),
        Some(f) => f
            .iter()
            .map(|d| {
                let n = d.transcripts.len();
                // Whether lore's hook is registered, for the agents that have hooks.
                let hook = match d.agent {
                    Some(a) => {
                        let file = lore::agents::settings::resolve(&a.settings_file(&d.root));
                        if lore::agents::settings::hook_present(a, &file) {
                            ", lore's hook"
                        } else {
                            ", no hook: run 'lore init'"
                        }
                    }
                    None => "",
                };
                format!(
                    "{} ({n} transcript{}{hook})",
                    d.tool,
                    if n == 1 { "" } else { "s" }
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    Check {
        name: "agents",
        outcome: Outcome::Note,
        detail,
    }
}

/// Transcripts on disk not in lore, and those a tool's retention deletes soon.
fn check_capture(ctx: &Ctx) -> Check {
    let store = ctx.home.open_db_readable().ok().flatten();
    let Some(g) = super::status::gaps(ctx, store.as_ref()) else {
        return Check {
            name: "capture",
            outcome: Outcome::Note,
            detail: "cannot tell (config.toml does not load)".into(),
        };
    };
    let lines = super::status::gap_lines(&g);
    if lines.is_empty() {
        Check {
            name: "capture",
            outcome: Outcome::Ok,
            detail: "every transcript in the default locations is in lore".into(),
        }
    } else {
        Check {
            name: "capture",
            outcome: Outcome::Note,
            detail: lines.join("; "),
        }
    }
}

fn fail(detail: String) -> Check {
    Check {
        name: "lore.db",
        outcome: Outcome::Fail,
        detail,
    }
}

/// LORE_HOME and lore.db private to the user.
fn check_home(ctx: &Ctx) -> Check {
    let (private, detail) = super::private_home::status(&ctx.home);
    let outcome = if private { Outcome::Ok } else { Outcome::Fail };
    Check {
        name: "home",
        outcome,
        detail,
    }
}

fn check_key(ctx: &Ctx, local: &LocalStore) -> Check {
    let header = match local.header() {
        Ok(Some(h)) => h,
        Ok(None) => {
            return Check {
                name: "key",
                outcome: Outcome::Note,
                detail:
                    "this repository has no lore store here (lore sync setup makes or joins one)"
                        .into(),
            };
        }
        Err(e) => {
            return Check {
                name: "key",
                outcome: Outcome::Fail,
                detail: format!("the store's header cannot be read: {e}"),
            };
        }
    };
    let keys = match key_store(ctx, "key") {
        Ok(k) => k,
        Err(failed) => return failed,
    };
    // What the remote served last (verified or not) shows a rotation before the local store
    // has it.
    let incoming = lore::sync::default_remote(local)
        .map(|r| lore::remote::incoming_ref(&lore::remote::namespace(&r)))
        .and_then(|name| {
            lore::gitstore::local::ref_target(local.repo(), &name)
                .ok()
                .flatten()
        })
        .and_then(|tip| local.header_at(tip).ok().flatten())
        .filter(|h| h.store_id() == header.store_id());
    match keys.locate(header.store_id_hex()) {
        Ok(Some((k, _)))
            if incoming
                .as_ref()
                .is_some_and(|i| i.key_id() != k.key_id() && i.verify_key(&k).is_err()) =>
        {
            Check {
                name: "key",
                outcome: Outcome::Fail,
                detail:
                    "the store's key was rotated: run 'lore sync setup' with the new passphrase"
                        .into(),
            }
        }
        Ok(Some((k, location))) if header.verify_key(&k).is_ok() => Check {
            name: "key",
            outcome: Outcome::Ok,
            detail: format!("stored for store {} in {location}", header.store_id_hex()),
        },
        Ok(Some((_, location))) => Check {
            name: "key",
            outcome: Outcome::Fail,
            detail: format!(
                "the key in {location} does not open store {} (its passphrase changed or its key was rotated): run 'lore sync setup'",
                header.store_id_hex()
            ),
        },
        Ok(None) => Check {
            name: "key",
            outcome: Outcome::Fail,
            detail: "no key for this store on this machine: run 'lore sync setup'".into(),
        },
        Err(e) => Check {
            name: "key",
            outcome: Outcome::Fail,
            detail: e.to_string(),
        },
    }
}

/// This home's key store, or the failed check `name` when LORE_KEYCHAIN or config.toml is
/// wrong.
fn key_store(ctx: &Ctx, name: &'static str) -> Result<lore::keys::KeyStore, Check> {
    ctx.key_store().map_err(|e| Check {
        name,
        outcome: Outcome::Fail,
        detail: format!("{e:#}"),
    })
}

/// Whether keys go to the OS keychain: in use, switched off, or none reachable.
fn check_keychain(ctx: &Ctx) -> Check {
    let keys = match key_store(ctx, "keychain") {
        Ok(k) => k,
        Err(failed) => return failed,
    };
    let files = ctx.home.keys_dir();
    match keys.keychain().map(|k| k.check()) {
        None => Check {
            name: "keychain",
            outcome: Outcome::Note,
            detail: format!(
                "not used (LORE_KEYCHAIN or the keychain setting): keys are kept in 0600 files in {}",
                files.display()
            ),
        },
        Some(Ok(())) => Check {
            name: "keychain",
            outcome: Outcome::Ok,
            detail: "reachable: keys are saved in the OS keychain when it accepts them".into(),
        },
        Some(Err(e)) => Check {
            name: "keychain",
            outcome: Outcome::Note,
            detail: format!("{e}; keys are kept in 0600 files in {}", files.display()),
        },
    }
}

fn check_hooks(git: &std::ffi::OsStr, cwd: &Path) -> Check {
    if let Some(warning) = super::hooks::guard_warning(git, cwd) {
        let (name, outcome) = ("hooks", Outcome::Note);
        return Check {
            name,
            outcome,
            detail: format!("warning: {warning}"),
        };
    }
    let hooks = match hooks_dir(git, cwd) {
        Ok(d) => Hooks::new(d),
        Err(e) => {
            return Check {
                name: "hooks",
                outcome: Outcome::Fail,
                detail: e.to_string(),
            };
        }
    };
    let (mut installed, mut missing) = (Vec::new(), Vec::new());
    for hook in Hook::ALL {
        match hooks.status(*hook) {
            Ok(s) if matches!(s.state, State::Installed | State::Chained) => {
                installed.push(hook.name());
            }
            Ok(_) => missing.push(hook.name()),
            Err(e) => {
                return Check {
                    name: "hooks",
                    outcome: Outcome::Fail,
                    detail: e.to_string(),
                };
            }
        }
    }
    if missing.is_empty() {
        Check {
            name: "hooks",
            outcome: Outcome::Ok,
            detail: format!("{} installed", installed.join(" and ")),
        }
    } else {
        Check {
            name: "hooks",
            outcome: Outcome::Note,
            detail: format!(
                "{} not installed (lore hooks install: pre-push syncs on every push, post-commit links sessions to commits)",
                missing.join(" and ")
            ),
        }
    }
}

/// The helper's cache: checked, and deleted when unsound or when asked (it is rebuilt from
/// the remote by the next fetch).
fn check_cache(local: &LocalStore, rebuild: bool) -> Check {
    let dir: PathBuf = local.repo().git_dir().join("lore");
    let db = dir.join("cache.db");
    if !db.exists() {
        return Check {
            name: "cache",
            outcome: Outcome::Ok,
            detail: "no helper cache yet (made by the first lore:: fetch or push)".into(),
        };
    }
    let sound =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)))
            .is_ok_and(|s| s == "ok");
    if sound && !rebuild {
        return Check {
            name: "cache",
            outcome: Outcome::Ok,
            detail: format!("{}: integrity ok", db.display()),
        };
    }
    for name in ["cache.db", "cache.db-wal", "cache.db-shm"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    Check {
        name: "cache",
        outcome: Outcome::Ok,
        detail: format!(
            "{} {}; the next lore:: fetch rebuilds it from the remote",
            db.display(),
            if sound {
                "deleted as asked"
            } else {
                "was damaged and is deleted"
            }
        ),
    }
}
