//! Child processes for the length of one test: the `dnslab` binary (or a
//! peer server) started as a user would, polled until it answers, and
//! stopped by its PID when the test's guard is dropped, so that a failing
//! assertion never leaves one running.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

/// How long [`Process::poll`] waits between two probes: long enough not to
/// spin on a machine whose two cores every test shares.
const POLL_PAUSE: Duration = Duration::from_millis(50);

/// The `dnslab` binary of this build, ready for arguments.
pub fn dnslab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dnslab"))
}

/// The full path of an installed program, looked up in PATH and in the
/// sbin directories (knotd and nsd live in /usr/sbin, which a non-root PATH
/// may lack).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether this run is CI's: `CI` set to anything but `false` or `0`, as
/// CI services set it (`CI=true`). There `.ci/run` has installed every peer
/// and tool and runs as root, so a test that cannot run is a broken setup,
/// never a skip: otherwise a differential suite could be switched off
/// without anyone noticing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A test cannot run here, for the reason `why` (a tool or a privilege it
/// needs is missing). In CI that fails the test; elsewhere, say so
/// (`SKIPPED: why`), and the caller returns: a developer laptop may lack
/// Knot or root.
pub fn cannot_run(why: &str) {
    cannot_run_in(why, in_ci());
}

/// [`cannot_run`] with the CI question answered by the caller.
fn cannot_run_in(why: &str, ci: bool) {
    assert!(
        !ci,
        "{why}: in CI (CI=true) every test must run; .ci/run installs the tools and runs as root"
    );
    eprintln!("SKIPPED: {why}");
}

/// The program, or `None` when it is not installed (a failure in CI, see
/// [`cannot_run`]).
pub fn require(program: &str, package: &str) -> Option<PathBuf> {
    let found = find_program(program);
    if found.is_none() {
        cannot_run(&format!(
            "{program} not installed (apt-get install {package})"
        ));
    }
    found
}

/// Runs a client tool (dig, nslookup) and returns its output, or `None`
/// when it is not installed (a failure in CI, see [`require`]). Panics when the tool fails,
/// e.g. when dig gets no answer at all.
pub fn run_tool(tool: &str, args: &[String]) -> Option<String> {
    let program = require(tool, "bind9-dnsutils")?;
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(output.status.success(), "{tool} {args:?}: {output:?}");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `tool @ADDR -p PORT ARGS...` (dig, kdig) and returns what it
/// printed, stdout then stderr, whatever its exit status (both exit
/// non-zero on some TSIG failures, which a test reads from the output);
/// `None` when it is not installed (a failure in CI). `ARGS` should bound
/// the wait (`+time=5`).
pub fn tool_output(tool: &str, package: &str, server: SocketAddr, args: &[&str]) -> Option<String> {
    let program = require(tool, package)?;
    let output = Command::new(program)
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some(text)
}

/// Runs `dig @ADDR -p PORT +time=5 +tries=1 ARGS...` and returns what it
/// prints, as [`run_tool`] does. dig's own timeout bounds the wait.
pub fn dig(server: SocketAddr, args: &[&str]) -> Option<String> {
    let mut all = vec![
        format!("@{}", server.ip()),
        "-p".into(),
        server.port().to_string(),
        "+time=5".into(),
        "+tries=1".into(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    run_tool("dig", &all)
}

/// A child process, killed by its PID and reaped when dropped.
pub struct Process {
    /// Always `Some` until [`Process::output`] takes it.
    child: Option<Child>,
}

impl Process {
    /// Spawns `command`; panics naming the program if it cannot start.
    pub fn spawn(command: &mut Command) -> Process {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
        Process { child: Some(child) }
    }

    /// The running child, for its pipes.
    pub fn child(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("the child is only taken by output()")
    }

    pub fn id(&self) -> u32 {
        self.child
            .as_ref()
            .expect("the child is only taken by output()")
            .id()
    }

    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child().try_wait().expect("child status")
    }

    /// Sends `signal` (e.g. "-TERM") with kill(1), as a user would.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits up to `within` for the process to exit; its status, or `None`
    /// if it still runs.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `probe` until it returns `Some` (the server answers), the
    /// process exits (a port taken, a bad argument), or `within` passes.
    pub fn poll<T>(&mut self, within: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return None;
            }
            if let Some(found) = probe() {
                return Some(found);
            }
            std::thread::sleep(POLL_PAUSE);
        }
        None
    }

    /// Kills the process if it still runs, then its status and whatever it
    /// wrote to piped stdout and stderr.
    pub fn output(mut self) -> Output {
        let mut child = self
            .child
            .take()
            .expect("the child is only taken by output()");
        let _ = child.kill();
        child.wait_with_output().expect("collect child output")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The rule that keeps CI honest, tested without touching the environment.
mod tests {
    use super::cannot_run_in;

    /// In CI a missing tool or privilege fails the test that needs it, so
    /// a suite cannot be silently off; by hand it is a printed skip.
    #[test]
    fn a_test_that_cannot_run_fails_in_ci_and_is_skipped_elsewhere() {
        let in_ci = std::panic::catch_unwind(|| cannot_run_in("knotd not installed", true));
        assert!(in_ci.is_err(), "CI must fail a test that cannot run");
        cannot_run_in("knotd not installed", false);
    }
}
