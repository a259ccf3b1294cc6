//! The shipping protocol's JSON (docs/central.md, version 1): what a hub sends and what it is
//! answered, with the checks that make a batch safe to store.
//!
//! Events are kept as the hub sent them, kind and all: a hub newer than central may ship event
//! types central does not know yet, and they must be stored (a gap would stop `stored_through`)
//! even if no report reads them.

use chrono::NaiveDate;
use hallq_shared::config::MAX_RETENTION_DAYS;
use hallq_shared::hall::{CounterId, Millis, Phone, TicketState};
use hallq_shared::report::{Period, RatingRow, Satisfaction, TicketRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this central speaks.
pub const VERSION: u32 = 1;

/// Numbers beside one batch at most: a hall's open callbacks, sent once when the switch turns
/// on, are far fewer.
pub const MAX_PHONES: usize = 20_000;

/// More than the hub's 500 events per batch, so that a hub with a larger batch setting is not
/// refused outright; the body limit bounds the rest.
pub const MAX_EVENTS: usize = 5_000;

#[derive(Debug, Deserialize)]
pub struct Batch {
    pub version: u32,
    #[serde(default)]
    pub hub: Option<String>,
    #[serde(default)]
    pub events: Vec<WireEvent>,
    #[serde(default)]
    pub tickets: Vec<WireTicket>,
    #[serde(default)]
    pub ratings: Vec<WireRating>,
    #[serde(default)]
    pub status: Option<Value>,
    /// Phone numbers of callbacks: only from a hub central told `callback_phones`, and stored only
    /// while head office's switch for the hall is on.
    #[serde(default)]
    pub callback_phones: Option<WirePhones>,
}

/// The numbers beside a batch, and how long the hall keeps a resolved callback's.
#[derive(Debug, Deserialize)]
pub struct WirePhones {
    /// The hall's `policy.callback_retention_days`: central deletes a number this long after its
    /// callback was resolved, as the hall does.
    pub retention_days: u32,
    #[serde(default)]
    pub numbers: Vec<WirePhone>,
}

#[derive(Debug, Deserialize)]
pub struct WirePhone {
    /// The hall's id of the callback (the `id` of its `callback_captured` event).
    pub id: i64,
    pub phone: String,
}

#[derive(Debug, Deserialize)]
pub struct WireEvent {
    pub seq: u64,
    pub day: NaiveDate,
    pub at: Millis,
    pub actor: String,
    #[serde(default)]
    pub counter: Option<CounterId>,
    /// `{"type": "...", ...}`: the engine's `EventKind` as the hub stores it.
    pub kind: Value,
}

impl WireEvent {
    pub fn kind_type(&self) -> &str {
        self.kind.get("type").and_then(Value::as_str).unwrap_or("")
    }
}

#[derive(Debug, Deserialize)]
pub struct WireTicket {
    pub day: NaiveDate,
    pub number: String,
    pub service: String,
    pub first_service: String,
    pub state: TicketState,
    #[serde(default)]
    pub counter: Option<CounterId>,
    pub issued_at: Millis,
    #[serde(default)]
    pub first_called_at: Option<Millis>,
    #[serde(default)]
    pub called_at: Option<Millis>,
    #[serde(default)]
    pub started_at: Option<Millis>,
    #[serde(default)]
    pub finished_at: Option<Millis>,
    #[serde(default)]
    pub transfers: u32,
    #[serde(default)]
    pub estimated_wait_s: u32,
}

impl From<&WireTicket> for TicketRow {
    fn from(t: &WireTicket) -> TicketRow {
        TicketRow {
            day: t.day,
            number: t.number.clone(),
            service: t.service.clone(),
            first_service: t.first_service.clone(),
            state: t.state,
            counter: t.counter,
            issued_at: t.issued_at,
            first_called_at: t.first_called_at,
            called_at: t.called_at,
            started_at: t.started_at,
            finished_at: t.finished_at,
            transfers: t.transfers,
            estimated_wait_s: t.estimated_wait_s,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct WireRating {
    pub day: NaiveDate,
    pub number: String,
    #[serde(default)]
    pub counter: Option<CounterId>,
    pub score: u8,
    pub at: Millis,
}

impl WireRating {
    pub fn row(&self) -> Option<RatingRow> {
        Some(RatingRow {
            day: self.day,
            number: self.number.clone(),
            counter: self.counter,
            score: Satisfaction::from_score(self.score)?,
            at: self.at,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShipAnswer {
    pub stored_through: u64,
    /// Head office turned phone numbers on for this hall: send them beside the next batches. An
    /// older hub ignores it; an older central's answer lacks it, which reads as off.
    #[serde(default)]
    pub callback_phones: bool,
}

/// Why a batch is refused as malformed (400): the hub logs it and retries later.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("protocol version {0} is not spoken here (central speaks version {VERSION})")]
    Version(u32),
    #[error("{0} events in one batch; send at most {MAX_EVENTS}")]
    TooManyEvents(usize),
    #[error("event seq {0}: seq starts at 1 and fits in a signed 64-bit integer")]
    Seq(u64),
    #[error("event seq {0}: its kind is not an object with a \"type\"")]
    Kind(u64),
    #[error("{0}: the day is out of range")]
    Day(NaiveDate),
    #[error("rating of {day} {number}: score {score} is not 1 to 5")]
    Score {
        day: NaiveDate,
        number: String,
        score: u8,
    },
    #[error("the status is not a JSON object")]
    Status,
    #[error("{0} phone numbers in one batch; send at most {MAX_PHONES}")]
    TooManyPhones(usize),
    #[error("callback_phones: retention_days {0} is more than {MAX_RETENTION_DAYS}")]
    PhoneRetention(u32),
    /// The number itself is not repeated: an error message ends up in logs.
    #[error("callback_phones: callback {0} has no valid id or phone number")]
    Phone(i64),
}

impl Batch {
    /// Check what the database would otherwise refuse or store wrong, and take out what central
    /// must not keep: the masked phone numbers of callbacks (the hall keeps them).
    pub fn sanitise(&mut self) -> Result<(), BatchError> {
        if self.version != VERSION {
            return Err(BatchError::Version(self.version));
        }
        if self.events.len() > MAX_EVENTS {
            return Err(BatchError::TooManyEvents(self.events.len()));
        }
        let day_ok = |d: NaiveDate| {
            if Period::in_range(d) {
                Ok(())
            } else {
                Err(BatchError::Day(d))
            }
        };
        // PostgreSQL's text and jsonb cannot hold U+0000; refusing the batch would stop the
        // hall's shipping for good, so the character is replaced, as a decoder replaces bad bytes.
        if let Some(h) = &mut self.hub {
            no_nul(h);
        }
        if let Some(s) = &mut self.status {
            no_nul_json(s);
        }
        for t in &mut self.tickets {
            no_nul(&mut t.number);
            no_nul(&mut t.service);
            no_nul(&mut t.first_service);
        }
        for r in &mut self.ratings {
            no_nul(&mut r.number);
        }
        for e in &mut self.events {
            no_nul(&mut e.actor);
            no_nul_json(&mut e.kind);
            if e.seq == 0 || i64::try_from(e.seq).is_err() {
                return Err(BatchError::Seq(e.seq));
            }
            day_ok(e.day)?;
            let Some(kind) = e.kind.as_object_mut() else {
                return Err(BatchError::Kind(e.seq));
            };
            if !kind.get("type").is_some_and(Value::is_string) {
                return Err(BatchError::Kind(e.seq));
            }
            if kind.get("type").and_then(Value::as_str) == Some("callback_captured")
                && kind.contains_key("phone_masked")
            {
                kind.insert("phone_masked".into(), Value::String(String::new()));
            }
        }
        for t in &self.tickets {
            day_ok(t.day)?;
        }
        for r in &self.ratings {
            day_ok(r.day)?;
            if Satisfaction::from_score(r.score).is_none() {
                return Err(BatchError::Score {
                    day: r.day,
                    number: r.number.clone(),
                    score: r.score,
                });
            }
        }
        if self
            .status
            .as_ref()
            .is_some_and(|s| !s.is_object() && !s.is_null())
        {
            return Err(BatchError::Status);
        }
        if let Some(p) = &mut self.callback_phones {
            if p.numbers.len() > MAX_PHONES {
                return Err(BatchError::TooManyPhones(p.numbers.len()));
            }
            if p.retention_days > MAX_RETENTION_DAYS {
                return Err(BatchError::PhoneRetention(p.retention_days));
            }
            // Kept in the hall's own form, so that central holds nothing the hall would refuse.
            for n in &mut p.numbers {
                match Phone::parse(&n.phone) {
                    Ok(phone) if n.id > 0 => n.phone = phone.as_str().to_string(),
                    _ => return Err(BatchError::Phone(n.id)),
                }
            }
        }
        Ok(())
    }
}

fn no_nul(s: &mut String) {
    if s.contains('\0') {
        *s = s.replace('\0', "\u{fffd}");
    }
}

fn no_nul_json(v: &mut Value) {
    match v {
        Value::String(s) => no_nul(s),
        Value::Array(a) => a.iter_mut().for_each(no_nul_json),
        Value::Object(o) => {
            if o.keys().any(|k| k.contains('\0')) {
                *o = std::mem::take(o)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', "\u{fffd}"), v))
                    .collect();
            }
            o.values_mut().for_each(no_nul_json);
        }
        _ => {}
    }
}

/// The name of a ticket state as the `tickets` table keeps it (the engine's serde name).
pub fn state_name(s: TicketState) -> &'static str {
    match s {
        TicketState::Waiting => "waiting",
        TicketState::Called => "called",
        TicketState::Serving => "serving",
        TicketState::Finished => "finished",
        TicketState::NoShow => "no_show",
        TicketState::Expired => "expired",
    }
}

pub fn parse_state(s: &str) -> Option<TicketState> {
    Some(match s {
        "waiting" => TicketState::Waiting,
        "called" => TicketState::Called,
        "serving" => TicketState::Serving,
        "finished" => TicketState::Finished,
        "no_show" => TicketState::NoShow,
        "expired" => TicketState::Expired,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(json: &str) -> Batch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_documented_example_parses() {
        let mut b = batch(
            r#"{ "version": 1, "hub": "0.2.0",
              "events": [ { "seq": 41, "day": "2026-12-04", "at": 1733300000000, "actor": "clerk1",
                 "counter": 2, "kind": { "type": "ticket_called", "number": "A001", "service": "pay",
                 "counter": 2, "apology": false, "specific": false } } ],
              "tickets": [ { "day": "2026-12-04", "number": "A001", "service": "pay", "first_service": "pay",
                 "state": "finished", "counter": 2, "issued_at": 1733300000000,
                 "first_called_at": 1733300060000, "called_at": 1733300060000,
                 "started_at": 1733300065000, "finished_at": 1733300300000, "transfers": 0,
                 "estimated_wait_s": 120 } ],
              "ratings": [ { "day": "2026-12-04", "number": "A001", "counter": 2, "score": 5,
                 "at": 1733300310000 } ],
              "status": { "at": 1733300400000, "day": "2026-12-04", "waiting": 7, "long_waits": ["pay"],
                 "outage": null, "callbacks_open": 1, "config_version": null } }"#,
        );
        b.sanitise().unwrap();
        assert_eq!(b.events[0].kind_type(), "ticket_called");
        assert_eq!(b.tickets[0].state, TicketState::Finished);
    }

    #[test]
    fn masked_numbers_are_blanked_and_bad_batches_refused() {
        let mut b = batch(
            r#"{"version":1,"events":[{"seq":1,"day":"2026-12-04","at":1,"actor":"x",
               "kind":{"type":"callback_captured","id":3,"phone_masked":"138****0000","origin":"kiosk"}}]}"#,
        );
        b.sanitise().unwrap();
        assert_eq!(b.events[0].kind["phone_masked"], "");
        assert_eq!(
            batch(r#"{"version":2}"#).sanitise(),
            Err(BatchError::Version(2))
        );
        let mut b = batch(
            r#"{"version":1,"events":[{"seq":0,"day":"2026-12-04","at":1,"actor":"x","kind":{"type":"a"}}]}"#,
        );
        assert_eq!(b.sanitise(), Err(BatchError::Seq(0)));
        let mut b = batch(
            r#"{"version":1,"events":[{"seq":1,"day":"2026-12-04","at":1,"actor":"x","kind":[]}]}"#,
        );
        assert_eq!(b.sanitise(), Err(BatchError::Kind(1)));
        let mut b = batch(
            r#"{"version":1,"ratings":[{"day":"2026-12-04","number":"A1","score":6,"at":1}]}"#,
        );
        assert!(matches!(b.sanitise(), Err(BatchError::Score { .. })));
    }

    #[test]
    fn phone_numbers_are_checked_and_kept_in_the_halls_form() {
        let mut b = batch(
            r#"{"version":1,"callback_phones":{"retention_days":30,
               "numbers":[{"id":1,"phone":"138 1234 5678"},{"id":2,"phone":"02787654321"}]}}"#,
        );
        b.sanitise().unwrap();
        let p = b.callback_phones.unwrap();
        assert_eq!(p.numbers[0].phone, "13812345678");
        assert_eq!(p.numbers[1].phone, "027-87654321");
        let mut b = batch(
            r#"{"version":1,"callback_phones":{"retention_days":30,
               "numbers":[{"id":7,"phone":"12345"}]}}"#,
        );
        let e = b.sanitise().unwrap_err();
        assert_eq!(e, BatchError::Phone(7));
        assert!(
            !e.to_string().contains("12345"),
            "the number stays out of the message"
        );
        let mut b = batch(
            r#"{"version":1,"callback_phones":{"retention_days":30,
               "numbers":[{"id":0,"phone":"13812345678"}]}}"#,
        );
        assert_eq!(b.sanitise(), Err(BatchError::Phone(0)));
        let mut b = batch(r#"{"version":1,"callback_phones":{"retention_days":99999}}"#);
        assert_eq!(b.sanitise(), Err(BatchError::PhoneRetention(99999)));
        // An older central's answer has no switch: off.
        let a: ShipAnswer = serde_json::from_str(r#"{"stored_through":4}"#).unwrap();
        assert!(!a.callback_phones);
    }

    #[test]
    fn nul_characters_are_replaced() {
        let mut b = batch(
            r#"{"version":1,"hub":"a\u0000","events":[{"seq":1,"day":"2026-12-04","at":1,"actor":"x\u0000",
               "kind":{"type":"t","a\u0000":["b\u0000"]}}],"status":{"s":"\u0000"}}"#,
        );
        b.sanitise().unwrap();
        let text = format!(
            "{:?} {} {} {:?}",
            b.hub, b.events[0].actor, b.events[0].kind, b.status
        );
        assert!(!text.contains('\0') && !text.contains("\\u0000"), "{text}");
        assert_eq!(b.events[0].kind["a\u{fffd}"][0], "b\u{fffd}");
    }
}
