//! A pager for long outputs on a terminal, as git does it: `LORE_PAGER`, else `PAGER`, else
//! `less`; `LESS=FRX` (quit if one screen, raw colours, no screen clearing) and `LV=-c` only
//! when unset; no pager at all when stdout is not a terminal, when `--no-pager` is given, or
//! when the pager named is empty or `cat`.
//!
//! What it refuses: nothing is an error here. A pager that cannot be started leaves the output
//! on stdout (with a warning); a pager the user quits early closes the pipe, and the write
//! that fails with EPIPE is taken as the end (main treats a broken pipe as success). Colour is
//! decided from the real stdout before the pager takes it, so a terminal keeps its colours
//! through `less -R`. Used by `lore show`; read docs/reading.md.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use anstream::AutoStream;

/// The pager command to run, if any: `LORE_PAGER`, then `PAGER`, then `less`; an empty one
/// or `cat` means none (git's rule). `None` too when stdout is not a terminal.
pub fn command(
    lore_pager: Option<OsString>,
    pager: Option<OsString>,
    stdout_is_terminal: bool,
) -> Option<String> {
    if !stdout_is_terminal {
        return None;
    }
    let cmd = lore_pager
        .or(pager)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|| "less".to_owned());
    let cmd = cmd.trim();
    (!cmd.is_empty() && cmd != "cat").then(|| cmd.to_owned())
}

/// The variables the pager is given: `LESS=FRX` and `LV=-c`, each only when unset.
pub fn environment(
    less: Option<OsString>,
    lv: Option<OsString>,
) -> Vec<(&'static str, &'static str)> {
    let mut vars = Vec::new();
    if less.is_none() {
        vars.push(("LESS", "FRX"));
    }
    if lv.is_none() {
        vars.push(("LV", "-c"));
    }
    vars
}

/// Where a command writes its text: stdout, or a pager's stdin. Dropping it closes the pipe
/// and waits for the pager, so the prompt comes back only once the user has quit it.
pub struct Output {
    inner: Inner,
}

enum Inner {
    Stdout(AutoStream<io::StdoutLock<'static>>),
    Pager {
        stdin: Option<AutoStream<Box<dyn Write + Send>>>,
        child: Child,
    },
}

/// The output for a long text: a pager when stdout is a terminal and `no_pager` is false,
/// else stdout.
pub fn start(no_pager: bool) -> Output {
    let stdout = io::stdout();
    let cmd = if no_pager {
        None
    } else {
        command(
            std::env::var_os("LORE_PAGER"),
            std::env::var_os("PAGER"),
            stdout.is_terminal(),
        )
    };
    if let Some(cmd) = cmd {
        let choice = AutoStream::choice(&stdout);
        match spawn(&cmd) {
            Ok((child, stdin)) => {
                let raw: Box<dyn Write + Send> = Box::new(io::BufWriter::new(stdin));
                return Output {
                    inner: Inner::Pager {
                        stdin: Some(AutoStream::new(raw, choice)),
                        child,
                    },
                };
            }
            Err(e) => {
                let _ = writeln!(
                    anstream::stderr(),
                    "warning: cannot start the pager '{cmd}': {e}; printing instead (set LORE_PAGER, or use --no-pager)"
                );
            }
        }
    }
    Output {
        inner: Inner::Stdout(anstream::stdout().lock()),
    }
}

fn spawn(cmd: &str) -> io::Result<(Child, ChildStdin)> {
    // Through the shell, as git does, so `LORE_PAGER="less -S"` works.
    #[cfg(unix)]
    let mut command = {
        let mut c = Command::new("sh");
        c.arg("-c").arg(cmd);
        c
    };
    #[cfg(not(unix))]
    let mut command = {
        let mut words = cmd.split_whitespace();
        let mut c = Command::new(words.next().unwrap_or("more"));
        c.args(words);
        c
    };
    command.stdin(Stdio::piped());
    for (k, v) in environment(std::env::var_os("LESS"), std::env::var_os("LV")) {
        command.env(k, v);
    }
    let mut child = command.spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("the pager has no input"))?;
    Ok((child, stdin))
}

impl Output {
    /// Flushes and, with a pager, closes its input and waits for it to end.
    pub fn finish(mut self) -> io::Result<()> {
        self.close()
    }

    fn close(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(out) => out.flush(),
            Inner::Pager { stdin, child } => {
                let flushed = match stdin.take() {
                    Some(mut s) => s.flush(),
                    None => Ok(()),
                };
                child.wait()?;
                // The user quitting the pager before the end is not an error.
                match flushed {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                    other => other,
                }
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Stdout(out) => out.write(buf),
            Inner::Pager { stdin: Some(s), .. } => s.write(buf),
            Inner::Pager { stdin: None, .. } => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Stdout(out) => out.flush(),
            Inner::Pager { stdin: Some(s), .. } => s.flush(),
            Inner::Pager { stdin: None, .. } => Ok(()),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(s.into())
    }

    #[test]
    fn the_pager_is_lore_pager_then_pager_then_less_and_only_on_a_terminal() {
        assert_eq!(
            command(os("most"), os("more"), true).as_deref(),
            Some("most")
        );
        assert_eq!(
            command(None, os("more -s"), true).as_deref(),
            Some("more -s")
        );
        assert_eq!(command(None, None, true).as_deref(), Some("less"));
        assert_eq!(command(os("most"), os("more"), false), None);
        assert_eq!(command(None, None, false), None);
        // Empty or `cat`: no pager, and LORE_PAGER's choice wins over PAGER's.
        assert_eq!(command(os(""), os("more"), true), None);
        assert_eq!(command(os(" cat "), None, true), None);
        assert_eq!(command(None, os("cat"), true), None);
    }

    #[test]
    fn less_and_lv_are_set_only_when_unset() {
        assert_eq!(environment(None, None), vec![("LESS", "FRX"), ("LV", "-c")]);
        assert_eq!(environment(os("-S"), None), vec![("LV", "-c")]);
        assert!(environment(os(""), os("")).is_empty());
    }
}
