//! A loopback port that refuses connections, for tests of an unreachable backend. Shared by the
//! end-to-end tests (through `e2e_common.rs`) and the unit tests of `src/service.rs`
//! (`#[path = "../tests/support/dead_port.rs"]`); its test is in
//! `tests/support_selftest/small_helpers_tests.rs`.

#![allow(dead_code)]

use socket2::{Domain, Socket, Type};
use std::net::SocketAddr;
use std::sync::Mutex;

/// A loopback port where nothing listens and nothing else can: a socket stays bound to it
/// without listening (connections are refused at once) until the test process exits. A port
/// that was merely free a moment ago could be taken by a parallel test's listener meanwhile.
pub fn dead_port() -> u16 {
    static HELD: Mutex<Vec<Socket>> = Mutex::new(Vec::new());
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind a loopback port");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .expect("bound port");
    HELD.lock().unwrap_or_else(|e| e.into_inner()).push(socket);
    port
}
