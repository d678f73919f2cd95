//! `flowc lsp` as an editor runs it: the real binary, JSON-RPC over its standard input and
//! output. The scenarios live with the language server (`lsp/tests/client`), which also runs
//! them in process.

#[path = "../../lsp/tests/client/mod.rs"]
mod client;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client::Client;

fn spawn() -> (Client, Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("flowc starts");
    let stdin = child.stdin.take().expect("a stdin pipe");
    let stdout = child.stdout.take().expect("a stdout pipe");
    (Client::new(stdin, stdout), child)
}

/// Waits for the process to exit by itself, and returns its exit code.
fn exit_code(mut child: Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("the process can be waited for") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("flowc lsp did not exit after `exit`");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_editor_session_with_the_real_binary() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut c, child) = spawn();
    client::session(&mut c, dir.path());
    assert_eq!(exit_code(child), Some(0));
}

#[test]
fn the_real_binary_answers_a_thousand_random_edits() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut c, child) = spawn();
    let took = client::random_edits(&mut c, dir.path(), 1000, 0xF10C);
    eprintln!("1000 random edits and requests in {took:?}");
    assert_eq!(exit_code(child), Some(0));
}
