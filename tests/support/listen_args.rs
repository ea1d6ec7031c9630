//! The command line both stand-alone AJP13 containers take: `--port PORT [--host 127.0.0.1]
//! [--name tomcatA]`, plus whatever flags with a value the caller adds (`--secret S`). Shared by
//! `ajp-backend` (tests/support/ajp_backend_cli.rs) and `ajp-responder`
//! (tests/bench/ajp_responder.rs); standard library only. Its tests are in
//! `tests/support_selftest/small_helpers_tests.rs`.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenArgs {
    pub address: SocketAddr,
    pub name: String,
    /// The caller's own flags with their values, in command-line order.
    pub extra: Vec<(String, String)>,
}

/// Parses the arguments after the program name. Every flag takes a value; `extra_flags` are
/// accepted besides `--port`, `--host` and `--name`. `--help`/`-h`, an unknown flag or a missing
/// `--port` give an error message that ends with `usage`.
pub fn parse_listen_args(
    args: impl IntoIterator<Item = String>,
    usage: &str,
    extra_flags: &[&str],
) -> Result<ListenArgs, String> {
    let mut host: IpAddr = Ipv4Addr::LOCALHOST.into();
    let mut port: Option<u16> = None;
    let mut name = "tomcatA".to_string();
    let mut extra = Vec::new();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(usage.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{usage}"))?;
        match flag.as_str() {
            "--port" => port = Some(value.parse().map_err(|_| format!("bad port {value:?}"))?),
            "--host" => {
                host = value
                    .parse()
                    .map_err(|_| format!("bad host {value:?} (an IP address)"))?
            }
            "--name" => name = value,
            _ if extra_flags.contains(&flag.as_str()) => extra.push((flag, value)),
            _ => return Err(format!("unknown argument {flag}\n{usage}")),
        }
    }
    let port = port.ok_or_else(|| format!("--port is required\n{usage}"))?;
    Ok(ListenArgs {
        address: SocketAddr::new(host, port),
        name,
        extra,
    })
}
