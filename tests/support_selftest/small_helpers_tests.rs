//! Tests of the small shared helpers: `dead_port.rs`.

use crate::dead_port::dead_port;
use std::io::ErrorKind;
use std::net::TcpStream;

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
