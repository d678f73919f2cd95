//! JSON-RPC over a byte stream with `Content-Length` framing, tolerant of bad messages.
//!
//! `lsp-server`'s own stdio transport stops at the first malformed message; this one answers
//! a message whose body is not JSON-RPC with a `ParseError` response (id `null`, as JSON-RPC
//! asks) and keeps reading. Only a broken header (the stream cannot be resynchronised) or the
//! end of input stops it. Messages are passed over unbounded channels, so the server can see
//! whether more input is already waiting (to skip re-checking a file that is about to change
//! again).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_channel::{unbounded, Receiver, Sender};
use lsp_server::{ErrorCode, Message};

/// The two ends the server uses: messages in and messages out.
pub struct Connection {
    /// Messages to send to the client.
    pub sender: Sender<Message>,
    /// Messages from the client, in order.
    pub receiver: Receiver<Message>,
}

/// The reader and writer threads of a connection.
pub struct IoThreads {
    reader: thread::JoinHandle<()>,
    writer: thread::JoinHandle<()>,
}

impl IoThreads {
    /// Waits for the writer to flush everything sent. The reader is not waited for: it may be
    /// blocked reading input that never comes.
    pub fn join(self) {
        let _ = self.writer.join();
        drop(self.reader);
    }
}

/// A connection over `input` and `output`.
pub fn connect<R, W>(input: R, output: W) -> (Connection, IoThreads)
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (to_client, outgoing) = unbounded::<Message>();
    let (incoming, from_client) = unbounded::<Message>();
    let output = Arc::new(Mutex::new(output));

    let out = Arc::clone(&output);
    let writer = thread::spawn(move || {
        for msg in outgoing {
            let Ok(mut w) = out.lock() else { return };
            if msg.write(&mut *w).is_err() {
                return;
            }
        }
    });

    let out = output;
    let reader = thread::spawn(move || {
        let mut input = BufReader::new(input);
        loop {
            let body = match read_body(&mut input) {
                Ok(Some(body)) => body,
                Ok(None) => return,
                Err(e) => {
                    eprintln!("flowc lsp: cannot read a message: {e}");
                    return;
                }
            };
            match serde_json::from_slice::<Message>(&body) {
                Ok(msg) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if incoming.send(msg).is_err() || exit {
                        return;
                    }
                }
                Err(e) => {
                    let reply = serde_json::json!({
                        "jsonrpc": "2.0",
                        "id": null,
                        "error": {
                            "code": ErrorCode::ParseError as i32,
                            "message": format!("not a JSON-RPC message: {e}"),
                        },
                    });
                    if let Ok(mut w) = out.lock() {
                        let _ = write_body(&mut *w, reply.to_string().as_bytes());
                    }
                }
            }
        }
    });
    (
        Connection {
            sender: to_client,
            receiver: from_client,
        },
        IoThreads { reader, writer },
    )
}

/// Reads one message body; `None` at the end of input.
fn read_body(r: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut length: Option<usize> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_none() {
                // Tolerate blank lines between messages.
                continue;
            }
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("bad header {header:?}"))
        })?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n = value.trim().parse::<usize>().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad length {value:?}"))
            })?;
            length = Some(n);
        }
    }
    let n = length.unwrap_or(0);
    let mut body = vec![0; n];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

fn write_body(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_and_bad_bodies_answered() {
        let good = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let input = format!(
            "Content-Length: 5\r\n\r\nnope!Content-Length: {}\r\nContent-Type: x\r\n\r\n{good}",
            good.len()
        );
        let (out_r, out_w) = std::io::pipe().expect("a pipe");
        let (conn, threads) = connect(std::io::Cursor::new(input.into_bytes()), out_w);
        let msg = conn.receiver.recv().expect("the good message");
        assert!(matches!(msg, Message::Notification(n) if n.method == "initialized"));
        drop(conn);
        threads.join();
        let mut reply = String::new();
        let mut out_r = BufReader::new(out_r);
        let body = read_body(&mut out_r).unwrap().unwrap();
        reply.push_str(std::str::from_utf8(&body).unwrap());
        assert!(reply.contains("-32700"), "{reply}");
        assert!(reply.contains("\"id\":null"), "{reply}");
    }
}
