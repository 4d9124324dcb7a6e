//! Reading GitHub as a GitHub App: a JWT signed with the App's key (checked here against the
//! key's public half and GitHub's claim rules), the owner's installation found, a token
//! minted and sent on every read, minted again near its expiry, and none of it in any output.

use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use chrono::{Duration as Span, Utc};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use super::*;

const CLIENT_ID: &str = "Iv23liTESTCLIENT01";
const INSTALLATION: &str = "/orgs/raxx-app/installation";
const USER_INSTALLATION: &str = "/users/raxx-app/installation";
const MINT: &str = "/app/installations/48211593/access_tokens";

/// A key made for this test process: GitHub's PKCS#1 PEM, the same key in PKCS#8, and the
/// public key (PKCS#1 DER) the fake verifies with.
struct Key {
    pkcs1: String,
    pkcs8: String,
    public: Vec<u8>,
}

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = scratch("github-app-key");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "pkcs8.pem",
        ]);
        openssl(&[
            "rsa",
            "-in",
            "pkcs8.pem",
            "-traditional",
            "-out",
            "pkcs1.pem",
        ]);
        openssl(&[
            "rsa",
            "-in",
            "pkcs8.pem",
            "-RSAPublicKey_out",
            "-outform",
            "DER",
            "-out",
            "public.der",
        ]);
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let key = Key {
            pkcs1: String::from_utf8(read("pkcs1.pem")).unwrap(),
            pkcs8: String::from_utf8(read("pkcs8.pem")).unwrap(),
            public: read("public.der"),
        };
        assert!(key.pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(key.pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
        key
    })
}

/// An installation token as GitHub's may be: a JWT of ~520 characters.
fn token(n: u8) -> String {
    let body = format!("{n}").repeat(250);
    format!("eyJhbGciOiJSUzI1NiJ9.{body}SECRET.{body}")
}

/// What the fake saw of the App's JWTs: every one, and every problem with one.
#[derive(Default)]
struct Seen {
    jwts: Vec<String>,
    problems: Vec<String>,
}

/// Checks `req`'s JWT: RS256, signed by the test key, `iss` the App, `iat` in the past and
/// `exp` at most 10 minutes after it and still ahead.
fn verify(req: &Recorded, iss: &str, seen: &Mutex<Seen>) -> bool {
    let mut seen = seen.lock().unwrap();
    let Some(jwt) = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    else {
        seen.problems.push(format!("{}: no bearer", req.url));
        return false;
    };
    seen.jwts.push(jwt.to_string());
    let parts: Vec<&str> = jwt.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let problem = (|| -> Result<(), String> {
        let [header, claims, sig] = parts[..] else {
            return Err("not three parts".into());
        };
        let sig = b64.decode(sig).map_err(|e| e.to_string())?;
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key().public)
            .verify(format!("{header}.{claims}").as_bytes(), &sig)
            .map_err(|_| "the RS256 signature does not verify".to_string())?;
        let header: Value = serde_json::from_slice(&b64.decode(header).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&b64.decode(claims).unwrap()).unwrap();
        if header["alg"] != "RS256" {
            return Err(format!("header {header}"));
        }
        let now = Utc::now().timestamp();
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        if claims["iss"] != iss {
            return Err(format!("iss {}", claims["iss"]));
        }
        if !(now - 120..=now - 30).contains(&iat) || exp <= now || exp - iat > 600 {
            return Err(format!("iat {iat} exp {exp} at {now}"));
        }
        Ok(())
    })();
    match problem {
        Ok(()) => true,
        Err(p) => {
            seen.problems.push(format!("{}: {p}", req.url));
            false
        }
    }
}

/// Answers `ok` to a request with a valid JWT, 401 to any other.
fn as_app(iss: &'static str, seen: &Arc<Mutex<Seen>>, ok: Vec<Reply>) -> Reply {
    let (seen, ok) = (Arc::clone(seen), Arc::new(ok));
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Reply::With(Arc::new(move |req: &Recorded| {
        if !verify(req, iss, &seen) {
            return Reply::json(401, fixture("github/error-401.json"));
        }
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ok[i.min(ok.len() - 1)].clone()
    }))
}

/// The token answer: `token`, expiring `minutes` from now.
fn minted(token: &str, minutes: i64) -> Reply {
    let at = (Utc::now() + Span::minutes(minutes)).format("%Y-%m-%dT%H:%M:%SZ");
    Reply::json(
        201,
        fixture("github/app-access-token.json")
            .replace("TOKEN", token)
            .replace("EXPIRES_AT", &at.to_string()),
    )
}

