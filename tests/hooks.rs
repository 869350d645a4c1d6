//! `lore hooks`: the pre-push hook in real repositories, pushed to with real git: where it
//! goes, chaining the hook already there, the leak guard, and the sync it runs.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{User, World, write_transcript};

const PASS: &str = "a passphrase for the team";
const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";

/// A user with a repository `repo` (one commit on main) whose origin is the bare `remote`.
struct Setup {
    world: World,
    user: User,
    repo: PathBuf,
    remote: PathBuf,
}

fn setup() -> Setup {
    let world = World::new();
    let remote = world.bare("remote.git");
    let user = world.user("alice");
    let repo = user.first_repo(&remote);
    Setup {
        world,
        user,
        repo,
        remote,
    }
}

impl Setup {
    fn lore(&self, args: &[&str]) -> common::Run {
        self.user.lore(&self.repo, args)
    }

    fn git(&self, args: &[&str]) -> common::Run {
        self.user.git(&self.repo, args)
    }

    /// A new commit on main.
    fn commit(&self, n: u32) {
        std::fs::write(self.repo.join("README"), format!("code {n}\n")).unwrap();
        self.git(&["commit", "-qam", &format!("change {n}")])
            .assert_ok();
    }

    /// Creates the store (`lore sync setup`) and imports a session of this repository.
    fn store_with_session(&self, id: &str) {
        self.user.setup(&self.repo, PASS).assert_ok();
        self.import(id);
    }

    fn import(&self, id: &str) {
        let dir = self.user.root.join("transcripts").join(id);
        let cwd = std::fs::canonicalize(&self.repo).unwrap();
        write_transcript(&dir, id, "parser", cwd.to_str().unwrap());
        self.lore(&["import", dir.to_str().unwrap()]).assert_ok();
    }

    /// What the remote's refs/lore/sessions holds (file names), if it has one.
    fn remote_store(&self) -> Option<String> {
        self.user.rev(&self.remote, "refs/lore/sessions")?;
        Some(
            self.user
                .git(
                    &self.remote,
                    &["ls-tree", "-r", "--name-only", "refs/lore/sessions"],
                )
                .stdout,
        )
    }

    fn status_json(&self) -> serde_json::Value {
        let r = self.lore(&["hooks", "status", "--json"]);
        r.assert_ok();
        serde_json::from_str(&r.stdout).unwrap()
    }
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o111 != 0
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap()
}

/// A hook that notes its arguments and input in `log`, then exits with `code`.
fn logging_hook(log: &Path, code: i32) -> String {
    format!(
        "#!/bin/sh\necho \"args: $1 $2\" >> '{log}'\nwhile read -r a b c d; do echo \"in: $a $c\" >> '{log}'; done\nexit {code}\n",
        log = log.display()
    )
}

