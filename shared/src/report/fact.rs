//! From a stored event (its type and the JSON of its kind) to what a report reads of it: one
//! function for the hall's store and for central, so that both count the same events the same way.

use serde::Deserialize;

use super::Fact;
use crate::hall::CounterId;

/// The fields of an event's JSON a report reads; the rest is skipped. Borrowed: the hall's store
/// parses every event of a period with it.
#[derive(Debug, Default, Deserialize)]
pub struct EventBody<'a> {
    #[serde(borrow, default)]
    pub number: Option<&'a str>,
    #[serde(default)]
    pub counter: Option<CounterId>,
    #[serde(default)]
    pub from_counter: Option<CounterId>,
    #[serde(borrow, default)]
    pub service: Option<&'a str>,
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(borrow, default)]
    pub state: Option<&'a str>,
    #[serde(borrow, default)]
    pub status: Option<&'a str>,
}

/// The fact of an event of type `kind`, or `None` for what reports ignore.
pub fn fact_of(kind: &str, b: &EventBody<'_>) -> Option<Fact> {
    let number = || b.number.map(str::to_string);
    Some(match (kind, number(), b.counter.or(b.from_counter)) {
        ("ticket_called", Some(number), Some(counter)) => Fact::Called { number, counter },
        ("ticket_finished", Some(number), Some(counter)) => Fact::Finished { number, counter },
        ("ticket_no_show", Some(number), Some(counter)) => Fact::NoShow { number, counter },
        ("ticket_transferred", Some(number), Some(from_counter)) => Fact::Transferred {
            number,
            from_counter,
        },
        ("counter_state_changed", _, Some(counter)) if b.state == Some("open") => {
            Fact::CounterOpened { counter }
        }
        ("counter_state_changed", _, Some(counter)) => Fact::CounterLeft { counter },
        ("long_wait_began", ..) => Fact::LongWaitBegan {
            service: b.service?.to_string(),
        },
        ("long_wait_ended", ..) => Fact::LongWaitEnded {
            service: b.service?.to_string(),
        },
        ("outage_started", ..) => Fact::OutageStarted,
        ("outage_ended", ..) => Fact::OutageEnded { started_at: b.id },
        ("slow_system_started", ..) => Fact::SlowSystemStarted,
        ("slow_system_ended", ..) => Fact::SlowSystemEnded,
        ("callback_captured", ..) => Fact::CallbackCaptured { id: b.id? },
        ("callback_updated", ..) if b.status == Some("resolved") => {
            Fact::CallbackResolved { id: b.id? }
        }
        _ => return None,
    })
}