fn installed() -> Reply {
    Reply::json(200, fixture("github/app-installation.json"))
}

/// GitHub answering every read of the two healthy heartbeats.
fn healthy() -> Vec<Route> {
    vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        success(TRACE, "github/runs-success-fresh.json"),
        Route::get(&contents_path(TRACE)).reply(Reply::json(
            200,
            contents_body(TRACE, "on:\n  schedule:\n    - cron: '0 3 * * 5'\n"),
        )),
        private_repo(),
        postmark_ok(),
    ]
}

/// The usual configuration, reading as the App named by `line`.
fn config(line: &str) -> String {
    CONFIG.replace("[github]\n", &format!("[github]\n{line}\n"))
}

/// The reads of the repository (not the App's own calls), each with its bearer.
fn reads(server: &FakeServer) -> Vec<(String, String)> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path().starts_with("/repos/"))
        .map(|r| {
            let bearer = r.header("authorization").unwrap_or_default();
            (r.url.clone(), bearer.to_string())
        })
        .collect()
}

/// Nothing secret of the App in `run`'s outputs: no line of the key, no JWT, no token.
fn assert_nothing_of_the_app(run: &Run, seen: &Seen, tokens: &[String]) {
    let result = std::fs::read_to_string(run.dir.join("heartbeat_result.json")).unwrap_or_default();
    let key_lines = key()
        .pkcs1
        .lines()
        .chain(key().pkcs8.lines())
        .filter(|l| !l.starts_with("-----"))
        .map(String::from);
    let secrets: Vec<String> = key_lines
        .chain(seen.jwts.iter().cloned())
        .chain(tokens.iter().cloned())
        .collect();
    for (what, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("result file", &result),
    ] {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} holds {s}:\n{text}");
        }
    }
}

#[test]
fn with_a_github_token_too_the_app_reads_github_with_the_installation_token_it_minted() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut routes = healthy();
    routes.push(Route::get(INSTALLATION).reply(as_app(CLIENT_ID, &seen, vec![installed()])));
    routes.push(Route::post(MINT).reply(as_app(CLIENT_ID, &seen, vec![minted(&token(1), 60)])));
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server)
        .config(&config(&format!("app_client_id = \"{CLIENT_ID}\"")))
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs1)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let seen = seen.lock().unwrap();
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert_eq!(
        server.hits(INSTALLATION),
        1,
        "the installation is found once"
    );
    assert_eq!(server.hits(MINT), 1, "one token for the run");
    let reads = reads(&server);
    assert!(reads.len() >= 4, "{reads:?}");
    for (url, bearer) in &reads {
        assert_eq!(*bearer, format!("Bearer {}", token(1)), "{url}");
    }
    assert!(
        server.requests().iter().all(|r| !r
            .header("authorization")
            .unwrap_or_default()
            .contains(GITHUB_TOKEN)),
        "GITHUB_TOKEN is not sent when the App is used"
    );
    for c in run.result()["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c:#}");
    }
    assert_nothing_of_the_app(&run, &seen, &[token(1)]);
}

#[test]
fn a_pkcs8_key_and_a_numeric_app_id_alone_read_a_users_installation() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut routes = healthy();
    routes.push(Route::get(INSTALLATION).reply(Reply::json(404, fixture("github/error-404.json"))));
    routes.push(Route::get(USER_INSTALLATION).reply(as_app("1034567", &seen, vec![installed()])));
    routes.push(Route::post(MINT).reply(as_app("1034567", &seen, vec![minted(&token(2), 60)])));
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server)
        .config(&config("app_id = 1034567"))
        .env("GITHUB_TOKEN", "")
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs8)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let seen = seen.lock().unwrap();
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    for (url, bearer) in reads(&server) {
        assert_eq!(bearer, format!("Bearer {}", token(2)), "{url}");
    }
    assert_nothing_of_the_app(&run, &seen, &[token(2)]);
}

#[test]
fn no_installation_on_the_owner_makes_every_check_of_it_unknown_and_says_so() {
    let server = FakeServer::start(spares(healthy()));
    let run = Monitor::new(&server)
        .config(&config(&format!("app_client_id = \"{CLIENT_ID}\"")))
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs1)
        .args(&["--dry-run"])
        .run();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let r = run.result();
    let checks = r["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    for c in checks {
        assert_eq!(c["status"], "unknown", "{c:#}");
        let m = c["message"].as_str().unwrap();
        assert!(
            m.contains(
                "the GitHub App is not installed on raxx-app: install it, or give GITHUB_TOKEN"
            ),
            "{m}"
        );
    }
    assert_eq!(server.hits(INSTALLATION), 1, "looked up once for the owner");
    assert_eq!(server.hits(USER_INSTALLATION), 1);
    assert!(reads(&server).is_empty(), "no read without a token");
    assert_eq!(server.hits(MINT), 0);
}

