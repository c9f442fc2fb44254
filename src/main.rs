//! `dnslab`: one binary, glue over the library crates. Each subcommand lives
//! in `cmd/<name>.rs` with its clap arguments and turns them into a library
//! call; nothing below `cmd` knows about clap.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// mimalloc instead of glibc's malloc. A resolver cache miss allocates and
/// frees a few hundred small objects (decoded messages, names, records,
/// tasks) and some larger ones; with glibc each larger allocation also
/// consolidates the small free lists, and the per-thread heap grows and
/// shrinks with `mprotect`, several percent of the resolver's CPU on the
/// lab's miss benchmark (figures in bench/README.md). The libraries leave
/// the choice to the binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "dnslab",
    version,
    about = "See and run the DNS: authoritative server, resolver, and a whole hierarchy on localhost"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve zones from master files, authoritatively.
    Auth(cmd::auth::AuthArgs),
    /// Check master files as named-checkzone does.
    Check(cmd::check::CheckArgs),
    /// Control a running dnslab over its web port (status, flush, reload...).
    Ctl(cmd::ctl::CtlArgs),
    /// Run the recursive resolver.
    Resolver(cmd::resolver::ResolverArgs),
    /// Resolve one name from the root, printing every step.
    Trace(cmd::trace::TraceArgs),
    /// Start a whole DNS hierarchy on localhost.
    Up(cmd::up::UpArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `auth` starts its logging once its configuration is read: the
    // file's `log_queries` turns the query lines on as the flag does.
    if !matches!(cli.command, Command::Auth(_)) {
        cmd::init_logging(&[]);
    }
    match cli.command {
        Command::Auth(args) => cmd::auth::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Ctl(args) => cmd::ctl::run(args),
        Command::Resolver(args) => cmd::resolver::run(args),
        Command::Trace(args) => cmd::trace::run(args),
        Command::Up(args) => cmd::up::run(args),
    }
}
