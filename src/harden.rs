//! Process hardening both binaries apply first thing: no core dump of a process that may hold
//! a passphrase, a data key or decrypted sessions (docs/sync.md, "Keys, passphrases, rotation").
//!
//! On unix the core size limit is set to 0 (`setrlimit(RLIMIT_CORE)`, inherited by git and
//! every other child); on Linux the process is also made non-dumpable (`prctl(PR_SET_DUMPABLE,
//! 0)`), which keeps a core pipe such as systemd-coredump from writing one anyway and keeps
//! other processes of the same user from reading its memory through `/proc/<pid>/mem` or
//! ptrace. A child that execs another program becomes dumpable again (the kernel resets it on
//! exec), but keeps the zero core limit. Elsewhere nothing is done. Refuses nothing: a failure
//! is returned for the binary to mention, and the command goes on.

/// Turns core dumps off for this process (and, for the core size limit, its children).
pub fn disable_core_dumps() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; it is valid for the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument; the others are ignored.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether this process may leave a core dump: the soft core limit is not 0 (or, on Linux, the
/// process is dumpable). For `lore doctor` and the tests.
pub fn core_dumps_possible() -> bool {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass; it is valid for the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) } != 0 || lim.rlim_cur != 0 {
            return true;
        }
        #[cfg(target_os = "linux")]
        {
            // SAFETY: PR_GET_DUMPABLE takes no argument and returns 0, 1 or 2.
            if unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) } != 0 {
                return true;
            }
        }
        false
    }
    #[cfg(not(unix))]
    {
        true
    }
}
