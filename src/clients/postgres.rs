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
use tokio_postgres_rustls::MakeRustlsConnect;

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
pub fn parse_url(url: &str) -> Result<DbUrl, String> {
    let url = url.trim();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("the database URL must start with postgres:// or postgresql://".into());
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
                    other => {
                        return Err(format!(
                            "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ));
                    }
                }
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(v))),
            _ => rest.push(pair),
        }
    }
    let rebuilt = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let config: Config = rebuilt.parse().map_err(|e: postgres::Error| {
        format!(
            "the database URL is not valid: {}",
            without_secrets(&e.to_string(), url)
        )
    })?;
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
pub fn connect(url: &DbUrl, limits: DbLimits) -> Result<Client, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = url.clone();
    std::thread::spawn(move || {
        let _ = tx.send(connect_now(&owned, limits));
    });
    rx.recv_timeout(limits.connect_timeout).unwrap_or_else(|_| {
        Err(format!(
            "no answer from {} within {} s of connecting (is a PostgreSQL server listening there?)",
            url.place,
            limits.connect_timeout.as_secs_f64()
        ))
    })
}

fn connect_now(url: &DbUrl, limits: DbLimits) -> Result<Client, String> {
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
) -> Result<Transaction<'c>, String> {
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

/// What a database error means, in words, without secrets.
pub fn explain(e: &postgres::Error, url: &DbUrl, limits: DbLimits) -> String {
    let place = &url.place;
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let msg = db.message();
        return match code {
            "28P01" | "28000" => format!("authentication failed at {place}: {msg}"),
            "3D000" => format!("database does not exist at {place}: {msg}"),
            "42P01" => format!(
                "table does not exist (or the monitor's role may not use its schema): {msg}"
            ),
            "42703" => format!("column does not exist: {msg}"),
            "42501" => format!("permission denied: {msg} (the monitor's role needs SELECT)"),
            "57014" => format!(
                "query cancelled by statement_timeout after {} s: the table may be locked by another session ({msg})",
                limits.statement_timeout.as_secs_f64()
            ),
            "25006" => format!("refused: the monitor's session is read only ({msg})"),
            _ => format!("PostgreSQL error {code} at {place}: {msg}"),
        };
    }
    let text = without_secrets(&e.to_string(), &url.password.clone().unwrap_or_default());
    let source = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let lower = format!("{text} {source}").to_ascii_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") {
        format!(
            "could not connect to {place} within {} s",
            limits.connect_timeout.as_secs()
        )
    } else if lower.contains("bytes remaining") || lower.contains("unexpected message") {
        format!(
            "the server at {place} does not speak the PostgreSQL protocol (a wrong port, or another service there): {text}"
        )
    } else if lower.contains("reset by peer")
        || lower.contains("connection closed")
        || lower.contains("unexpected eof")
    {
        format!("the server at {place} closed the connection before answering: {text}")
    } else if lower.contains("refused") {
        format!(
            "could not connect to {place}: connection refused (is the server running and listening?)"
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
        format!(
            "TLS with {place} failed: {}",
            if source.is_empty() { text } else { source }
        )
    } else if source.is_empty() {
        format!("database error at {place}: {text}")
    } else {
        format!("database error at {place}: {text}: {source}")
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration of a TLS mode.
fn tls_config(mode: SslMode, root_cert: Option<&PathBuf>) -> Result<ClientConfig, String> {
    let p = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&p))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(NoVerify(p)),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let mut roots = RootCertStore::empty();
            match root_cert {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| {
                            format!("cannot read sslrootcert {}: {e}", path.display())
                        })?;
                        roots
                            .add(cert)
                            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let webpki =
                rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), p)
                    .build()
                    .map_err(|e| format!("TLS setup failed: {e}"))?;
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
        let err = parse_url("postgres://u:hunter2secret@h/d?sslmode=sometimes").unwrap_err();
        assert!(!err.contains("hunter2secret"), "{err}");
        assert!(
            parse_url("mysql://u:p@h/d")
                .unwrap_err()
                .contains("postgres://")
        );
    }
}
