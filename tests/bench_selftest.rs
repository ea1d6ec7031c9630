//! The benchmark's own unit tests (tests/bench/test_bench.py: config generation, table and
//! target arithmetic), run by `cargo test` so CI keeps them green. Needs python3 (standard library).

use std::process::Command;

#[test]
fn benchmark_scripts_pass_their_unit_tests() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bench");
    let out = Command::new("python3")
        .args([
            "-B",
            "-m",
            "unittest",
            "discover",
            "-s",
            dir,
            "-p",
            "test_*.py",
        ])
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "benchmark unit tests failed:\n{text}");
    assert!(
        text.contains("Ran ") && !text.contains("Ran 0 tests"),
        "no benchmark test ran:\n{text}"
    );
}
