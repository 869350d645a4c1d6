//! Real network servers on loopback for tests/network.rs: the distribution's `sshd`, and
//! `lighttpd` running `git http-backend` as a CGI. Each runs in the foreground as a child of
//! the test, on a free 127.0.0.1 port, with a throw-away configuration in a temp folder, and is
//! stopped when its guard drops.
//!
//! A test whose server is not installed prints one line saying what is missing and returns,
//! unless `LORE_REQUIRE_NETWORK_TESTS=1` (CI sets it) makes that a failure.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to 1 to turn a missing server into a failure instead of a skip.
pub const REQUIRE_ENV: &str = "LORE_REQUIRE_NETWORK_TESTS";

/// How to get what is missing.
const HOW: &str = "apt-get install openssh-server lighttpd (as root), or run .ci/run";

/// How long a server may take to answer on its port.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// `name` on PATH or in the sbin folders (where Debian puts sshd and lighttpd, and which a
/// non-root PATH often lacks).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The folder of git's own programs (`git --exec-path`) for the git on PATH.
pub fn git_exec_path() -> Option<PathBuf> {
    let out = Command::new("git").arg("--exec-path").output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Whether a test may go on: true when nothing is `missing`. Otherwise, with
/// `LORE_REQUIRE_NETWORK_TESTS=1` it panics; without, it prints one loud line and the test
/// should return.
pub fn ready(test: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let what = missing.join(", ");
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{test}: {REQUIRE_ENV}=1 but {what} not installed; {HOW}");
    }
    // Straight to the process's stderr: libtest captures eprintln! of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "!!! SKIPPED {test}: {what} not installed; {HOW} (set {REQUIRE_ENV}=1 to fail instead)"
    );
    false
}

