//! The words of time every layer shares: RFC 3339, hours, ages.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// A number of hours from the configuration. It becomes a duration here and nowhere else,
/// so every threshold compares the same way (to the millisecond, rounded).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
#[serde(transparent)]
pub struct Hours(pub f64);

impl Hours {
    /// The hours as a duration.
    pub fn duration(self) -> Duration {
        Duration::milliseconds((self.0 * 3_600_000.0).round() as i64)
    }

    /// The number, as configured.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// RFC 3339 with whole seconds and `Z`, the one format every output uses.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Hours between `then` and `now` (negative when `then` is in the future), to 0.1 h.
pub fn age_hours(then: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let secs = (now - then).num_seconds() as f64;
    (secs / 360.0).round() / 10.0
}

/// "48 h", "1.5 h": hours without a useless ".0".
pub fn fmt_hours(h: f64) -> String {
    if (h - h.round()).abs() < 1e-9 {
        format!("{} h", h.round() as i64)
    } else {
        format!("{h:.1} h")
    }
}

/// "45 min", "3 h", "8 days".
pub fn human(d: Duration) -> String {
    let mins = d.num_minutes().max(0);
    if mins < 120 {
        format!("{mins} min")
    } else if mins < 48 * 60 {
        format!("{} h", mins / 60)
    } else {
        format!("{} days", mins / (24 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn ages_round_to_a_tenth() {
        assert_eq!(
            age_hours(t("2026-05-18T05:00:00Z"), t("2026-05-23T06:30:00Z")),
            121.5
        );
        assert_eq!(
            age_hours(t("2026-05-23T07:00:00Z"), t("2026-05-23T06:30:00Z")),
            -0.5
        );
    }

    #[test]
    fn hours_become_a_duration_in_one_way() {
        assert_eq!(Hours(48.0).duration(), Duration::hours(48));
        assert_eq!(Hours(1.5).duration(), Duration::minutes(90));
        assert_eq!(Hours(0.1).duration(), Duration::minutes(6));
    }

    #[test]
    fn hours_format() {
        assert_eq!(fmt_hours(48.0), "48 h");
        assert_eq!(fmt_hours(1.5), "1.5 h");
        assert_eq!(
            rfc3339(t("2026-05-23T06:30:00.123Z")),
            "2026-05-23T06:30:00Z"
        );
    }
}
