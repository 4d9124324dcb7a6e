//! PostgreSQL, read only. The URL's `sslmode` is honoured the way libpq does (tokio-postgres
//! itself knows only disable/prefer/require and rejects `verify-full` and `sslrootcert`), TLS
//! is rustls, every session is a `READ ONLY` transaction with a `statement_timeout`, and no
//! error message ever carries the password.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode as PgSslMode;
use postgres::{Client, Config, NoTls, Transaction};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use thiserror::Error;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What can go wrong reading PostgreSQL, in words for the person on call. No variant ever
/// carries the password.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum DbError {
    /// The URL is not a PostgreSQL URL.
    #[error("the database URL must start with postgres:// or postgresql://")]
    Scheme,
    /// An `sslmode` libpq does not know.
    #[error("sslmode `{0}` is not one of disable, allow, prefer, require, verify-ca, verify-full")]
    SslMode(String),
    /// The driver could not read the URL.
    #[error("the database URL is not valid: {0}")]
    BadUrl(String),
    /// The peer accepted the connection and then said nothing.
    #[error(
        "no answer from {place} within {secs} s of connecting (is a PostgreSQL server listening there?)"
    )]
    Silent {
        /// `host:port/db`.
        place: String,
        /// The connect timeout.
        secs: f64,
    },
    /// A wrong user or password.
    #[error("authentication failed at {place}: {message}")]
    Auth {
        /// `host:port/db`.
        place: String,
        /// The server's words.
        message: String,
    },
    /// No such database.
    #[error("database does not exist at {place}: {message}")]
    NoDatabase {
        /// `host:port/db`.
        place: String,
        /// The server's words.
        message: String,
    },
    /// No such table, or no right to its schema.
    #[error("table does not exist (or the monitor's role may not use its schema): {0}")]
    NoTable(String),
    /// No such column.
    #[error("column does not exist: {0}")]
    NoColumn(String),
    /// No SELECT on the table.
    #[error("permission denied: {0} (the monitor's role needs SELECT)")]
    Permission(String),
    /// The statement ran past `statement_timeout`.
    #[error(
        "query cancelled by statement_timeout after {secs} s: the table may be locked by another session ({message})"
    )]
    StatementTimeout {
        /// The timeout.
        secs: f64,
        /// The server's words.
        message: String,
    },
    /// A write refused by the read-only session.
    #[error("refused: the monitor's session is read only ({0})")]
    ReadOnly(String),
    /// Any other error the server reported.
    #[error("PostgreSQL error {code} at {place}: {message}")]
    Server {
        /// SQLSTATE.
        code: String,
        /// `host:port/db`.
        place: String,
        /// The server's words.
        message: String,
    },
    /// The TCP connect timed out.
    #[error("could not connect to {place} within {secs} s")]
    ConnectTimeout {
        /// `host:port/db`.
        place: String,
        /// The connect timeout, whole seconds.
        secs: u64,
    },
    /// Something answered, but not PostgreSQL.
    #[error(
        "the server at {place} does not speak the PostgreSQL protocol (a wrong port, or another service there): {text}"
    )]
    NotPostgres {
        /// `host:port/db`.
        place: String,
        /// What the driver said.
        text: String,
    },
    /// The server hung up.
    #[error("the server at {place} closed the connection before answering: {text}")]
    Closed {
        /// `host:port/db`.
        place: String,
        /// What the driver said.
        text: String,
    },
    /// Nothing listens there.
    #[error(
        "could not connect to {place}: connection refused (is the server running and listening?)"
    )]
    Refused {
        /// `host:port/db`.
        place: String,
    },
    /// The TLS handshake failed.
    #[error("TLS with {place} failed: {detail}")]
    Tls {
        /// `host:port/db`.
        place: String,
        /// Why.
        detail: String,
    },
    /// TLS could not even be set up here.
    #[error("TLS setup failed: {0}")]
    TlsSetup(String),
    /// The CA file of `sslrootcert` could not be used.
    #[error("cannot read sslrootcert {path}: {detail}")]
    RootCert {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// A value of a row could not be read as expected.
    #[error("{0}")]
    Row(String),
    /// Anything else.
    #[error("database error at {place}: {detail}")]
    Other {
        /// `host:port/db`.
        place: String,
        /// What the driver said.
        detail: String,
    },
}

