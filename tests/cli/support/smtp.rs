//! A real SMTP server for the tests: aiosmtpd from PyPI (in a virtual environment the tests
//! make), saving what it receives to a Maildir the test reads back.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running aiosmtpd; killed when dropped.
pub struct SmtpSink {
    /// `smtp://127.0.0.1:PORT`.
    pub url: String,
    maildir: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port and waits until it accepts connections.
    pub fn start(dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = dir.join("maildir");
        let child = Command::new(super::tools::aiosmtpd_python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            maildir,
            child,
        }
    }

    /// The messages delivered so far, as raw RFC 5322 text.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
