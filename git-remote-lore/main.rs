//! `git-remote-lore`: the helper git runs for `lore::` remotes (gitremote-helpers(7)).
//!
//! Git starts it as `git-remote-lore <alias> <address>` and talks over stdin/stdout; the
//! library's `lore::remote` does the work. This binary gathers the environment (GIT_DIR, the
//! key store, LORE_PASSPHRASE), owns the process's streams and exit code, and turns an error
//! into one line on stderr. Run by hand on a terminal, it explains what it is.

use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use lore::home::Home;
use lore::remote::{HelperConfig, run};
use zeroize::Zeroizing;

fn main() -> ExitCode {
    // Before anything reads a passphrase or a key: no core dump may hold one.
    if let Err(e) = lore::harden::disable_core_dumps() {
        eprintln!("git-remote-lore: warning: cannot turn core dumps off: {e}");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || std::io::stdin().is_terminal() {
        eprintln!(
            "git-remote-lore is the helper git runs for lore:: remotes; you do not run it yourself.\n\
             Use it through git, e.g. 'git push lore::origin refs/lore/sessions' or 'lore sync'."
        );
        return ExitCode::from(if args.is_empty() { 2 } else { 0 });
    }
    let home = match Home::locate(
        std::env::var_os("LORE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    ) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("git-remote-lore: {e}");
            return ExitCode::from(128);
        }
    };
    // The passphrase is read from the environment and never copied into argv or logs.
    let passphrase = std::env::var("LORE_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Zeroizing::new);
    // A config.toml lore cannot read should not stop every fetch and push: its keychain
    // setting is taken as the default, and lore itself will say what is wrong with the file.
    let setting = match lore::config::Config::load(&home.config_path()) {
        Ok(c) => c.flag("keychain"),
        Err(e) => {
            eprintln!("git-remote-lore: warning: {e}; using the keychain if one answers");
            None
        }
    };
    let env = std::env::var("LORE_KEYCHAIN").ok();
    let keychain = match lore::keys::keychain_wanted(env.as_deref(), setting) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("git-remote-lore: {e}");
            return ExitCode::from(128);
        }
    };
    let config = HelperConfig {
        alias: args[0].clone(),
        address: args.get(1).cloned(),
        git_dir: std::env::var_os("GIT_DIR").map(PathBuf::from),
        keys: home.key_store(keychain),
        passphrase,
        git_program: lore::git::program(),
        nested: std::env::var_os(lore::remote::wire::NESTED_ENV).is_some(),
        trace: std::env::var_os("LORE_TRACE").is_some_and(|v| v == "1"),
        push_url: None,
        sessions_required: std::env::var_os(lore::remote::wire::REQUIRED_ENV)
            .is_some_and(|v| v == "1"),
    };
    let stdin = BufReader::new(std::io::stdin().lock());
    let stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    match run(config, stdin, stdout, &mut stderr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("git-remote-lore: {e}");
            ExitCode::from(128)
        }
    }
}
