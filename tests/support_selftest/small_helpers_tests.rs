//! Tests of the small shared helpers: `listen_args.rs` and `dead_port.rs`.

use crate::dead_port::dead_port;
use crate::listen_args::{parse_listen_args, ListenArgs};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};

const USAGE: &str = "usage: test --port PORT";

fn parse(args: &[&str], extra_flags: &[&str]) -> Result<ListenArgs, String> {
    parse_listen_args(args.iter().map(|a| a.to_string()), USAGE, extra_flags)
}

#[test]
fn port_alone_listens_on_loopback_as_tomcat_a() {
    let parsed = parse(&["--port", "8009"], &[]).unwrap();
    assert_eq!(parsed.address, SocketAddr::from(([127, 0, 0, 1], 8009)));
    assert_eq!(parsed.name, "tomcatA");
    assert!(parsed.extra.is_empty());
}

#[test]
fn host_name_and_extra_flags_are_taken_in_order() {
    let parsed = parse(
        &[
            "--secret", "s", "--host", "::1", "--name", "tomcatB", "--port", "1", "--secret", "t",
        ],
        &["--secret"],
    )
    .unwrap();
    assert_eq!(parsed.address, "[::1]:1".parse::<SocketAddr>().unwrap());
    assert_eq!(parsed.name, "tomcatB");
    let extra: Vec<(&str, &str)> = parsed
        .extra
        .iter()
        .map(|(f, v)| (f.as_str(), v.as_str()))
        .collect();
    assert_eq!(extra, [("--secret", "s"), ("--secret", "t")]);
}

#[test]
fn bad_command_lines_say_why() {
    let cases: [(&[&str], &str); 7] = [
        (&["--name", "x"], "--port is required\nusage: "),
        (&["--port"], "--port needs a value\nusage: "),
        (&["--port", "http"], "bad port \"http\""),
        (&["--port", "70000"], "bad port \"70000\""),
        (
            &["--port", "1", "--host", "localhost"],
            "bad host \"localhost\"",
        ),
        (
            &["--port", "1", "--secret", "s"],
            "unknown argument --secret\nusage: ",
        ),
        (&["--port", "1", "-h"], USAGE),
    ];
    for (args, expected) in cases {
        match parse(args, &[]) {
            Ok(parsed) => panic!("{args:?} accepted as {parsed:?}"),
            Err(message) => assert!(
                message.starts_with(expected),
                "{args:?}: {message:?} does not start with {expected:?}"
            ),
        }
    }
}

#[test]
fn dead_port_refuses_connections_and_is_never_handed_out_twice() {
    let (first, second) = (dead_port(), dead_port());
    assert_ne!(first, second);
    for port in [first, second] {
        let refused = TcpStream::connect(("127.0.0.1", port)).map(|_| ());
        assert_eq!(
            refused.map_err(|e| e.kind()),
            Err(ErrorKind::ConnectionRefused)
        );
    }
}