/// The user the tests run as, whom the servers let in.
pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("run id -un");
    assert!(out.status.success(), "id -un failed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A server child: stopped (SIGTERM, then SIGKILL) when dropped; its log is printed if the
/// test is failing.
struct Server {
    what: &'static str,
    child: Child,
    log: PathBuf,
    /// Other logs to show when the test fails.
    also: Vec<PathBuf>,
    stopped: bool,
}

impl Server {
    /// Runs `cmd` (stdout and stderr to `log`) and waits until `port` answers. The child dies
    /// with the test's thread even if the test process is killed before the guard drops.
    fn spawn(
        what: &'static str,
        mut cmd: Command,
        port: u16,
        log: &Path,
    ) -> Result<Server, String> {
        let out = std::fs::File::create(log).expect("create server log");
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup log"))
            .stderr(out);
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let mut server = Server {
            what,
            child,
            log: log.to_path_buf(),
            also: Vec::new(),
            stopped: false,
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("{what} exited ({status}):\n{}", server.log_text()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                // Answering, and still ours (not a stranger that took the port first).
                if let Ok(None) = server.child.try_wait() {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{what} did not answer on {addr} within {START_TIMEOUT:?}:\n{}",
                    server.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM (the servers flush their logs and exit), then SIGKILL after 3 s. Only once:
    /// a reaped child's pid may belong to someone else.
    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop(); // first: stopping flushes the logs
        if std::thread::panicking() {
            let mut logs = vec![self.log.clone()];
            logs.extend(self.also.iter().cloned());
            for path in logs {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let _ = writeln!(
                    std::io::stderr(),
                    "--- {} : {} ---\n{}\n--- end of {} ---",
                    self.what,
                    path.display(),
                    text.trim_end(),
                    path.display()
                );
            }
        }
    }
}

/// Starts a server on a fresh free port, trying again with another port if the first was
/// taken between our probe and the server's bind.
fn start_on_free_port(
    what: &'static str,
    mut attempt: impl FnMut(u16) -> Result<Server, String>,
) -> (Server, u16) {
    let mut errors = Vec::new();
    for _ in 0..5 {
        let port = free_port();
        match attempt(port) {
            Ok(s) => return (s, port),
            Err(e) => errors.push(e),
        }
    }
    panic!("could not start {what}:\n{}", errors.join("\n---\n"));
}

/// Runs `ssh-keygen` for a new passphrase-less ed25519 key at `path`.
fn keygen(ssh_keygen: &Path, path: &Path) {
    let out = Command::new(ssh_keygen)
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "lore-network-test",
            "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The distribution's sshd on 127.0.0.1, letting the current user in with one throw-away key.
pub struct SshServer {
    server: Server,
    pub port: u16,
    pub user: String,
    /// The client's private key.
    pub key: PathBuf,
    /// What the users' git should use: `GIT_SSH_COMMAND` for this server.
    pub ssh_command: String,
}

impl SshServer {
    /// What this machine lacks to run an ssh server test.
    pub fn missing() -> Vec<String> {
        let mut missing = Vec::new();
        for (program, package) in [
            ("sshd", "openssh-server"),
            ("ssh", "openssh-client"),
            ("ssh-keygen", "openssh-client"),
        ] {
            if find_program(program).is_none() {
                missing.push(format!("{program} ({package})"));
            }
        }
        missing
    }

    /// Starts sshd with its configuration, keys and log in `dir`.
    pub fn start(dir: &Path) -> SshServer {
        std::fs::create_dir_all(dir).expect("mkdir");
        let sshd = find_program("sshd").expect("sshd"); // absolute: sshd re-execs itself
        let ssh_keygen = find_program("ssh-keygen").expect("ssh-keygen");
        let ssh = find_program("ssh").expect("ssh");
        if is_root() {
            // The privilege-separation folder a root sshd insists on.
            std::fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
        }
        let host_key = dir.join("host_ed25519");
        let key = dir.join("client_ed25519");
        keygen(&ssh_keygen, &host_key);
        keygen(&ssh_keygen, &key);
        let authorized = dir.join("authorized_keys");
        std::fs::copy(key.with_extension("pub"), &authorized).expect("authorized_keys");
        let user = current_user();
        let config = dir.join("sshd_config");
        let (server, port) = start_on_free_port("sshd", |port| {
            let text = format!(
                "ListenAddress 127.0.0.1:{port}\n\
                 HostKey {host_key}\n\
                 AuthorizedKeysFile {authorized}\n\
                 PidFile {pid}\n\
                 AllowUsers {user}\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 UsePAM no\n\
                 StrictModes no\n\
                 PrintMotd no\n\
                 LogLevel VERBOSE\n\
                 SetEnv GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null\n",
                host_key = host_key.display(),
                authorized = authorized.display(),
                pid = dir.join("sshd.pid").display(),
            );
            std::fs::write(&config, text).expect("write sshd_config");
            let mut cmd = Command::new(&sshd);
            cmd.arg("-D").arg("-e").arg("-f").arg(&config);
            Server::spawn("sshd", cmd, port, &dir.join("sshd.log"))
        });
        let ssh_command = format!(
            "{ssh} -F /dev/null -i {key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
             -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
             -o ConnectTimeout=10 -p {port}",
            ssh = ssh.display(),
            key = key.display(),
        );
        SshServer {
            server,
            port,
            user,
            key,
            ssh_command,
        }
    }

    /// The `ssh://` URL of the repository at absolute path `repo` on this server.
    pub fn url(&self, repo: &Path) -> String {
        assert!(repo.is_absolute(), "{}", repo.display());
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.display()
        )
    }

    /// Stops the server and returns what it logged.
    pub fn stop_and_read_log(&mut self) -> String {
        self.server.stop();
        self.server.log_text()
    }

    /// The environment a user's git needs to reach this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GIT_SSH_COMMAND".into(), self.ssh_command.clone()),
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
        ]
    }
}

/// lighttpd serving `git http-backend` (smart HTTP, push included) for every repository in
/// one folder, at `http://127.0.0.1:<port>/git/<name>`.
pub struct HttpServer {
    server: Server,
    pub port: u16,
    access_log: PathBuf,
}

impl HttpServer {
    /// What this machine lacks to run an HTTP server test.
    pub fn missing() -> Vec<String> {
        let mut missing = Vec::new();
        if find_program("lighttpd").is_none() {
            missing.push("lighttpd (lighttpd)".to_owned());
        }
        match git_exec_path() {
            None => missing.push("git".to_owned()),
            Some(exec) => {
                for program in ["git-http-backend", "git-remote-http"] {
                    if !is_executable(&exec.join(program)) {
                        missing.push(format!("{program} (in {})", exec.display()));
                    }
                }
            }
        }
        missing
    }

    /// Starts lighttpd with its configuration and logs (its errors and the CGI's stderr, and
    /// the requests) in `dir`, serving the repositories in `project_root`. Pushing needs
    /// `http.receivepack` in each repository (see [`allow_push`]): no one logs in here.
    pub fn start(dir: &Path, project_root: &Path) -> HttpServer {
        std::fs::create_dir_all(dir.join("www")).expect("mkdir");
        std::fs::create_dir_all(dir.join("upload")).expect("mkdir");
        let lighttpd = find_program("lighttpd").expect("lighttpd");
        let backend = git_exec_path()
            .expect("git --exec-path")
            .join("git-http-backend");
        let config = dir.join("lighttpd.conf");
        let access_log = dir.join("access.log");
        let path = std::env::var("PATH").unwrap_or_default();
        let (mut server, port) = start_on_free_port("lighttpd", |port| {
            let text = format!(
                r#"server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_accesslog")
server.bind = "127.0.0.1"
server.port = {port}
server.document-root = "{www}"
server.upload-dirs = ("{upload}")
accesslog.filename = "{access}"
alias.url = ("/git" => "{backend}")
$HTTP["url"] =~ "^/git" {{
    cgi.assign = ("" => "")
    setenv.set-environment = (
        "GIT_PROJECT_ROOT" => "{root}",
        "GIT_HTTP_EXPORT_ALL" => "1",
        "GIT_CONFIG_NOSYSTEM" => "1",
        "GIT_CONFIG_GLOBAL" => "/dev/null",
        "HOME" => "{dir}",
        "PATH" => "{path}",
    )
}}
"#,
                www = dir.join("www").display(),
                upload = dir.join("upload").display(),
                access = access_log.display(),
                backend = backend.display(),
                root = project_root.display(),
                dir = dir.display(),
            );
            std::fs::write(&config, text).expect("write lighttpd.conf");
            let mut cmd = Command::new(&lighttpd);
            cmd.arg("-D").arg("-f").arg(&config);
            Server::spawn("lighttpd", cmd, port, &dir.join("lighttpd.log"))
        });
        server.also.push(access_log.clone());
        HttpServer {
            server,
            port,
            access_log,
        }
    }

    /// The URL of repository `name` in the served folder.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/git/{name}", self.port)
    }

    /// Stops the server and returns every request it served, one line each. (lighttpd
    /// buffers its access log for up to 4 s; stopping it flushes the log.)
    pub fn stop_and_read_access_log(&mut self) -> String {
        self.server.stop();
        std::fs::read_to_string(&self.access_log).unwrap_or_default()
    }

    /// The environment a user's git needs to reach this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("GIT_TERMINAL_PROMPT".into(), "0".into())]
    }
}

/// Lets anonymous smart-HTTP clients push to the bare repository `bare`.
pub fn allow_push(bare: &Path) {
    let out = Command::new("git")
        .args(["config", "-f"])
        .arg(bare.join("config"))
        .args(["http.receivepack", "true"])
        .output()
        .expect("git config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