/// libpq's `sslmode`, as far as it differs in what it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, unverified; libpq's default.
    Prefer,
    /// TLS, unverified: what Heroku Postgres URLs need.
    Require,
    /// TLS, the chain verified, the host name not.
    VerifyCa,
    /// TLS, chain and host name verified.
    VerifyFull,
}

/// A database URL taken apart: the driver's config, and what the driver cannot read itself.
#[derive(Debug, Clone)]
pub struct DbUrl {
    /// Everything but TLS.
    pub config: Config,
    /// How TLS is used.
    pub ssl: SslMode,
    /// CA certificates for the verify modes (PEM).
    pub root_cert: Option<PathBuf>,
    /// `host:port/db`, for messages.
    pub place: String,
    /// The password, for the redactor.
    pub password: Option<String>,
}

/// Limits of one database check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbLimits {
    /// Bound on each TCP connect.
    pub connect_timeout: Duration,
    /// Bound on each statement, enforced by the server.
    pub statement_timeout: Duration,
}

/// Parses a `postgres://` URL; the error never quotes the URL, which holds the password.
pub fn parse_url(url: &str) -> Result<DbUrl, DbError> {
    let url = url.trim();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(DbError::Scheme);
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut ssl = SslMode::Prefer;
    let mut root_cert = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => {
                ssl = match v {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(DbError::SslMode(other.to_string())),
                }
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(crate::util::text::decode(v))),
            _ => rest.push(pair),
        }
    }
    let rebuilt = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let config: Config = rebuilt
        .parse()
        .map_err(|e: postgres::Error| DbError::BadUrl(without_secrets(&e.to_string(), url)))?;
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(h) => h.clone(),
            postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("").to_string();
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    Ok(DbUrl {
        place: format!("{host}:{port}/{db}"),
        config,
        ssl,
        root_cert,
        password,
    })
}

fn without_secrets(text: &str, url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .map(|(userinfo, _)| userinfo)
    {
        Some(userinfo) => text.replace(userinfo, "[redacted]"),
        None => text.to_string(),
    }
}

/// Connects as `application_name=heartbeat-monitor`, with TLS as the URL asks, within the
/// connect timeout. The driver bounds only the TCP connect: a peer that accepts and then says
/// nothing would hold the check until the run's deadline, so the whole start-up is bounded
/// here (a late connection is dropped with its thread).
pub fn connect(url: &DbUrl, limits: DbLimits) -> Result<Client, DbError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = url.clone();
    std::thread::spawn(move || {
        let _ = tx.send(connect_now(&owned, limits));
    });
    rx.recv_timeout(limits.connect_timeout).unwrap_or_else(|_| {
        Err(DbError::Silent {
            place: url.place.clone(),
            secs: limits.connect_timeout.as_secs_f64(),
        })
    })
}

fn connect_now(url: &DbUrl, limits: DbLimits) -> Result<Client, DbError> {
    let mut cfg = url.config.clone();
    cfg.application_name("heartbeat-monitor");
    cfg.connect_timeout(limits.connect_timeout);
    let result = match url.ssl {
        SslMode::Disable => {
            cfg.ssl_mode(PgSslMode::Disable);
            cfg.connect(NoTls)
        }
        mode => {
            cfg.ssl_mode(if mode == SslMode::Prefer {
                PgSslMode::Prefer
            } else {
                PgSslMode::Require
            });
            let tls = tls_config(mode, url.root_cert.as_ref())?;
            cfg.connect(MakeRustlsConnect::new(tls))
        }
    };
    result.map_err(|e| explain(&e, url, limits))
}

