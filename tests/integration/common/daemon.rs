//! Servers as child processes for the length of a test: a daemon and
//! everything it forks, stopped by PID; a port free on 127.0.0.1 to start
//! one on; its logs, for a failure message.

use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Process;

/// A child process and everything it forked (NSD forks twice), stopped by
/// PID on drop: TERM, up to 10 s for the whole tree to exit, then KILL
/// (the [`Process`] inside kills and reaps the child itself last).
pub struct Daemon {
    pub process: Process,
}

impl Daemon {
    /// Spawns `command`; panics naming the program if it cannot start.
    pub fn spawn(command: &mut Command) -> Daemon {
        Daemon {
            process: Process::spawn(command),
        }
    }

    /// PIDs of the process and all its descendants, from /proc.
    fn tree(pid: u32) -> Vec<u32> {
        let mut pids = vec![pid];
        let mut i = 0;
        while let Some(&p) = pids.get(i) {
            if let Ok(tasks) = fs::read_dir(format!("/proc/{p}/task")) {
                for task in tasks.flatten() {
                    let children =
                        fs::read_to_string(task.path().join("children")).unwrap_or_default();
                    pids.extend(
                        children
                            .split_whitespace()
                            .filter_map(|c| c.parse::<u32>().ok()),
                    );
                }
            }
            i += 1;
        }
        pids
    }

    /// True while the process exists and is not a zombie.
    fn running(pid: u32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/status")) {
            Ok(status) => !status
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z')),
            Err(_) => false,
        }
    }

    fn signal(pid: u32, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let tree = Daemon::tree(self.process.id());
        Daemon::signal(self.process.id(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let _ = self.process.child().try_wait(); // reap our direct child
            if !tree.iter().any(|&p| Daemon::running(p)) || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for &pid in tree.iter().filter(|&&p| Daemon::running(p)) {
            Daemon::signal(pid, "-KILL");
        }
    }
}

/// A port that is free for both UDP and TCP on 127.0.0.1 right now. The
/// server binds it a moment later; if someone else took it meanwhile the
/// server fails to start and `Server::start` tries another one.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp port 0");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Every log file in a server's scratch dir, for a failure message.
pub fn read_logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log") {
            let body = fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = body.lines().rev().take(30).collect();
            text.push_str(&format!("--- {}\n", path.display()));
            for line in tail.into_iter().rev() {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}
