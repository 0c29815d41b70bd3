//! The `evidex` binary: parse the command line, run the command, map the outcome to an exit
//! code, print errors once.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

// Indexing allocates and frees a token, a term or a parsed PDF object per word; glibc's malloc
// was about a sixth of all CPU in a 10k-document run (profiled), mimalloc's a fraction of it.
// The price is memory kept for reuse: 811 MiB peak over the process tree at 100k documents
// against 555 MiB with glibc limited to two arenas (the 1 GiB target holds; BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes (documented in the README).
#[repr(u8)]
enum Exit {
    /// The command completed (for `index`: even if some files could not be read).
    Ok = 0,
    /// Something failed: the message says what and what to do.
    Error = 1,
    /// The command line was wrong (clap's own code).
    Usage = 2,
    /// Another process is updating the index.
    Busy = 3,
    /// `extract` could not read a file it was given.
    NotFound = 4,
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage as u8
            } else {
                Exit::Ok as u8
            });
        }
    };
    match commands::run(cli) {
        Ok(commands::Outcome::Ok) => ExitCode::from(Exit::Ok as u8),
        Ok(commands::Outcome::NotFound) => ExitCode::from(Exit::NotFound as u8),
        Err(err) => {
            // A closed pipe (`evidex export --json | head`) is not an error.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::from(Exit::Ok as u8);
            }
            eprintln!("evidex: {err:#}");
            let busy = matches!(
                err.downcast_ref::<evidex::error::Error>(),
                Some(evidex::error::Error::Busy { .. })
            );
            ExitCode::from(if busy {
                Exit::Busy as u8
            } else {
                Exit::Error as u8
            })
        }
    }
}
