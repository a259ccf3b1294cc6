//! An outage of the operator's business system (rulebook Ch.3 §1.7): short means "please wait",
//! long means "we will call you back".

use serde::{Deserialize, Serialize};

use super::text::Text;
use super::time::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageKind {
    Short,
    Long,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    /// Event id of the start: links callbacks captured during it.
    pub id: i64,
    pub started_at: Millis,
    pub expected_end: Millis,
    pub message: Option<Text>,
    pub started_by: String,
}

impl Outage {
    /// Long when it is expected to last, or has already lasted, at least `long_after_min` minutes,
    /// or has overrun its expected end: customers should not be asked to wait on.
    pub fn kind(&self, now: Millis, long_after_min: u32) -> OutageKind {
        let long_ms = i64::from(long_after_min) * 60_000;
        let expected = self.expected_end - self.started_at;
        if expected >= long_ms || now - self.started_at >= long_ms || now > self.expected_end {
            OutageKind::Long
        } else {
            OutageKind::Short
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_outage_becomes_long_when_it_overruns() {
        let o = Outage {
            id: 1,
            started_at: 0,
            expected_end: 10 * 60_000,
            message: None,
            started_by: "m".into(),
        };
        assert_eq!(o.kind(60_000, 30), OutageKind::Short);
        assert_eq!(o.kind(11 * 60_000, 30), OutageKind::Long);
        let long = Outage {
            expected_end: 45 * 60_000,
            ..o
        };
        assert_eq!(long.kind(0, 30), OutageKind::Long);
    }
}
