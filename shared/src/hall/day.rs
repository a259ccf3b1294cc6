//! The business day: opening, last ticket and closing (rulebook Ch.3 §1.8).

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    #[serde(with = "hhmm")]
    pub opening: NaiveTime,
    /// After this no new ticket is issued; everyone already waiting is still served.
    #[serde(with = "hhmm")]
    pub last_ticket: NaiveTime,
    #[serde(with = "hhmm")]
    pub closing: NaiveTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPhase {
    BeforeOpening,
    Open,
    /// Past the last-ticket time: no new tickets, waiting customers still served.
    TicketsEnded,
    Closed,
}

impl BusinessHours {
    pub fn phase(&self, time: NaiveTime) -> DayPhase {
        if time < self.opening {
            DayPhase::BeforeOpening
        } else if time < self.last_ticket {
            DayPhase::Open
        } else if time < self.closing {
            DayPhase::TicketsEnded
        } else {
            DayPhase::Closed
        }
    }

    pub fn check(&self) -> Result<(), String> {
        if !(self.opening < self.last_ticket && self.last_ticket <= self.closing) {
            return Err("business hours must satisfy opening < last_ticket ≤ closing".into());
        }
        Ok(())
    }
}

/// `"08:30"` on the wire and in TOML.
pub mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map_err(|_| D::Error::custom(format!("time {s:?} must be HH:MM, e.g. 08:30")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn phases_follow_the_clock() {
        let h = BusinessHours {
            opening: t(8, 30),
            last_ticket: t(17, 0),
            closing: t(17, 30),
        };
        assert_eq!(h.phase(t(8, 29)), DayPhase::BeforeOpening);
        assert_eq!(h.phase(t(8, 30)), DayPhase::Open);
        assert_eq!(h.phase(t(16, 59)), DayPhase::Open);
        assert_eq!(h.phase(t(17, 0)), DayPhase::TicketsEnded);
        assert_eq!(h.phase(t(17, 30)), DayPhase::Closed);
        assert!(h.check().is_ok());
        let bad = BusinessHours {
            opening: t(18, 0),
            ..h
        };
        assert!(bad.check().is_err());
    }
}
