//! `dnslab ctl`: the control API of a running dnslab (`up`, `resolver
//! --web`, `auth --web`) from the command line.
//!
//! Every command is one row of [`COMMANDS`]: its name, its arguments, the
//! route it calls and how the answer is shown; adding a command is adding
//! a row. Arguments become the JSON body's keys (`NAME` -> `"name"`).
//!
//! The client is a plain HTTP/1.0 request over a `std` TCP socket: the
//! server is a loopback address serving small JSON answers, so an HTTP
//! client crate (and a runtime) would buy nothing; HTTP/1.0 makes the
//! server close the connection after its answer, whose end is then the
//! end of the body (no chunked encoding to read).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value};

#[derive(clap::Args, Debug)]
#[command(after_help = commands_help())]
pub struct CtlArgs {
    /// The web address of the dnslab to control.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8053")]
    server: String,
    /// The command (see below).
    command: String,
    /// Its arguments.
    args: Vec<String>,
}

/// One command: `dnslab ctl NAME ARGS...` calls `route` with the
/// arguments as a JSON object and shows the answer.
struct Command {
    name: &'static str,
    /// Argument names; a trailing `?` makes one optional.
    args: &'static [&'static str],
    call: Call,
    show: Show,
    help: &'static str,
}

enum Call {
    Get(&'static str),
    Post(&'static str),
}

/// How an answer is printed.
#[derive(Clone, Copy)]
enum Show {
    /// The JSON, indented.
    Json,
    /// `dump-cache`: one master-file line each, with its origin.
    Cache,
    /// How many cache entries were removed.
    Removed,
    /// Each zone reloaded, its serial, and why it failed if it did.
    Reloaded,
    /// Each server's zone written back, its serial and file, or why not.
    Flushed,
}

// One row per command, kept on one line each.
#[rustfmt::skip]
const COMMANDS: &[Command] = &[
    Command { name: "status", args: &[], call: Call::Get("/api/status"), show: Show::Json, help: "what runs: version, uptime, resolver, zones, event streams" },
    Command { name: "stats", args: &[], call: Call::Get("/api/stats"), show: Show::Json, help: "the metrics as JSON (Prometheus text: GET /metrics)" },
    Command { name: "dump-cache", args: &[], call: Call::Get("/api/cache"), show: Show::Cache, help: "every cached record, TTL left and origin" },
    Command { name: "flush", args: &["NAME?", "TYPE?"], call: Call::Post("/api/flush"), show: Show::Removed, help: "the whole cache, one name, or one RRset" },
    Command { name: "flush-zone", args: &["NAME"], call: Call::Post("/api/flush-zone"), show: Show::Removed, help: "everything cached at and below NAME" },
    Command { name: "reload", args: &[], call: Call::Post("/api/reload"), show: Show::Reloaded, help: "every authoritative zone from its file" },
    Command { name: "zone-flush", args: &["NAME"], call: Call::Post("/api/zone-flush"), show: Show::Flushed, help: "zone NAME, with its updates, written back to its file" },
];

fn commands_help() -> String {
    let mut help = String::from("Commands:\n");
    for command in COMMANDS {
        let usage = format!("{} {}", command.name, command.args.join(" "));
        help.push_str(&format!("  {:<24} {}\n", usage.trim(), command.help));
    }
    help
}

/// Why a command could not be carried out, as one line.
#[derive(Debug, thiserror::Error)]
enum CtlError {
    #[error("unknown command {0:?}; try `dnslab ctl --help`")]
    Unknown(String),
    #[error("{command} takes {usage}")]
    Usage {
        command: &'static str,
        usage: String,
    },
    #[error("{0:?} is not a web address like http://127.0.0.1:8053")]
    BadServer(String),
    #[error("no dnslab answers at {server} ({source}); is `dnslab up` (or `resolver --web`, `auth --web`) running there?")]
    Unreachable {
        server: String,
        source: std::io::Error,
    },
    #[error("talking to {server}: {source}")]
    Io {
        server: String,
        source: std::io::Error,
    },
    #[error("{server} refused: {message} (HTTP {status})")]
    Refused {
        server: String,
        status: u16,
        message: String,
    },
    #[error("{server} sent an answer that is not HTTP with JSON")]
    Garbled { server: String },
    #[error("{count} zone(s) failed (see above)")]
    ZonesFailed { count: usize },
}

pub fn run(args: CtlArgs) -> ExitCode {
    match ctl(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dnslab ctl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn ctl(args: &CtlArgs) -> Result<(), CtlError> {
    let command = COMMANDS
        .iter()
        .find(|c| c.name == args.command)
        .ok_or_else(|| CtlError::Unknown(args.command.clone()))?;
    let body = arguments(command, &args.args)?;
    let (method, path, body) = match command.call {
        Call::Get(path) => ("GET", path, None),
        Call::Post(path) => ("POST", path, Some(body)),
    };
    let answer = request(&args.server, method, path, body.as_ref())?;
    match show(command.show, &answer) {
        0 => Ok(()),
        count => Err(CtlError::ZonesFailed { count }),
    }
}

/// The arguments as the JSON body: each name lowercased is a key.
fn arguments(command: &Command, given: &[String]) -> Result<Value, CtlError> {
    let required = command.args.iter().filter(|a| !a.ends_with('?')).count();
    if given.len() < required || given.len() > command.args.len() {
        let usage = match command.args {
            [] => "no arguments".to_string(),
            args => args.join(" "),
        };
        return Err(CtlError::Usage {
            command: command.name,
            usage,
        });
    }
    let mut body = Map::new();
    for (name, value) in command.args.iter().zip(given) {
        let key = name.trim_end_matches('?').to_ascii_lowercase();
        body.insert(key, Value::String(value.clone()));
    }
    Ok(Value::Object(body))
}

/// `http://HOST:PORT` (or `HOST:PORT`) as a socket address and the Host
/// header to send.
fn server_address(server: &str) -> Result<(SocketAddr, String), CtlError> {
    let bad = || CtlError::BadServer(server.to_string());
    let rest = server.strip_prefix("http://").unwrap_or(server);
    let host = rest
        .split('/')
        .next()
        .filter(|h| !h.is_empty())
        .ok_or_else(bad)?;
    let with_port = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(bad)?;
    Ok((addr, host.to_string()))
}

/// One request; the answer's JSON, or the server's refusal.
fn request(
    server: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, CtlError> {
    let (addr, host) = server_address(server)?;
    let timeout = Duration::from_secs(10);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|source| CtlError::Unreachable {
            server: server.to_string(),
            source,
        })?;
    let io = |source| CtlError::Io {
        server: server.to_string(),
        source,
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head =
        format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n");
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body.as_bytes()).map_err(io)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(io)?;
    let garbled = || CtlError::Garbled {
        server: server.to_string(),
    };
    let text = String::from_utf8(answer).map_err(|_| garbled())?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(garbled)?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(garbled)?;
    let json: Value = serde_json::from_str(body).map_err(|_| garbled())?;
    if (200..300).contains(&status) {
        return Ok(json);
    }
    let message = json["error"].as_str().unwrap_or(body).to_string();
    Err(CtlError::Refused {
        server: server.to_string(),
        status,
        message,
    })
}

/// Prints `answer` as `how` says; returns how many zones it says failed
/// (a reload or zone-flush refused), so that the exit code tells.
fn show(how: Show, answer: &Value) -> usize {
    let mut failed = 0;
    match how {
        Show::Json => println!(
            "{}",
            serde_json::to_string_pretty(answer).unwrap_or_default()
        ),
        Show::Cache => {
            let entries = answer["entries"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for entry in entries {
                let line = entry["line"].as_str().unwrap_or_default();
                let origin = entry["origin"].as_str().unwrap_or_default();
                println!("{line} ; {origin}");
            }
            println!(";; {} records", entries.len());
        }
        Show::Removed => println!("removed {} entries", answer["removed"]),
        Show::Reloaded | Show::Flushed => {
            for zone in answer["zones"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let (server, name, serial) = (&zone["server"], &zone["zone"], &zone["serial"]);
                let server = server.as_str().unwrap_or_default();
                let name = name.as_str().unwrap_or_default();
                failed += usize::from(zone["error"].is_string());
                match (zone["error"].as_str(), how) {
                    (Some(error), Show::Flushed) => {
                        println!("{server} {name}: NOT written: {error}")
                    }
                    (Some(error), _) => {
                        println!("{server} {name} serial {serial}: NOT reloaded: {error}")
                    }
                    (None, Show::Flushed) => {
                        let file = zone["file"].as_str().unwrap_or_default();
                        println!("{server} {name} serial {serial} written to {file}")
                    }
                    (None, _) => println!("{server} {name} serial {serial}"),
                }
            }
        }
    }
    failed
}