#[test]
fn a_token_near_its_expiry_is_minted_again_and_the_new_one_is_used() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut routes = healthy();
    routes.push(Route::get(INSTALLATION).reply(as_app(CLIENT_ID, &seen, vec![installed()])));
    routes.push(Route::post(MINT).reply(as_app(
        CLIENT_ID,
        &seen,
        vec![minted(&token(3), 3), minted(&token(4), 60)],
    )));
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server)
        .config(&config(&format!("app_client_id = \"{CLIENT_ID}\"")))
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs1)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let seen = seen.lock().unwrap();
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert_eq!(server.hits(INSTALLATION), 1, "the installation is kept");
    assert_eq!(
        server.hits(MINT),
        2,
        "3 minutes left is too few: minted again"
    );
    let bearers: Vec<String> = reads(&server).into_iter().map(|(_, b)| b).collect();
    let near = format!("Bearer {}", token(3));
    let far = format!("Bearer {}", token(4));
    assert_eq!(
        bearers[0], near,
        "the new token serves the read it was minted for"
    );
    assert!(bearers[1..].iter().all(|b| *b == far), "{bearers:?}");
    assert_nothing_of_the_app(&run, &seen, &[token(3), token(4)]);
}

#[test]
fn a_token_github_echoes_is_masked_in_every_output() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let echo = format!(r#"{{"message":"token {} is not valid here"}}"#, token(5));
    let routes = vec![
        success(BILLING, "github/runs-success-fresh.json"),
        workflow_file(BILLING),
        Route::get(&runs_path(TRACE))
            .query("status=success")
            .reply(Reply::json(422, echo)),
        private_repo(),
        postmark_ok(),
        Route::get(INSTALLATION).reply(as_app(CLIENT_ID, &seen, vec![installed()])),
        Route::post(MINT).reply(as_app(CLIENT_ID, &seen, vec![minted(&token(5), 60)])),
    ];
    let server = FakeServer::start(routes);
    let run = Monitor::new(&server)
        .config(&config(&format!("app_client_id = \"{CLIENT_ID}\"")))
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs1)
        .args(&["--dry-run"])
        .run();
    let m = run.message(&id(TRACE));
    assert!(m.contains("[redacted]"), "{m}");
    assert!(!m.contains("eyJhbGciOiJSUzI1NiJ9.5555"), "{m}");
    let seen = seen.lock().unwrap();
    assert_nothing_of_the_app(&run, &seen, &[token(5)]);
}

#[test]
fn check_config_says_the_app_is_used_and_what_its_key_lacks() {
    let server = FakeServer::start(Vec::new());
    let app = config(&format!("app_client_id = \"{CLIENT_ID}\""));
    let run = Monitor::new(&server)
        .config(&app)
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs1)
        .args(&["--check-config"])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "github: read as the GitHub App with client ID {CLIENT_ID} ([github] app_client_id, key in GITHUB_APP_PRIVATE_KEY), an installation token per owner; GITHUB_TOKEN is set but not used"
        )),
        "{}",
        run.stdout
    );

    let run = Monitor::new(&server)
        .config(&app)
        .args(&["--check-config"])
        .run();
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "GITHUB_APP_PRIVATE_KEY is not set: [github] app_client_id reads GitHub as a GitHub App"
        ),
        "{}",
        run.stderr
    );

    let run = Monitor::new(&server)
        .config(&app)
        .env(
            "GITHUB_APP_PRIVATE_KEY",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        )
        .args(&["--check-config"])
        .run();
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("GITHUB_APP_PRIVATE_KEY does not hold a usable RSA private key"),
        "{}",
        run.stderr
    );

    let run = Monitor::new(&server)
        .config(&config(&format!(
            "app_client_id = \"{CLIENT_ID}\"\napp_id = 1"
        )))
        .env("GITHUB_APP_PRIVATE_KEY", &key().pkcs1)
        .args(&["--check-config"])
        .run();
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("[github] gives both app_client_id and app_id: keep one"),
        "{}",
        run.stderr
    );
}
