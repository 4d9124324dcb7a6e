//! SMTP through lettre (rustls, no OpenSSL): all mails of a run in one session. `smtp://` uses
//! STARTTLS when the server offers it, `smtps://` is TLS from the start; user and password come
//! from the URL. A mail counts as sent only on the server's 2xx.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{Message, SmtpTransport, Transport};

use super::Mail;
use crate::model::Notification;

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct Smtp<'a> {
    /// `SMTP_URL`.
    pub url: &'a str,
    /// Sender.
    pub from: &'a str,
    /// Recipients.
    pub to: &'a [String],
    /// Bound on each SMTP command.
    pub timeout: Duration,
}

/// `url` with `tls=opportunistic` added to a plain `smtp://` URL that does not say, so
/// STARTTLS is used whenever the server offers it.
pub fn with_starttls(url: &str) -> String {
    if url.starts_with("smtp://") && !url.contains("tls=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}tls=opportunistic")
    } else {
        url.to_string()
    }
}

impl Smtp<'_> {
    /// Sends `mails` over one connection and says, for each, whether the server took it.
    pub fn send(&self, mails: &[Mail]) -> Vec<Notification> {
        let transport = SmtpTransport::from_url(&with_starttls(self.url))
            .map(|b| b.timeout(Some(self.timeout)).build())
            .map_err(|e| format!("SMTP_URL cannot be used: {e}"));
        // A server that cannot be reached or stops answering fails every mail alike: say so
        // for the rest at once instead of waiting out the timeout once per mail.
        let mut dead: Option<String> = None;
        mails
            .iter()
            .map(|m| {
                let mut n = Notification::pending("smtp", self.to, &m.subject);
                let outcome = match &dead {
                    Some(e) => Err(e.clone()),
                    None => transport.as_ref().map_err(Clone::clone).and_then(|t| {
                        let message = self.message(m).map_err(|e| e.to_string())?;
                        t.send(&message).map_err(|e| {
                            let said = explain(&e, self.timeout);
                            if !(e.is_permanent() || e.is_transient()) {
                                dead = Some(said.clone());
                            }
                            said
                        })
                    }),
                };
                match outcome {
                    Ok(resp) => {
                        n.sent = resp.is_positive();
                        n.id = Some(format!(
                            "{} {}",
                            resp.code(),
                            resp.message().collect::<Vec<_>>().join(" ")
                        ));
                        if !n.sent {
                            n.error = n.id.clone();
                        }
                    }
                    Err(e) => n.error = Some(e),
                }
                n
            })
            .collect()
    }

    fn message(&self, m: &Mail) -> Result<Message, BuildError> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| BuildError::From(e.to_string()))?;
        let mut b = Message::builder()
            .from(from)
            .subject(m.subject.clone())
            .header(ContentType::TEXT_PLAIN);
        for to in self.to {
            b = b.to(to.parse::<Mailbox>().map_err(|e| BuildError::To {
                address: to.clone(),
                detail: e.to_string(),
            })?);
        }
        b.body(m.body.clone())
            .map_err(|e| BuildError::Body(e.to_string()))
    }
}

/// An SMTP failure in words: the server's own reply when it gave one.
/// Why a mail could not be put together.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// The sender is not an address.
    #[error("OPS_ALERT_FROM: {0}")]
    From(String),
    /// A recipient is not an address.
    #[error("OPS_ALERT_EMAIL `{address}`: {detail}")]
    To {
        /// The recipient as given.
        address: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Anything else.
    #[error("the mail could not be built: {0}")]
    Body(String),
}

fn explain(e: &lettre::transport::smtp::Error, timeout: Duration) -> String {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if e.is_timeout() || lower.contains("timed out") || lower.contains("temporarily unavailable") {
        format!(
            "SMTP: no answer from the server within {} s",
            timeout.as_secs_f64()
        )
    } else if lower.contains("incomplete response") {
        format!("SMTP: the server closed the connection in the middle of the session ({text})")
    } else {
        format!("SMTP: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_gets_opportunistic_starttls() {
        assert_eq!(
            with_starttls("smtp://127.0.0.1:2525"),
            "smtp://127.0.0.1:2525?tls=opportunistic"
        );
        assert_eq!(
            with_starttls("smtp://h:25?tls=required"),
            "smtp://h:25?tls=required"
        );
        assert_eq!(with_starttls("smtps://u:p@h"), "smtps://u:p@h");
    }
}
