//! The README's commands, run exactly as a new user would type them: the
//! quick start (`dnslab up` on its default addresses, then the `dig` and
//! `nslookup` lines shown) and the authoritative example (`dnslab auth` on
//! the shipped zones, then its `dig` lines). If the README changes, these
//! tests run the new commands; a command that stops working fails here.
//!
//! They use the README's fixed ports (5300 for the hierarchy and the auth
//! example on different addresses, 1053 for the resolver), which no other
//! test uses. They need `dig` and `nslookup` (bind9-dnsutils): without
//! them they fail in CI and say SKIPPED elsewhere.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{dnslab, repo_path, require, Process};

/// The fenced `sh` blocks of the README section headed `heading`, as
/// commands: comments stripped, blank lines dropped.
fn commands_in_section(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo_path("README.md")).expect("read README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README has a section '## {heading}'"));
    let mut commands = Vec::new();
    let mut in_block = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line.trim_start_matches('`') == "sh";
            continue;
        }
        if in_block {
            let command = line.split(" #").next().unwrap_or("").trim();
            if !command.is_empty() && !command.starts_with('#') {
                commands.push(command.to_string());
            }
        }
    }
    commands
}

/// Starts the command the README runs with `cargo run --release -- ARGS`
/// as the built binary with the same ARGS, from the repository root.
fn start_dnslab(cargo_run: &str) -> Process {
    let args = cargo_run
        .strip_prefix("cargo run --release -- ")
        .unwrap_or_else(|| panic!("'{cargo_run}' is a cargo run command"));
    Process::spawn(
        dnslab()
            .args(args.split_whitespace())
            .current_dir(repo_path(""))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// Runs one shell command from the README with a time limit; its stdout.
fn run_shell(command: &str) -> String {
    let output = Command::new("timeout")
        .args(["30", "sh", "-c", command])
        .current_dir(repo_path(""))
        .output()
        .expect("run shell command");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "README command failed: {command}\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Waits until `probe` (a dig command) gets an answer, so that the
/// commands under test are not run before the servers listen.
fn wait_until_answering(probe: &str, server: &mut Process) {
    let answered = server.poll(Duration::from_secs(30), || {
        let out = Command::new("sh")
            .args(["-c", &format!("{probe} +time=1 +tries=1")])
            .output()
            .expect("run dig");
        String::from_utf8_lossy(&out.stdout)
            .contains("status: NOERROR")
            .then_some(())
    });
    if answered.is_none() {
        if let Some(status) = server.exited() {
            panic!("dnslab exited ({status}) before answering; is the README's port in use?");
        }
        panic!("no answer to '{probe}' within 30 s");
    }
}

/// Every dig command gets NOERROR with records in the answer or, for a
/// `+norec` question to one server, in the authority section (a referral);
/// nslookup prints an address.
fn assert_dig_and_nslookup_work(commands: &[String]) -> usize {
    let mut ran = 0;
    for command in commands {
        if command.starts_with("dig ") {
            let out = run_shell(command);
            assert!(out.contains("status: NOERROR"), "{command}:\n{out}");
            let has_answer = !out.contains("ANSWER: 0,");
            let has_referral = command.contains("+norec") && !out.contains("AUTHORITY: 0,");
            assert!(has_answer || has_referral, "{command} has records:\n{out}");
            ran += 1;
        } else if command.starts_with("nslookup ") {
            let out = run_shell(command);
            assert!(
                out.lines().filter(|l| l.starts_with("Address:")).count() >= 2,
                "{command} prints the server and an address:\n{out}"
            );
            ran += 1;
        }
    }
    ran
}

/// Runs the README section `heading` as a user would: the
/// `cargo run --release -- SUBCOMMAND` line it shows, then, once the server
/// answers its first `dig`, every dig/nslookup line; at least `at_least`
/// of them must be there.
fn run_readme_example(heading: &str, subcommand: &str, at_least: usize) {
    let commands = commands_in_section(heading);
    let start = format!("cargo run --release -- {subcommand}");
    let server_command = commands
        .iter()
        .find(|c| c.starts_with(&start))
        .unwrap_or_else(|| panic!("'{heading}' runs `{start}`"));
    let mut server = start_dnslab(server_command);
    let first_dig = commands
        .iter()
        .find(|c| c.starts_with("dig "))
        .unwrap_or_else(|| panic!("'{heading}' shows a dig command"));
    wait_until_answering(first_dig, &mut server);
    let ran = assert_dig_and_nslookup_work(&commands);
    assert!(
        ran >= at_least,
        "'{heading}' shows {ran} dig/nslookup commands"
    );
}

/// The quick start: `up`, then every dig/nslookup line of the section.
#[test]
fn readme_quick_start_commands_work() {
    if require("dig", "bind9-dnsutils").is_none() || require("nslookup", "bind9-dnsutils").is_none()
    {
        return;
    }
    run_readme_example("Quick start", "up", 3);
}

/// The authoritative example: `auth` on the shipped zones, then its digs.
#[test]
fn readme_auth_example_commands_work() {
    if require("dig", "bind9-dnsutils").is_none() {
        return;
    }
    run_readme_example("The commands", "auth", 4);
}
