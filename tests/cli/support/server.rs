//! A loopback HTTP server that answers like the real APIs from recorded fixtures, and can
//! misbehave on purpose: slow answers, cut-off bodies, HTML error pages, throttling.
//! Shared by the integration tests and `examples/demo.rs`; built on `std::net` alone.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`.
    pub method: String,
    /// Path and query.
    pub url: String,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Recorded {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or("")
    }

    /// The query pairs, undecoded.
    pub fn query(&self) -> Vec<(String, String)> {
        self.url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How to answer.
#[derive(Clone)]
pub enum Reply {
    /// A status, headers and a body.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Promise `declared` bytes, send `body`, close the connection.
    Truncated { declared: usize, body: String },
    /// Wait, then answer.
    Slow(Duration, Box<Reply>),
    /// Computed from the request.
    With(Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>),
    /// `200` with a download: `application/octet-stream`.
    Bytes(Arc<Vec<u8>>),
}

impl Reply {
    /// `application/json` with `status`.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply::Full {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.into(),
        }
    }

    /// `text/html` with `status`.
    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Reply::Full {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn header(self, name: &str, value: &str) -> Self {
        match self {
            Reply::Full {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Full {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// Answers requests whose method and path match, in turn: the n-th hit gets the n-th reply,
/// and the last reply repeats.
pub struct Route {
    method: String,
    path: String,
    query: Vec<String>,
    replies: Vec<Reply>,
    hits: AtomicUsize,
    /// A route a test may leave unasked (a spare of a shared world).
    optional: bool,
}

impl Route {
    /// A route for `GET path`.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// A route for every request, whatever its method and path.
    pub fn any() -> Self {
        Self::new("*", "*")
    }

    /// A route for `POST path`.
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    /// A route for `PATCH path`.
    pub fn patch(path: &str) -> Self {
        Self::new("PATCH", path)
    }

    fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            replies: Vec::new(),
            hits: AtomicUsize::new(0),
            optional: false,
        }
    }

    /// A route the test may leave unasked: a spare of a shared world, or what a run must
    /// not ask (checked by the test itself).
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    fn describe(&self) -> String {
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.query.join(" "))
        };
        format!("{} {}{query}", self.method, self.path)
    }

    /// Only requests whose query contains `part` (e.g. `status=success`).
    pub fn query(mut self, part: &str) -> Self {
        self.query.push(part.into());
        self
    }

    /// Whether this route answers `path`.
    pub fn is_for(&self, path: &str) -> bool {
        self.path == path
    }

    /// Only requests whose query lacks `status=` (the "any status" list).
    pub fn any_status(self) -> Self {
        self.query("!status=")
    }

    /// The next reply.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.replies.push(reply);
        self
    }

    fn matches(&self, r: &Recorded) -> bool {
        let q = r.url.split_once('?').map(|(_, q)| q).unwrap_or("");
        if self.method == "*" {
            return true;
        }
        r.method == self.method
            && r.path() == self.path
            && self.query.iter().all(|part| match part.strip_prefix('!') {
                Some(absent) => !q.contains(absent),
                None => q.contains(part.as_str()),
            })
    }

    fn next(&self) -> Reply {
        let n = self.hits.fetch_add(1, Ordering::SeqCst);
        self.replies[n.min(self.replies.len() - 1)].clone()
    }
}

/// The server. By default each connection carries one request and is closed after the
/// answer, which lets a reply cut a body short the way a dying proxy does (tiny_http keeps
/// connections open, so it cannot). It stops accepting when dropped.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    routes: Arc<Vec<Route>>,
    /// Whether dropping it fails on routes no request reached (a test's server).
    strict: bool,
}

/// How connections are served.
#[derive(Clone, Copy)]
struct Mode {
    /// Added before every answer, as a distant API's round trip.
    latency: Duration,
    /// Keep the connection open for the next request, as real APIs do.
    keep_alive: bool,
    /// A test's server: every route not marked optional must be asked.
    strict: bool,
}

impl FakeServer {
    /// Starts on a free loopback port. Unmatched requests get GitHub's 404 body.
    /// Dropped, it fails on any route no request reached that is not `optional`.
    pub fn start(routes: Vec<Route>) -> Self {
        Self::launch(
            routes,
            Mode {
                latency: Duration::ZERO,
                keep_alive: false,
                strict: true,
            },
        )
    }