/// Opens the monitor's only kind of transaction: read only, with the statement timeout, in
/// UTC. Nothing run inside it can change the data it watches.
pub fn read_only<'c>(
    client: &'c mut Client,
    limits: DbLimits,
    url: &DbUrl,
) -> Result<Transaction<'c>, DbError> {
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(|e| explain(&e, url, limits))?;
    let ms = limits.statement_timeout.as_millis().max(1);
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = {ms}; SET LOCAL TIME ZONE 'UTC'"
    ))
    .map_err(|e| explain(&e, url, limits))?;
    Ok(tx)
}

/// What a database error means, without secrets.
pub fn explain(e: &postgres::Error, url: &DbUrl, limits: DbLimits) -> DbError {
    let place = url.place.clone();
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let message = db.message().to_string();
        return match code {
            "28P01" | "28000" => DbError::Auth { place, message },
            "3D000" => DbError::NoDatabase { place, message },
            "42P01" => DbError::NoTable(message),
            "42703" => DbError::NoColumn(message),
            "42501" => DbError::Permission(message),
            "57014" => DbError::StatementTimeout {
                secs: limits.statement_timeout.as_secs_f64(),
                message,
            },
            "25006" => DbError::ReadOnly(message),
            _ => DbError::Server {
                code: code.to_string(),
                place,
                message,
            },
        };
    }
    let text = without_secrets(&e.to_string(), &url.password.clone().unwrap_or_default());
    let source = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let lower = format!("{text} {source}").to_ascii_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") {
        DbError::ConnectTimeout {
            place,
            secs: limits.connect_timeout.as_secs(),
        }
    } else if lower.contains("bytes remaining") || lower.contains("unexpected message") {
        DbError::NotPostgres { place, text }
    } else if lower.contains("reset by peer")
        || lower.contains("connection closed")
        || lower.contains("unexpected eof")
    {
        DbError::Closed { place, text }
    } else if lower.contains("refused") {
        DbError::Refused { place }
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
        DbError::Tls {
            place,
            detail: if source.is_empty() { text } else { source },
        }
    } else if source.is_empty() {
        DbError::Other {
            place,
            detail: text,
        }
    } else {
        DbError::Other {
            place,
            detail: format!("{text}: {source}"),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration of a TLS mode.
fn tls_config(mode: SslMode, root_cert: Option<&PathBuf>) -> Result<ClientConfig, DbError> {
    let p = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&p))
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError::TlsSetup(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(NoVerify(p)),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let mut roots = RootCertStore::empty();
            match root_cert {
                Some(path) => {
                    let unusable = |e: &dyn std::fmt::Display| DbError::RootCert {
                        path: path.display().to_string(),
                        detail: e.to_string(),
                    };
                    let certs = CertificateDer::pem_file_iter(path).map_err(|e| unusable(&e))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| unusable(&e))?;
                        roots.add(cert).map_err(|e| unusable(&e))?;
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let webpki =
                rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), p)
                    .build()
                    .map_err(|e| DbError::TlsSetup(e.to_string()))?;
            if mode == SslMode::VerifyCa {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// libpq's `require`: encrypt, but accept any certificate. The handshake signature is still
/// checked, so the session is bound to the certificate it was shown.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// libpq's `verify-ca`: the chain must lead to a trusted root; the name may differ.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_rootcert_are_ours_the_rest_the_drivers() {
        let u = parse_url("postgres://reader:pw%21@db.example.invalid:6543/console?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3").unwrap();
        assert_eq!(u.ssl, SslMode::VerifyFull);
        assert_eq!(u.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(u.place, "db.example.invalid:6543/console");
        assert_eq!(u.config.get_user(), Some("reader"));
        let u = parse_url("postgres://u:p@h/d").unwrap();
        assert_eq!(u.ssl, SslMode::Prefer, "libpq's default");
        assert_eq!(u.password.as_deref(), Some("p"));
    }

    #[test]
    fn errors_never_quote_the_url() {
        let err = parse_url("postgres://u:hunter2secret@h/d?sslmode=sometimes")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2secret"), "{err}");
        assert!(
            parse_url("mysql://u:p@h/d")
                .unwrap_err()
                .to_string()
                .contains("postgres://")
        );
    }
}
