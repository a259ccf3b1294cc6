//! The hall's nouns: services, counters, tickets, the business day, outages, callbacks and suggestions.

pub mod callback;
pub mod counter;
pub mod day;
pub mod outage;
pub mod service;
pub mod suggestion;
pub mod text;
pub mod ticket;
pub mod time;

pub use callback::{Callback, CallbackOrigin, CallbackStatus, Phone, PhoneError};
pub use counter::{Counter, CounterId, CounterState};
pub use day::{BusinessHours, DayPhase};
pub use outage::{Outage, OutageKind};
pub use service::{Fee, MAX_USUAL_MINUTES, Service, ServiceId};
pub use suggestion::{Suggestion, SuggestionStatus};
pub use text::{Lang, Text};
pub use ticket::{CallEnd, Ticket, TicketState, format_number, parse_number};
pub use time::{Millis, Now};
