//! Postmark's HTTP API: the mails of a run in `/email/batch` requests of at most 500 (the
//! most Postmark takes in one), one after the other within the one mail budget. Postmark
//! answers 200 even when single messages fail, so each `ErrorCode` is read.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Mail;
use crate::clients::api::{self, ApiError, ApiInfo, parse_json, status_error};
use crate::clients::http::{Http, Request, Response};
use crate::model::Notification;

pub(crate) const API: ApiInfo = ApiInfo {
    name: "Postmark",
    credential: "POSTMARK_SERVER_TOKEN",
};

/// The most messages Postmark takes in one `/email/batch` call.
pub const BATCH_MAX: usize = 500;

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct Postmark<'a> {
    /// API base, e.g. `https://api.postmarkapp.com`.
    pub api: &'a str,
    /// Server token.
    pub token: &'a str,
    /// Sender.
    pub from: &'a str,
    /// Recipients.
    pub to: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Message<'a> {
    from: &'a str,
    to: String,
    subject: &'a str,
    text_body: &'a str,
    tag: &'a str,
    message_stream: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Answer {
    error_code: i64,
    #[serde(default)]
    message: String,
    #[serde(rename = "MessageID", default)]
    message_id: Option<String>,
}

impl Postmark<'_> {
    /// Sends `mails` in batches of at most [`BATCH_MAX`], all by `deadline`, and says for
    /// each whether Postmark took it.
    pub fn send(&self, http: &Http, mails: &[Mail], deadline: Instant) -> Vec<Notification> {
        mails
            .chunks(BATCH_MAX)
            .flat_map(|batch| self.send_batch(http, batch, deadline))
            .collect()
    }

    fn send_batch(&self, http: &Http, mails: &[Mail], deadline: Instant) -> Vec<Notification> {
        let messages: Vec<Message> = mails
            .iter()
            .map(|m| Message {
                from: self.from,
                to: self.to.join(", "),
                subject: &m.subject,
                text_body: &m.body,
                tag: "heartbeat-monitor",
                message_stream: "outbound",
            })
            .collect();
        let body = serde_json::to_vec(&messages).unwrap_or_default();
        let req = Request::post(
            format!("{}/email/batch", self.api.trim_end_matches('/')),
            body,
        )
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("X-Postmark-Server-Token", self.token);
        let answers = api::send(API, http, &req, deadline)
            .map_err(BatchError::from)
            .and_then(|resp| read_answers(&resp, mails.len()));
        mails
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut n = Notification::pending("postmark", self.to, &m.subject);
                match &answers {
                    Err(e) => n.error = Some(e.to_string()),
                    Ok(a) if a[i].error_code == 0 => {
                        n.sent = true;
                        n.id = a[i].message_id.clone();
                    }
                    Ok(a) => {
                        n.error = Some(format!(
                            "Postmark refused this message (ErrorCode {}: {})",
                            a[i].error_code, a[i].message
                        ))
                    }
                }
                n
            })
            .collect()
    }
}

/// Why Postmark did not take a batch.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    /// The API's answer explains it (a status, a body that is not JSON, …).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Not one answer per mail.
    #[error("Postmark answered {got} results for {sent} mails")]
    Count {
        /// Answers received.
        got: usize,
        /// Mails sent.
        sent: usize,
    },
    /// The whole batch was refused.
    #[error("Postmark refused the batch (HTTP 422, ErrorCode {code}: {message})")]
    Refused {
        /// Postmark's `ErrorCode`.
        code: i64,
        /// Its `Message`.
        message: String,
    },
}

/// Postmark's answer to a batch of `count` mails: one entry per mail, in order, or why not.
pub(crate) fn read_answers(resp: &Response, count: usize) -> Result<Vec<Answer>, BatchError> {
    match resp.status {
        200 => {
            let answers = parse_json::<Vec<Answer>>(API, resp)?;
            if answers.len() == count {
                Ok(answers)
            } else {
                Err(BatchError::Count {
                    got: answers.len(),
                    sent: count,
                })
            }
        }
        422 => Err(match serde_json::from_slice::<Answer>(&resp.body) {
            Ok(a) => BatchError::Refused {
                code: a.error_code,
                message: a.message,
            },
            Err(_) => status_error(API, resp, "the batch").into(),
        }),
        _ => Err(status_error(API, resp, "/email/batch").into()),
    }
}
