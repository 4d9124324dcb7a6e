//! Stoplight Prism serving a vendor's own API description (`fixtures/apis/`) on loopback:
//! it answers as the description says and logs every request that breaks it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `prism mock`, stopped when dropped.
pub struct Prism {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    log: PathBuf,
}

/// A vendor's description, from `fixtures/apis/`.
pub fn api_description(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apis")
        .join(name)
}

impl Prism {
    /// Serves `description` (a file of `shared/apis/`).
    pub fn serve(description: &str) -> Self {
        let bin = super::tools::prism();
        let spec = api_description(description);
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap();
            let log = super::scratch::path(&format!("prism-{port}.log"));
            let child = Command::new(&bin)
                .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
                .arg(&spec)
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(Stdio::null())
                .spawn()
                .expect("start prism");
            let mut prism = Self {
                url: format!("http://127.0.0.1:{port}"),
                child,
                log,
            };
            if prism.wait_listening() {
                return prism;
            }
        }
        panic!("Prism did not start on any of five ports");
    }

    fn wait_listening(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if self.log().contains("Prism is listening") {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// What Prism logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The requests Prism received, as `method path` (its log's "Request received" lines).
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("Request received"))
            .filter_map(|l| {
                let rest = l.split("[HTTP SERVER]").nth(1)?;
                Some(rest.split('ℹ').next()?.trim().to_string())
            })
            .collect()
    }

    /// Every "Violation: request …" Prism logged: a request the description does not allow.
    pub fn request_violations(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("Violation: request"))
            .map(|l| l.trim().to_string())
            .collect()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