fn write_hook(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn install_writes_an_executable_hook_in_the_hooks_folder() {
    let s = setup();
    let hook = s.repo.join(".git/hooks/pre-push");
    assert_eq!(s.status_json()["hooks"][0]["state"], "absent");

    // From a subfolder: the hook still goes to the repository's hooks folder.
    let sub = s.repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let r = s.user.lore(&sub, &["hooks", "install"]);
    r.assert_ok();
    assert!(
        r.stdout.contains("Installed the pre-push hook"),
        "{}",
        r.stdout
    );
    assert!(is_executable(&hook));
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(
        text.starts_with("#!/bin/sh\n# installed by lore hooks"),
        "{text}"
    );
    // lore by its absolute path, as installed.
    let exe = common::bin_dir().join("lore");
    assert!(
        text.contains(&format!("lore_bin='{}'", canonical(&exe).display())),
        "{text}"
    );

    let st = s.status_json();
    assert_eq!(
        st["hooks_dir"],
        canonical(&s.repo.join(".git/hooks")).to_str().unwrap()
    );
    assert_eq!(st["hooks"][0]["name"], "pre-push");
    assert_eq!(st["hooks"][0]["state"], "installed");
    assert_eq!(st["hooks"][0]["chained"], serde_json::Value::Null);
    let r = s.lore(&["hooks", "status"]);
    r.assert_ok();
    assert!(r.stdout.contains("pre-push: installed"), "{}", r.stdout);

    // A push with nothing of lore's set up goes through as before.
    s.commit(1);
    s.git(&["push", "-q", "origin", "main"]).assert_ok();
    assert_eq!(s.user.rev(&s.remote, "main"), s.user.rev(&s.repo, "main"));

    let r = s.lore(&["hooks", "uninstall"]);
    r.assert_ok();
    assert!(
        r.stdout.contains("Removed the pre-push hook"),
        "{}",
        r.stdout
    );
    assert!(!hook.exists());
    assert_eq!(s.status_json()["hooks"][0]["state"], "absent");
}

#[test]
fn installing_twice_is_installing_once() {
    let s = setup();
    s.lore(&["hooks", "install"]).assert_ok();
    let hooks = s.repo.join(".git/hooks");
    let first = std::fs::read(hooks.join("pre-push")).unwrap();
    let r = s.lore(&["hooks", "install"]);
    r.assert_ok();
    assert!(r.stdout.contains("already installed"), "{}", r.stdout);
    assert_eq!(std::fs::read(hooks.join("pre-push")).unwrap(), first);
    // lore's hook did not chain itself.
    assert!(!hooks.join("pre-push.lore-chained").exists());
    assert_eq!(s.status_json()["hooks"][0]["state"], "installed");
    s.lore(&["hooks", "uninstall"]).assert_ok();
    assert!(!hooks.join("pre-push").exists());
}

#[test]
fn core_hooks_path_is_respected_relative_and_absolute() {
    let s = setup();
    let sub = s.repo.join("src");
    std::fs::create_dir_all(&sub).unwrap();

    // Relative: to the work tree, wherever lore runs.
    s.git(&["config", "core.hooksPath", "tools/hooks"])
        .assert_ok();
    s.user.lore(&sub, &["hooks", "install"]).assert_ok();
    let hook = s.repo.join("tools/hooks/pre-push");
    assert!(is_executable(&hook));
    assert!(!s.repo.join(".git/hooks/pre-push").exists());
    assert!(!sub.join("tools").exists());
    assert_eq!(
        s.status_json()["hooks"][0]["path"],
        canonical(&hook).to_str().unwrap()
    );
    s.lore(&["hooks", "uninstall"]).assert_ok();
    assert!(!hook.exists());

    // Absolute, outside the repository (created if missing).
    let shared = s.world.path("shared-hooks");
    s.git(&["config", "core.hooksPath", shared.to_str().unwrap()])
        .assert_ok();
    s.lore(&["hooks", "install"]).assert_ok();
    assert!(is_executable(&shared.join("pre-push")));
    assert!(!s.repo.join(".git/hooks/pre-push").exists());
    // git runs it there: the leak guard answers.
    s.git(&["update-ref", "refs/lore/sessions", "HEAD"])
        .assert_ok();
    let r = s.git(&["push", "origin", "refs/lore/sessions"]);
    r.assert_fails();
    assert!(r.stderr.contains("lore: push refused"), "{}", r.stderr);
}

#[test]
fn an_existing_hook_is_chained_and_restored_byte_for_byte() {
    let s = setup();
    let hooks = s.repo.join(".git/hooks");
    let log = s.world.path("hook.log");
    let original = logging_hook(&log, 0);
    write_hook(&hooks.join("pre-push"), &original);
    let st = s.status_json();
    assert_eq!(st["hooks"][0]["state"], "absent");
    assert_eq!(st["hooks"][0]["other_hook"], true);

    let r = s.lore(&["hooks", "install"]);
    r.assert_ok();
    assert!(
        r.stdout.contains("runs the hook that was there first"),
        "{}",
        r.stdout
    );
    let chained = hooks.join("pre-push.lore-chained");
    assert_eq!(std::fs::read_to_string(&chained).unwrap(), original);
    let st = s.status_json();
    assert_eq!(st["hooks"][0]["state"], "chained");
    assert_eq!(
        st["hooks"][0]["chained"],
        canonical(&chained).to_str().unwrap()
    );
    let r = s.lore(&["hooks", "status"]);
    assert!(r.stdout.contains("pre-push: chained"), "{}", r.stdout);

    // Installing again neither chains lore's own hook nor touches the kept one.
    s.lore(&["hooks", "install"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&chained).unwrap(), original);

    // The kept hook still runs, with git's arguments and input.
    s.commit(1);
    s.git(&["push", "-q", "origin", "main"]).assert_ok();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        logged,
        format!(
            "args: origin {}\nin: refs/heads/main refs/heads/main\n",
            s.remote.display()
        )
    );

    let r = s.lore(&["hooks", "uninstall"]);
    r.assert_ok();
    assert!(r.stdout.contains("put back"), "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        original
    );
    assert!(is_executable(&hooks.join("pre-push")));
    assert!(!chained.exists());
    assert_eq!(s.status_json()["hooks"][0]["other_hook"], true);
}

