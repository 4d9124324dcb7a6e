//! Servers below HTTP, for the faults of the protocols that are not HTTP: a TCP peer that
//! says what it is told (garbage, an HTML page, nothing at all), a scripted SMTP server that
//! refuses at a chosen step, and a port where nobody listens.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A loopback TCP server handing every connection to its handler, on its own thread.
pub struct RawServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    connections: Arc<AtomicUsize>,
}

impl RawServer {
    /// Starts on a free port; runs until the test process ends.
    pub fn start(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap().to_string();
        let handler = Arc::new(handler);
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || handler(conn));
            }
        });
        Self { addr, connections }
    }

    /// How many connections it has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Writes `bytes` on connect and closes.
    pub fn says(bytes: &'static [u8]) -> Self {
        Self::start(move |mut conn| {
            let _ = conn.write_all(bytes);
            let _ = conn.shutdown(std::net::Shutdown::Both);
        })
    }

    /// Accepts and never answers (for a minute).
    pub fn silent() -> Self {
        Self::start(|conn| {
            std::thread::sleep(Duration::from_secs(60));
            drop(conn);
        })
    }

    /// Accepts and closes at once.
    pub fn hangs_up() -> Self {
        Self::start(drop)
    }
}

/// A loopback port nobody listens on. Taken below 1024, where `bind(0)` never hands a port
/// out: a port freed by dropping a listener can be taken at once by another test's server.
pub fn closed_port() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| {
        (1..1024)
            .find(|p| {
                matches!(TcpStream::connect(("127.0.0.1", *p)),
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
            })
            .expect("a closed loopback port below 1024")
    })
}

/// An SMTP server that accepts everything except `(command, reply)`: when a client command
/// starts with `command` (`AUTH`, `MAIL`, `RCPT`, `DATA`, or `CONNECT` for the greeting) it
/// answers `reply`; a reply of `""` closes the connection instead.
pub fn smtp_refusing(command: &'static str, reply: &'static str) -> RawServer {
    RawServer::start(move |mut conn| {
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let say = |conn: &mut TcpStream, line: &str| conn.write_all(line.as_bytes()).is_ok();
        if command == "CONNECT" {
            if !reply.is_empty() {
                say(&mut conn, reply);
            }
            return;
        }
        say(&mut conn, "220 mx.example.test ESMTP ready\r\n");
        let mut in_data = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    say(&mut conn, "250 2.0.0 queued\r\n");
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            if upper.starts_with(command) {
                if reply.is_empty() || !say(&mut conn, reply) {
                    return;
                }
                continue;
            }
            let answer = match upper.get(..4).unwrap_or("") {
                "EHLO" => "250-mx.example.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
                "AUTH" => "235 2.7.0 accepted\r\n",
                "DATA" => {
                    in_data = true;
                    "354 go ahead\r\n"
                }
                "QUIT" => {
                    say(&mut conn, "221 bye\r\n");
                    return;
                }
                _ => "250 2.0.0 ok\r\n",
            };
            say(&mut conn, answer);
        }
    })
}
