//! The process's stdin and stdout around rmcp's line transport.
//!
//! rmcp reads newline-delimited JSON and, by design, ignores a line that is not
//! JSON at all (rust-sdk#938: no id to answer, risk of an error storm). JSON-RPC
//! 2.0 asks for a `-32700 Parse error` response with a null id, and a client
//! that sent a broken line should learn that rather than wait forever, so lines
//! pass through here first:
//!
//! - a line that parses as JSON goes on to rmcp unchanged;
//! - a line that does not is answered with `-32700` (`id: null`);
//! - a line longer than [`MAX_LINE`] is dropped whole and answered with
//!   `-32600 Invalid Request` (`id: null`); memory stays bounded;
//! - blank lines are skipped.
//!
//! Output: rmcp's lines and these error lines are written whole, one writer,
//! flushed after each, so two never interleave and nothing else reaches stdout.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The longest request line accepted (a tool call with a large note is far below).
pub const MAX_LINE: usize = 4 << 20;

/// What rmcp serves on: the read half gets the client's valid lines, the write
/// half's lines go to stdout.
pub type Transport = (tokio::io::DuplexStream, tokio::io::DuplexStream);

/// The output side, to flush before exiting.
pub struct Writer {
    done: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Wait (briefly) for everything already produced to reach stdout.
    pub async fn flush_and_close(self) {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), self.done).await;
    }
}

pub struct Stdio {
    pub transport: Transport,
    pub writer: Writer,
}

fn error_line(code: i32, message: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": code, "message": message},
    });
    let mut line = serde_json::to_vec(&v).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Is `line` JSON at all? (Shape errors are rmcp's to answer.)
fn is_json(line: &[u8]) -> Result<(), String> {
    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// What one read of a line produced.
enum Line {
    Data(Vec<u8>),
    TooLong,
    Eof,
}

async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let mut too_long = false;
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if buf.is_empty() {
                Line::Eof
            } else {
                Line::Data(buf)
            });
        }
        let (take, end) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > MAX_LINE + 1 {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(chunk.get(..take).unwrap_or_default());
            }
        }
        r.consume(take);
        if end {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Data(buf)
            });
        }
    }
}

impl Stdio {
    pub fn start<R, W>(input: R, output: W) -> Stdio
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (mut to_rmcp, rmcp_in) = tokio::io::duplex(1 << 16);
        let (rmcp_out, from_rmcp) = tokio::io::duplex(1 << 16);
        let (err_tx, mut err_rx) = mpsc::unbounded_channel::<Vec<u8>>();

        // stdin -> rmcp (or an error line). Dropping `to_rmcp` is rmcp's EOF.
        tokio::spawn(async move {
            let mut r = BufReader::new(input);
            loop {
                let line = match read_line(&mut r).await {
                    Ok(Line::Eof) | Err(_) => break,
                    Ok(Line::TooLong) => {
                        let _ = err_tx.send(error_line(
                            -32600,
                            &format!("Invalid Request: line longer than {MAX_LINE} bytes"),
                        ));
                        continue;
                    }
                    Ok(Line::Data(l)) => l,
                };
                let body = line.trim_ascii();
                if body.is_empty() {
                    continue;
                }
                if let Err(e) = is_json(body) {
                    let _ = err_tx.send(error_line(-32700, &format!("Parse error: {e}")));
                    continue;
                }
                if to_rmcp.write_all(&line).await.is_err() {
                    break;
                }
                if !line.ends_with(b"\n") && to_rmcp.write_all(b"\n").await.is_err() {
                    break;
                }
            }
            let _ = to_rmcp.shutdown().await;
        });

        // rmcp + error lines -> stdout, whole lines only.
        let done = tokio::spawn(async move {
            let mut out = output;
            let mut rmcp_lines = BufReader::new(from_rmcp);
            let mut rmcp_open = true;
            let mut errs_open = true;
            while rmcp_open || errs_open {
                let mut line = Vec::new();
                tokio::select! {
                    n = rmcp_lines.read_until(b'\n', &mut line), if rmcp_open => {
                        match n {
                            Ok(0) | Err(_) => { rmcp_open = false; continue; }
                            Ok(_) => {}
                        }
                    }
                    e = err_rx.recv(), if errs_open => match e {
                        Some(l) => line = l,
                        None => { errs_open = false; continue; }
                    },
                }
                if out.write_all(&line).await.is_err() || out.flush().await.is_err() {
                    break;
                }
            }
        });
        Stdio {
            transport: (rmcp_in, rmcp_out),
            writer: Writer { done },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_check_separates_syntax_from_shape() {
        assert!(is_json(br#"{"jsonrpc":"2.0"}"#).is_ok());
        assert!(is_json(b"[1,2]").is_ok());
        assert!(is_json(b"{not json").is_err());
        assert!(is_json(b"\xff\xfe").is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn long_lines_are_dropped_whole() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.push(b'\n');
        input.extend_from_slice(b"{}\n");
        let mut r = BufReader::new(&input[..]);
        assert!(matches!(read_line(&mut r).await, Ok(Line::TooLong)));
        match read_line(&mut r).await {
            Ok(Line::Data(l)) => assert_eq!(l, b"{}\n"),
            _ => panic!("the next line is read intact"),
        }
        assert!(matches!(read_line(&mut r).await, Ok(Line::Eof)));
    }
}