#[test]
fn a_failing_chained_hook_still_stops_the_push() {
    let s = setup();
    let log = s.world.path("hook.log");
    write_hook(&s.repo.join(".git/hooks/pre-push"), &logging_hook(&log, 3));
    s.lore(&["hooks", "install"]).assert_ok();
    s.commit(1);
    let before = s.user.rev(&s.remote, "main");
    let r = s.git(&["push", "origin", "main"]);
    r.assert_fails();
    assert!(r.stderr.contains("failed to push"), "{}", r.stderr);
    assert_eq!(s.user.rev(&s.remote, "main"), before);
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("in: refs/heads/main")
    );
}

#[test]
fn the_leak_guard_keeps_the_plaintext_store_off_plain_remotes() {
    let s = setup();
    s.store_with_session(S1);
    s.lore(&["sync", "export"]).assert_ok();
    s.lore(&["hooks", "install"]).assert_ok();
    assert!(s.user.rev(&s.repo, "refs/lore/sessions").is_some());

    // The store by name, and every ref (--mirror) to a plain URL: refused, nothing sent.
    let r = s.git(&["push", "origin", "refs/lore/sessions"]);
    r.assert_fails();
    assert!(
        r.stderr.contains(&format!(
            "lore: push refused: refs/lore/sessions would reach origin ({}) unencrypted.",
            s.remote.display()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("git push lore::origin refs/lore/sessions")
            && r.stderr.contains("lore sync"),
        "{}",
        r.stderr
    );
    assert_eq!(s.remote_store(), None);
    let copy = s.world.path("copy.git");
    s.user
        .git(
            s.world.dir.path(),
            &["init", "-q", "--bare", copy.to_str().unwrap()],
        )
        .assert_ok();
    let r = s.git(&["push", "--mirror", copy.to_str().unwrap()]);
    r.assert_fails();
    assert!(r.stderr.contains("lore: push refused"), "{}", r.stderr);
    assert_eq!(s.user.rev(&copy, "refs/lore/sessions"), None);
    assert_eq!(s.user.rev(&copy, "main"), None);

    // Through the helper: encrypted, allowed.
    s.git(&["push", "-q", "lore::origin", "refs/lore/sessions"])
        .assert_ok();
    let files = s.remote_store().expect("the remote has the store");
    assert!(files.contains(&format!("{S1}.enc")), "{files}");
    assert!(!files.contains(&format!("{S1}.json")), "{files}");

    // Ordinary pushes pass.
    s.commit(1);
    s.git(&["push", "-q", "origin", "main"]).assert_ok();
    assert_eq!(s.user.rev(&s.remote, "main"), s.user.rev(&s.repo, "main"));

    // Deleting a ref sends nothing: allowed (the way to clean up a leak).
    s.git(&[
        "push",
        "-q",
        "--no-verify",
        copy.to_str().unwrap(),
        "refs/lore/sessions",
    ])
    .assert_ok();
    s.git(&["push", "-q", copy.to_str().unwrap(), ":refs/lore/sessions"])
        .assert_ok();
    assert_eq!(s.user.rev(&copy, "refs/lore/sessions"), None);
}

#[test]
fn a_push_shares_sessions_when_a_store_is_set_up() {
    let s = setup();
    s.store_with_session(S1);
    s.lore(&["hooks", "install"]).assert_ok();
    assert_eq!(s.remote_store(), None);

    // The hook's own sync marks its pushes: a push so marked does not sync again.
    s.commit(1);
    s.user
        .git_with(
            &s.repo,
            &[("LORE_HOOK_ACTIVE", "1")],
            &["push", "-q", "origin", "main"],
        )
        .assert_ok();
    assert_eq!(s.remote_store(), None);

    // A plain push of code: no passphrase in the environment, stdin closed (the harness).
    s.commit(2);
    let r = s.git(&["push", "origin", "main"]);
    r.assert_ok();
    assert!(!r.stderr.contains("error"), "{}", r.stderr);
    assert!(
        !r.stderr.to_lowercase().contains("passphrase"),
        "{}",
        r.stderr
    );
    assert_eq!(s.user.rev(&s.remote, "main"), s.user.rev(&s.repo, "main"));
    let files = s.remote_store().expect("the hook pushed the store");
    assert!(files.contains(&format!("{S1}.enc")), "{files}");
    // Ciphertext: the remote's commit is not the local plaintext one.
    assert_ne!(
        s.user.rev(&s.remote, "refs/lore/sessions"),
        s.user.rev(&s.repo, "refs/lore/sessions")
    );
    let st = s.lore(&["sync", "status", "--json"]);
    let st: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(st["pending"], 0);

    // The next session travels with the next push.
    s.import(S2);
    s.commit(3);
    s.git(&["push", "-q", "origin", "main"]).assert_ok();
    let files = s.remote_store().unwrap();
    assert!(files.contains(&format!("{S2}.enc")), "{files}");
}

#[test]
fn a_push_without_a_store_or_a_key_does_nothing_more() {
    let s = setup();
    s.lore(&["hooks", "install"]).assert_ok();
    s.import(S1);

    // No store.
    s.commit(1);
    let r = s.git(&["push", "origin", "main"]);
    r.assert_ok();
    assert!(!r.stderr.contains("lore:"), "{}", r.stderr);
    assert_eq!(s.user.rev(&s.remote, "main"), s.user.rev(&s.repo, "main"));
    assert_eq!(s.remote_store(), None);

    // A store, but its key gone from this machine: still nothing, and no failure.
    s.user.setup(&s.repo, PASS).assert_ok();
    std::fs::remove_dir_all(s.user.lore_home.join("keys")).unwrap();
    s.commit(2);
    let r = s.git(&["push", "origin", "main"]);
    r.assert_ok();
    assert!(!r.stderr.contains("lore:"), "{}", r.stderr);
    assert_eq!(s.user.rev(&s.remote, "main"), s.user.rev(&s.repo, "main"));
    assert_eq!(s.remote_store(), None);
}

#[test]
fn a_failing_sync_does_not_stop_the_push() {
    let s = setup();
    s.store_with_session(S1);
    s.lore(&["hooks", "install"]).assert_ok();
    // Another store already on the remote: this one cannot sync with it.
    let other = s.world.user("bob");
    let theirs = other.clone(s.remote.to_str().unwrap(), "repo");
    other.setup(&theirs, "another passphrase").assert_ok();
    other.lore(&theirs, &["sync"]).assert_ok();
    let before = s.user.rev(&s.remote, "refs/lore/sessions");

    s.commit(1);
    let r = s.git(&["push", "origin", "main"]);
    r.assert_ok();
    assert!(
        r.stderr.contains("lore: sharing sessions failed"),
        "{}",
        r.stderr
    );
    assert_eq!(s.user.rev(&s.remote, "main"), s.user.rev(&s.repo, "main"));
    assert_eq!(s.user.rev(&s.remote, "refs/lore/sessions"), before);
}

#[test]
fn the_hook_falls_back_to_lore_on_path() {
    let s = setup();
    s.store_with_session(S1);
    // Install with a lore that is then removed: the hook finds lore on PATH instead.
    let gone = s.world.path("gone");
    std::fs::create_dir_all(&gone).unwrap();
    let exe = gone.join("lore");
    let built = common::bin_dir().join("lore");
    if std::fs::hard_link(&built, &exe).is_err() {
        std::fs::copy(&built, &exe).unwrap();
    }
    let out = std::process::Command::new(&exe)
        .args(["hooks", "install"])
        .current_dir(&s.repo)
        .env_clear()
        .env("PATH", common::test_path())
        .env("HOME", &s.user.home)
        .env("LORE_HOME", &s.user.lore_home)
        .env("GIT_CONFIG_GLOBAL", s.user.home.join(".gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(s.repo.join(".git/hooks/pre-push")).unwrap();
    assert!(
        text.contains(&format!("lore_bin='{}'", canonical(&exe).display())),
        "{text}"
    );
    std::fs::remove_file(&exe).unwrap();

    s.commit(1);
    s.git(&["push", "-q", "origin", "main"]).assert_ok();
    let files = s.remote_store().expect("the hook pushed the store");
    assert!(files.contains(&format!("{S1}.enc")), "{files}");
}

#[test]
fn hooks_outside_a_repository_is_an_error() {
    let world = World::new();
    let user = world.user("alice");
    let r = user.lore(&user.root, &["hooks", "status"]);
    r.assert_fails();
    assert!(
        r.stderr.contains("not inside a git repository"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_post_commit_hook_is_chained_runs_lore_link_and_honours_core_hooks_path() {
    let s = setup();
    // An existing post-commit hook in a core.hooksPath folder, failing on purpose: git ignores
    // a post-commit hook's status, and lore's hook still runs after it.
    let shared = s.world.path("shared-hooks");
    s.git(&["config", "core.hooksPath", shared.to_str().unwrap()])
        .assert_ok();
    let log = s.world.path("post.log");
    let original = format!(
        "#!/bin/sh\necho \"mine ran\" >> '{}'\nexit 3\n",
        log.display()
    );
    write_hook(&shared.join("post-commit"), &original);
    let r = s.lore(&["hooks", "install"]);
    r.assert_ok();
    assert!(
        r.stdout.contains("Installed the post-commit hook")
            && r.stdout.contains("post-commit.lore-chained"),
        "{}",
        r.stdout
    );
    let hook = shared.join("post-commit");
    assert!(is_executable(&hook));
    assert!(!s.repo.join(".git/hooks/post-commit").exists());
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.contains("link --current --hook"), "{text}");
    let st = s.status_json();
    let post = st["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "post-commit")
        .unwrap()
        .clone();
    assert_eq!(post["state"], "chained");
    let r = s.lore(&["hooks", "status"]);
    assert!(r.stdout.contains("post-commit: chained"), "{}", r.stdout);

    // A session of this repository running now, in Claude Code's default folder.
    let cwd = canonical(&s.repo);
    write_transcript(
        &s.user.home.join(".claude"),
        S1,
        "linking",
        cwd.to_str().unwrap(),
    );
    let now = jiff::Timestamp::now().to_string();
    let path = s.user.home.join(format!(".claude/projects/x/{S1}.jsonl"));
    let fresh = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["timestamp"] = serde_json::Value::String(now.clone());
            v.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    // The session wrote the file the commit changes: the hook links only sessions with such
    // evidence.
    let last = fresh.lines().last().unwrap();
    let mut edit: serde_json::Value = serde_json::from_str(last).unwrap();
    edit["type"] = "assistant".into();
    edit["uuid"] = "edit-readme".into();
    edit["message"] = serde_json::json!({"role": "assistant", "id": "m-edit", "model": "claude-x",
        "content": [{"type": "tool_use", "id": "t-edit", "name": "Edit",
            "input": {"file_path": format!("{}/README", cwd.display()), "old_string": "", "new_string": "code 1"}}]});
    std::fs::write(&path, format!("{fresh}\n{edit}\n")).unwrap();

    s.commit(1);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "mine ran\n");
    let r = s.lore(&["show", "--commit", "HEAD", "--json"]);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["sessions"][0]["id"], S1, "{v}");
    assert_eq!(v["sessions"][0]["link"]["kind"], "hook");

    // lore failing (its home cannot be made) never fails the commit, and says nothing.
    std::fs::write(s.repo.join("README"), "code 2\n").unwrap();
    let bad_home = log.join("lore");
    let r = s.user.git_with(
        &s.repo,
        &[("LORE_HOME", bad_home.to_str().unwrap())],
        &["commit", "-qam", "change 2"],
    );
    r.assert_ok();
    assert_eq!(r.stderr, "", "quiet");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "mine ran\nmine ran\n"
    );

    s.lore(&["hooks", "uninstall"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), original);
    assert!(!shared.join("post-commit.lore-chained").exists());
}

#[test]
fn a_chained_pre_push_hook_runs_once_per_push_not_again_for_the_helpers_inner_push() {
    let s = setup();
    s.store_with_session(S1);
    let hooks = s.repo.join(".git/hooks");
    let log = s.user.root.join("hook.log");
    write_hook(&hooks.join("pre-push"), &logging_hook(&log, 0));
    s.lore(&["hooks", "install"]).assert_ok();
    s.lore(&["sync", "export"]).assert_ok();
    s.git(&["push", "-q", "lore::origin", "refs/lore/sessions"])
        .assert_ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let runs: Vec<&str> = text.lines().filter(|l| l.starts_with("args:")).collect();
    assert_eq!(runs.len(), 1, "{text}");
    assert!(runs[0].contains("lore::origin"), "{text}");
    assert!(
        s.remote_store()
            .is_some_and(|f| f.contains(&format!("{S1}.enc")))
    );
    // `lore sync` itself pushes without running the user's hook at all.
    std::fs::remove_file(&log).unwrap();
    s.import(S2);
    s.lore(&["sync"]).assert_ok();
    assert!(!log.exists(), "{:?}", std::fs::read_to_string(&log));
    assert!(
        s.remote_store()
            .is_some_and(|f| f.contains(&format!("{S2}.enc")))
    );
}

/// Every object of the local plaintext store that holds sessions: the commits, trees and
/// blobs of `refs/lore/*` (but the helper's ciphertext under `refs/lore/wire/`), less those of
/// the store's first commit, which holds only the public header and is the same in
/// ciphertext.
fn plaintext_objects(s: &Setup) -> Vec<String> {
    let refs = s.git(&["for-each-ref", "--format=%(refname)", "refs/lore/"]);
    let tips: Vec<&str> = refs
        .stdout
        .lines()
        .filter(|r| !r.starts_with("refs/lore/wire/"))
        .collect();
    assert!(!tips.is_empty(), "no plaintext store");
    let roots = s.git(&["rev-list", "--max-parents=0", "refs/lore/sessions"]);
    let mut args = vec!["rev-list", "--objects"];
    args.extend(tips);
    args.push("--not");
    args.extend(roots.stdout.lines());
    let out = s.git(&args);
    out.assert_ok();
    let objects: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(objects.len() >= 4, "{objects:?}");
    objects
}

/// Asserts that `remote` holds none of `objects`, and no object that holds the transcript's
/// text (the word "parser", the canary of every session these tests import).
fn assert_has_none(s: &Setup, remote: &Path, objects: &[String], shape: &str) {
    for oid in objects {
        let r = s.user.git(remote, &["cat-file", "-e", oid]);
        assert!(!r.ok, "{shape}: the remote received plaintext object {oid}");
    }
    let all = s
        .user
        .git(remote, &["cat-file", "--batch-all-objects", "--batch"]);
    all.assert_ok();
    assert!(
        !all.stdout.contains("parser"),
        "{shape}: a session's text reached the remote"
    );
}

#[test]
fn the_leak_guard_checks_what_is_pushed_not_the_ref_names() {
    let s = setup();
    s.store_with_session(S1);
    s.lore(&["sync", "export"]).assert_ok();
    s.lore(&["hooks", "install"]).assert_ok();
    let objects = plaintext_objects(&s);
    let tip = s.user.rev(&s.repo, "refs/lore/sessions").unwrap();
    let tree = s.user.rev(&s.repo, "refs/lore/sessions^{tree}").unwrap();
    // An annotated tag of the store, and a code branch that merged the store in.
    s.git(&["tag", "-a", "-m", "snapshot", "snap", "refs/lore/sessions"])
        .assert_ok();
    s.git(&["checkout", "-qb", "evil"]).assert_ok();
    s.git(&[
        "merge",
        "-q",
        "--allow-unrelated-histories",
        "-m",
        "oops",
        "refs/lore/sessions",
    ])
    .assert_ok();
    s.git(&["checkout", "-q", "main"]).assert_ok();

    let backup = s.world.bare("backup.git");
    s.git(&["remote", "add", "backup", backup.to_str().unwrap()])
        .assert_ok();
    let tag_spec = format!("{tip}:refs/tags/x");
    let tree_spec = format!("{tree}:refs/tags/t");
    let shapes: Vec<Vec<&str>> = vec![
        vec!["push", "backup", "refs/lore/sessions"],
        vec!["push", "backup", "refs/lore/sessions:refs/heads/x"],
        vec!["push", "backup", "refs/*:refs/backup/*"],
        vec!["push", "backup", &tag_spec],
        vec!["push", "backup", &tree_spec],
        vec!["push", "backup", "refs/tags/snap"],
        vec!["push", "backup", "--tags"],
        vec!["push", "backup", "evil"],
        vec!["push", "--all", "backup"],
        vec!["push", "--mirror", "backup"],
        vec!["push", "--mirror", backup.to_str().unwrap()],
    ];
    for shape in &shapes {
        let r = s.git(shape);
        let what = shape.join(" ");
        assert!(!r.ok, "{what}: pushed\n{}", r.stderr);
        assert!(
            r.stderr.contains("lore: push refused:")
                && r.stderr
                    .contains("plaintext; only a lore:: remote encrypts them"),
            "{what}: {}",
            r.stderr
        );
        assert_has_none(&s, &backup, &objects, &what);
    }
    // The refused push named the destination ref, whatever it was.
    let r = s.git(&["push", "backup", "refs/lore/sessions:refs/heads/x"]);
    assert!(
        r.stderr.contains(&format!(
            "lore: push refused: refs/heads/x would reach backup ({}) unencrypted.",
            backup.display()
        )),
        "{}",
        r.stderr
    );

    // Code alone still goes, and so does a deletion.
    s.git(&["push", "-q", "backup", "main", "main:refs/heads/code"])
        .assert_ok();
    assert_eq!(s.user.rev(&backup, "main"), s.user.rev(&s.repo, "main"));
    s.git(&["push", "-q", "backup", ":refs/heads/code"])
        .assert_ok();
    assert_eq!(s.user.rev(&backup, "code"), None);
    assert_has_none(&s, &backup, &objects, "after the code pushes");

    // Without the hook the same push leaks: the test above can fail.
    s.lore(&["hooks", "uninstall"]).assert_ok();
    s.git(&["push", "-q", "backup", "refs/lore/sessions:refs/heads/x"])
        .assert_ok();
    assert!(
        s.user.git(&backup, &["cat-file", "-e", &tip]).ok,
        "without the guard the plaintext commit reaches the remote"
    );
    let all = s
        .user
        .git(&backup, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(
        all.stdout.contains("parser"),
        "the canary is in the plaintext"
    );
}

#[test]
fn a_lore_url_is_trusted_only_with_lores_own_helper() {
    let s = setup();
    s.store_with_session(S1);
    s.lore(&["sync", "export"]).assert_ok();
    s.lore(&["hooks", "install"]).assert_ok();
    let objects = plaintext_objects(&s);

    // Another git-remote-lore first on PATH: it could push anything, in plaintext. This one
    // notes that it ran and hands over to lore's, so only the hook can stop the push.
    let impostor = s.world.path("impostor");
    std::fs::create_dir_all(&impostor).unwrap();
    let log = s.world.path("impostor.log");
    write_hook(
        &impostor.join("git-remote-lore"),
        &format!(
            "#!/bin/sh\necho ran >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            common::bin_dir().join("git-remote-lore").display()
        ),
    );
    let mut path = std::ffi::OsString::from(&impostor);
    path.push(":");
    path.push(common::test_path());
    let r = s.user.git_with(
        &s.repo,
        &[("PATH", path.to_str().unwrap())],
        &["push", "lore::origin", "refs/lore/sessions"],
    );
    r.assert_fails();
    assert!(
        r.stderr
            .contains("lore: push refused: the git-remote-lore git would run")
            && r.stderr.contains(impostor.to_str().unwrap()),
        "{}",
        r.stderr
    );
    assert!(log.exists(), "git ran the impostor to list refs");
    assert_eq!(s.remote_store(), None, "nothing was pushed");
    assert_has_none(&s, &s.remote, &objects, "impostor");

    // lore's own helper: the push goes, encrypted.
    s.git(&["push", "-q", "lore::origin", "refs/lore/sessions"])
        .assert_ok();
    assert!(
        s.remote_store()
            .is_some_and(|f| f.contains(&format!("{S1}.enc")))
    );
    assert_has_none(&s, &s.remote, &objects, "lore::origin");
}

#[test]
fn doctor_and_sync_warn_when_the_guard_is_missing_or_hidden_by_core_hooks_path() {
    let s = setup();
    s.store_with_session(S1);
    let warned =
        |r: &common::Run| r.stdout.contains("leak guard") || r.stderr.contains("leak guard");
    // No hook.
    let r = s.lore(&["doctor"]);
    assert!(
        r.stdout
            .contains("warning: the pre-push leak guard is not installed"),
        "{}",
        r.stdout
    );
    let r = s.lore(&["sync"]);
    r.assert_ok();
    assert!(
        r.stderr
            .contains("lore: warning: the pre-push leak guard is not installed"),
        "{}",
        r.stderr
    );
    // Installed: quiet.
    s.lore(&["hooks", "install"]).assert_ok();
    let r = s.lore(&["doctor"]);
    assert!(!warned(&r), "{}", r.stdout);
    assert!(
        r.stdout.contains("pre-push and post-commit installed"),
        "{}",
        r.stdout
    );
    let r = s.lore(&["sync"]);
    r.assert_ok();
    assert!(!warned(&r), "{}", r.stderr);

    // husky points core.hooksPath at its own folder: lore's hook no longer runs.
    s.git(&["config", "core.hooksPath", ".husky/_"]).assert_ok();
    let r = s.lore(&["doctor"]);
    assert!(
        r.stdout
            .contains("warning: the pre-push leak guard does not run")
            && r.stdout.contains("core.hooksPath")
            && r.stdout.contains(".husky/_"),
        "{}",
        r.stdout
    );
    let r = s.lore(&["sync"]);
    r.assert_ok();
    assert!(
        r.stderr
            .contains("lore: warning: the pre-push leak guard does not run"),
        "{}",
        r.stderr
    );
    // And it really does not: the push leaks.
    let backup = s.world.bare("backup.git");
    s.git(&["push", "-q", backup.to_str().unwrap(), "refs/lore/sessions"])
        .assert_ok();

    // Installing again puts it where git looks now.
    s.lore(&["hooks", "install"]).assert_ok();
    let r = s.lore(&["doctor"]);
    assert!(!warned(&r), "{}", r.stdout);
    let r = s.git(&[
        "push",
        backup.to_str().unwrap(),
        "refs/lore/sessions:refs/heads/y",
    ]);
    r.assert_fails();

    // A hook that is not executable is skipped by git.
    let hook = s.repo.join(".husky/_/pre-push");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = s.lore(&["doctor"]);
    assert!(r.stdout.contains("is not executable"), "{}", r.stdout);
}

#[test]
fn sync_setup_says_how_to_install_the_hooks() {
    let s = setup();
    let r = s.user.setup(&s.repo, PASS);
    r.assert_ok();
    assert!(
        r.stderr
            .contains("lore: note: the pre-push leak guard is not installed")
            && r.stderr.contains("lore hooks install"),
        "{}",
        r.stderr
    );
}
