//! `ajp-backend`: runs the test AJP13 backend (tests/support/ajp_backend.rs) as a stand-alone
//! Tomcat stand-in for the README demo and manual experiments.
//!
//! `ajp-backend --port 8009 [--host 127.0.0.1] [--name tomcatA] [--secret S] [--max-packet N]
//! [--request-log FILE]` prints `listening on HOST:PORT as NAME` and serves until killed.
//! `--request-log` appends a line per request received whole (see `BackendOptions::request_log`).

// Built as a test target the harness supplies main, leaving ours and its helpers unused.
#![cfg_attr(test, allow(dead_code))]

#[path = "ajp_backend.rs"]
mod ajp_backend;
#[path = "listen_args.rs"]
mod listen_args;

use ajp_backend::{AjpBackend, BackendOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str =
    "usage: ajp-backend --port PORT [--host 127.0.0.1] [--name tomcatA] [--secret S] [--max-packet 8192] [--request-log FILE]";

struct Arguments {
    address: SocketAddr,
    name: String,
    options: BackendOptions,
}

fn parse_arguments(args: impl IntoIterator<Item = String>) -> Result<Arguments, String> {
    let parsed = listen_args::parse_listen_args(
        args,
        USAGE,
        &["--secret", "--max-packet", "--request-log"],
    )?;
    let mut options = BackendOptions::default();
    for (flag, value) in parsed.extra {
        match flag.as_str() {
            "--secret" => options.required_secret = Some(value),
            "--request-log" => options.request_log = Some(value.into()),
            _ => {
                // --max-packet, the only other flag asked for.
                options.max_packet = value
                    .parse()
                    .map_err(|_| format!("bad max packet {value:?}"))?
            }
        }
    }
    Ok(Arguments {
        address: parsed.address,
        name: parsed.name,
        options,
    })
}

fn main() -> ExitCode {
    let arguments = match parse_arguments(std::env::args().skip(1)) {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let backend = match AjpBackend::start_on(arguments.address, &arguments.name, arguments.options)
    {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!(
                "ajp-backend: cannot start on {}: {error}",
                arguments.address
            );
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {} as {}", backend.addr(), backend.name());
    let _ = std::io::stdout().flush();
    // Serve until killed; SIGTERM/SIGINT's default action ends the process.
    loop {
        std::thread::park();
    }
}
