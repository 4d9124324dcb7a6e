//! What became of each notification: a line on stdout for one sent, on stderr for one not.

use super::{Finished, Output, OutputError, Sinks};
use crate::model::Notification;

/// A line per notification sent or refused.
pub struct Notifications;

impl Output for Notifications {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn write(&self, run: &mut Finished, sinks: &mut Sinks) -> Result<Vec<String>, OutputError> {
        for n in &run.result.notifications {
            let (out, err) = mail_outcome(n);
            if let Some(line) = out {
                sinks.console.out(&line);
            }
            if let Some(line) = err {
                sinks.console.err(&line);
            }
        }
        Ok(Vec::new())
    }
}

/// What became of one notification: `mailed: …` (`slack: sent: …`) on stdout, or
/// `mail NOT sent: …` (`slack: NOT sent: …`) on stderr (the second part); nothing for one only
/// printed.
pub fn mail_outcome(n: &Notification) -> (Option<String>, Option<String>) {
    let (done, failed) = match n.channel.as_str() {
        "postmark" | "smtp" => ("mailed".to_string(), "mail NOT sent".to_string()),
        other => (format!("{other}: sent"), format!("{other}: NOT sent")),
    };
    match (&n.error, n.sent) {
        (Some(e), _) => (None, Some(format!("{failed}: {}: {e}\n", n.subject))),
        (None, true) => (Some(format!("{done}: {}\n", n.subject)), None),
        _ => (None, None),
    }
}
