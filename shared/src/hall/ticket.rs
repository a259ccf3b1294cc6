//! A queue ticket: its number, its place in line and its life from waiting to finished.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::counter::CounterId;
use super::service::ServiceId;
use super::time::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    Serving,
    Finished,
    NoShow,
    /// Still waiting when the business day was closed overnight: kept in history, never silently dropped.
    Expired,
}

impl TicketState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TicketState::Finished | TicketState::NoShow | TicketState::Expired
        )
    }

    /// At a counter right now (called or being served).
    pub fn is_current(self) -> bool {
        matches!(self, TicketState::Called | TicketState::Serving)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Prefix and sequence, e.g. `A007`. Unique within the business day.
    pub number: String,
    pub service: ServiceId,
    pub day: NaiveDate,
    pub seq: u32,
    /// Elderly or disabled customers: called first within the service.
    pub priority: bool,
    /// The customer's place in line. A transfer keeps it (first-inquiry rule).
    pub issued_at: Millis,
    pub state: TicketState,
    /// The counter the ticket is at (called or serving), or the last one that had it.
    pub counter: Option<CounterId>,
    /// Transferred to one counter: only that counter may call it.
    pub for_counter: Option<CounterId>,
    pub called_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub recalls: u32,
    pub transfers: u32,
    /// Who issued it: a kiosk device name or a clerk's login.
    pub issued_by: String,
    /// The wait promised on the ticket, kept to measure the estimate's error.
    pub estimated_wait_s: u32,
    /// The last call carried the apology of Ch.3 §1.6.
    pub apology: bool,
}

/// How a ticket's call ended, for the share of those called who do not come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallEnd {
    Served,
    /// Marked a no-show this many seconds after its (last) call.
    NoShow {
        after_secs: u32,
    },
}

impl CallEnd {
    /// How the call of a ticket in `state`, called at `called_at` and ended at `ended_at`, ended:
    /// `None` while it has not (or when it expired unserved). The live hall and the store's
    /// rebuild both count through here, so they agree.
    pub fn of(
        state: TicketState,
        called_at: Option<Millis>,
        ended_at: Option<Millis>,
    ) -> Option<CallEnd> {
        match state {
            TicketState::Finished => Some(CallEnd::Served),
            TicketState::NoShow => {
                let after_secs = match (called_at, ended_at) {
                    (Some(called), Some(marked)) => {
                        ((marked - called).max(0) / 1000).min(i64::from(u32::MAX)) as u32
                    }
                    _ => 0,
                };
                Some(CallEnd::NoShow { after_secs })
            }
            _ => None,
        }
    }
}

impl Ticket {
    /// How the ticket's call ended, if it has ([`CallEnd::of`]).
    pub fn call_end(&self) -> Option<CallEnd> {
        CallEnd::of(self.state, self.called_at, self.finished_at)
    }

    /// Ordering key of the line: priority first, then the original issue time, then the number.
    pub fn line_key(&self) -> (bool, Millis, u32) {
        (!self.priority, self.issued_at, self.seq)
    }
}

/// `A` + 7 → `A007`; sequences past 999 simply grow (`A1000`).
pub fn format_number(prefix: char, seq: u32) -> String {
    format!("{prefix}{seq:03}")
}

/// `a007` or `A007` → (`A`, 7). Anything else is not a ticket number.
pub fn parse_number(s: &str) -> Option<(char, u32)> {
    let s = s.trim();
    let mut chars = s.chars();
    let prefix = chars.next()?.to_ascii_uppercase();
    let digits = chars.as_str();
    if !prefix.is_ascii_uppercase() || digits.is_empty() || digits.len() > 6 {
        return None;
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let seq: u32 = digits.parse().ok()?;
    if seq == 0 {
        return None;
    }
    Some((prefix, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_zero_padded_and_parse_back() {
        assert_eq!(format_number('A', 7), "A007");
        assert_eq!(format_number('B', 1000), "B1000");
        assert_eq!(parse_number("a007"), Some(('A', 7)));
        assert_eq!(parse_number(" C123 "), Some(('C', 123)));
        for bad in ["", "A", "7", "AA1", "A-1", "A000", "A12345678", "中1"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
