//! `ajp-backend`: runs the test AJP13 backend (tests/support/ajp_backend.rs) as a stand-alone
//! Tomcat stand-in for the README demo and manual experiments.
//!
//! `ajp-backend --port 8009 [--host 127.0.0.1] [--name tomcatA] [--secret S] [--max-packet N]`
//! prints `listening on HOST:PORT as NAME` and serves until killed.

// Built as a test target the harness supplies main, leaving ours and its helpers unused.
#![cfg_attr(test, allow(dead_code))]

#[path = "ajp_backend.rs"]
mod ajp_backend;

use ajp_backend::{AjpBackend, BackendOptions};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

const USAGE: &str =
    "usage: ajp-backend --port PORT [--host 127.0.0.1] [--name tomcatA] [--secret S] [--max-packet 8192]";

struct Arguments {
    address: SocketAddr,
    name: String,
    options: BackendOptions,
}

fn parse_arguments(args: impl IntoIterator<Item = String>) -> Result<Arguments, String> {
    let mut host: IpAddr = [127, 0, 0, 1].into();
    let mut port: Option<u16> = None;
    let mut name = "tomcatA".to_string();
    let mut options = BackendOptions::default();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--port" => port = Some(value.parse().map_err(|_| format!("bad port {value:?}"))?),
            "--host" => {
                host = value
                    .parse()
                    .map_err(|_| format!("bad host {value:?} (an IP address)"))?
            }
            "--name" => name = value,
            "--secret" => options.required_secret = Some(value),
            "--max-packet" => {
                options.max_packet = value
                    .parse()
                    .map_err(|_| format!("bad max packet {value:?}"))?
            }
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    let port = port.ok_or_else(|| format!("--port is required\n{USAGE}"))?;
    Ok(Arguments {
        address: SocketAddr::new(host, port),
        name,
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
