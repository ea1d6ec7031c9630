//! The tests of the test-support code in tests/support/. Those files are included by `#[path]`
//! into every binary that uses them (the end-to-end tests, the examples, `src/service_tests.rs`),
//! so tests kept inside them would run once per includer; here they run once.

#[path = "../support/ajp_backend.rs"]
mod ajp_backend;
#[path = "../support/dead_port.rs"]
mod dead_port;
#[path = "../support/listen_args.rs"]
mod listen_args;

/// `ajp_backend.rs` includes the codec; one copy of it per binary.
use ajp_backend::ajp_wire;

mod ajp_backend_tests;
mod ajp_wire_tests;
mod small_helpers_tests;