    /// A world played for the demo: like [`start`](Self::start), but a scene may leave
    /// routes unasked.
    pub fn scene(routes: Vec<Route>) -> Self {
        Self::launch(
            routes,
            Mode {
                latency: Duration::ZERO,
                keep_alive: false,
                strict: false,
            },
        )
    }

    /// Like a distant API, for the benchmark: every answer comes `latency` after its request
    /// and connections stay open for the next one (HTTP/1.1 keep-alive).
    pub fn with_latency(routes: Vec<Route>, latency: Duration) -> Self {
        Self::launch(
            routes,
            Mode {
                latency,
                keep_alive: true,
                strict: false,
            },
        )
    }

    fn launch(routes: Vec<Route>, mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let routes = Arc::new(routes);
        let served = Arc::clone(&routes);
        let (log, halt) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (routes, log) = (Arc::clone(&served), Arc::clone(&log));
                // One thread per connection, so a slow answer does not hold the others.
                std::thread::spawn(move || serve(conn, &routes, &log, mode));
            }
        });
        Self {
            url,
            requests,
            stop,
            routes,
            strict: mode.strict,
        }
    }

    /// The routes no request reached that the test did not mark optional: a world that
    /// says more than the test needs, or a request the run should have made and did not.
    pub fn unused(&self) -> Vec<String> {
        self.routes
            .iter()
            .filter(|r| !r.optional && r.hits.load(Ordering::SeqCst) == 0)
            .map(Route::describe)
            .collect()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// How many requests had this path.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        let unused = self.unused();
        if self.strict && !unused.is_empty() && !std::thread::panicking() {
            panic!("routes no request reached (mark spares `.optional()`): {unused:#?}");
        }
    }
}

fn serve(mut conn: TcpStream, routes: &[Route], log: &Mutex<Vec<Recorded>>, mode: Mode) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    loop {
        let Some(rec) = read_request(&mut reader) else {
            return;
        };
        log.lock().unwrap().push(rec.clone());
        let reply = routes.iter().find(|r| r.matches(&rec)).map(Route::next).unwrap_or_else(|| {
            Reply::json(404, r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#)
        });
        std::thread::sleep(mode.latency);
        let open = answer(&mut conn, &rec, reply, mode.keep_alive);
        if !open {
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let url = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        url,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Writes the answer in one piece; true when the connection stays open for another request.
fn answer(conn: &mut TcpStream, rec: &Recorded, reply: Reply, keep_alive: bool) -> bool {
    let (bytes, open) = match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (k, v) in &headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let connection = if keep_alive { "keep-alive" } else { "close" };
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
                body.len()
            ));
            ([head.into_bytes(), body.into_bytes()].concat(), keep_alive)
        }
        Reply::Bytes(body) => {
            let connection = if keep_alive { "keep-alive" } else { "close" };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
                body.len()
            );
            ([head.as_bytes(), &body[..]].concat(), keep_alive)
        }
        Reply::Truncated { declared, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            ([head.into_bytes(), body.into_bytes()].concat(), false)
        }
        Reply::Slow(wait, inner) => {
            std::thread::sleep(wait);
            return answer(conn, rec, *inner, keep_alive);
        }
        Reply::With(f) => {
            let next = f(rec);
            return answer(conn, rec, next, keep_alive);
        }
    };
    conn.write_all(&bytes).is_ok() && conn.flush().is_ok() && open
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Reads `fixtures/<path>`.
pub fn fixture(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

/// A Postmark `/email/batch` that accepts every message, answering as Postmark does: one
/// entry per message, in order. `refuse` names recipients-side failures by index.
pub fn postmark_batch(refuse: &'static [(usize, i64, &'static str)]) -> Reply {
    Reply::With(Arc::new(move |rec: &Recorded| {
        let messages: Vec<serde_json::Value> = serde_json::from_str(&rec.body).unwrap_or_default();
        let answers: Vec<serde_json::Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| match refuse.iter().find(|(n, _, _)| *n == i) {
                Some((_, code, msg)) => serde_json::json!({"ErrorCode": code, "Message": msg}),
                None => serde_json::json!({
                    "ErrorCode": 0,
                    "Message": "OK",
                    "MessageID": format!("b7bc2f4a-e38e-4336-af7d-e6c39{i:07}"),
                    "SubmittedAt": "2026-05-23T02:30:01.0000000-04:00",
                    "To": m["To"],
                }),
            })
            .collect();
        Reply::json(200, serde_json::to_string(&answers).unwrap())
    }))
}
