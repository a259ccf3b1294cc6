//! The call-next policy: which waiting ticket a counter calls, and who is ahead of whom.

use std::cmp::Reverse;

use crate::hall::{Counter, Service, Ticket, TicketState};

/// May `counter` call this waiting ticket at all?
pub fn callable_at(counter: &Counter, t: &Ticket) -> bool {
    t.state == TicketState::Waiting
        && match t.for_counter {
            Some(c) => c == counter.id,
            None => counter.serves(&t.service),
        }
}

/// The ticket `counter` calls next: tickets transferred to this very counter first (they were already
/// served once), then priority tickets, then by the counter's service preference and the service
/// weight, then the longest wait (original issue time, kept across transfers).
pub fn next_for_counter<'a>(
    counter: &Counter,
    services: &[Service],
    tickets: impl IntoIterator<Item = &'a Ticket>,
) -> Option<&'a Ticket> {
    tickets
        .into_iter()
        .filter(|t| callable_at(counter, t))
        .min_by_key(|t| {
            let weight = services
                .iter()
                .find(|s| s.id == t.service)
                .map_or(1, |s| s.weight);
            let preference = counter.preference(&t.service).unwrap_or(usize::MAX);
            (
                t.for_counter.is_none(),
                !t.priority,
                preference,
                Reverse(weight),
                t.issued_at,
                t.seq,
                t.number.clone(),
            )
        })
}

/// Waiting tickets of the same service that will be called before `t` (same line order as
/// [`next_for_counter`] within one service). The definition, by a scan of the day: the hall answers
/// from its waiting index and is checked against this.
pub fn ahead_of<'a>(t: &Ticket, tickets: impl IntoIterator<Item = &'a Ticket>) -> u32 {
    tickets
        .into_iter()
        .filter(|o| {
            o.state == TicketState::Waiting && o.service == t.service && o.number != t.number
        })
        .filter(|o| {
            (o.for_counter.is_none(), o.line_key(), &o.number)
                < (t.for_counter.is_none(), t.line_key(), &t.number)
        })
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn ticket(number: &str, service: &str, issued_at: i64, priority: bool) -> Ticket {
        Ticket {
            number: number.into(),
            service: service.into(),
            day: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
            seq: number[1..].parse().unwrap(),
            priority,
            issued_at,
            state: TicketState::Waiting,
            counter: None,
            for_counter: None,
            called_at: None,
            started_at: None,
            finished_at: None,
            recalls: 0,
            transfers: 0,
            issued_by: "kiosk".into(),
            estimated_wait_s: 0,
            apology: false,
        }
    }

    fn counter(services: &[&str]) -> Counter {
        Counter {
            id: 1,
            name: crate::hall::Text::new("1号窗口", ""),
            services: services.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn services() -> Vec<Service> {
        crate::config::HallConfig::demo().services
    }

    #[test]
    fn priority_then_preference_then_longest_wait() {
        let s = services();
        let c = counter(&["pay", "account"]);
        let ts = vec![
            ticket("A001", "account", 1, false),
            ticket("B002", "pay", 5, false),
            ticket("B001", "pay", 3, false),
            ticket("C001", "repair", 0, false),
        ];
        assert_eq!(next_for_counter(&c, &s, &ts).unwrap().number, "B001");
        let mut ts2 = ts.clone();
        ts2.push(ticket("A002", "account", 9, true));
        assert_eq!(
            next_for_counter(&c, &s, &ts2).unwrap().number,
            "A002",
            "priority goes first"
        );
        let only_repair = vec![ticket("C001", "repair", 0, false)];
        assert!(
            next_for_counter(&c, &s, &only_repair).is_none(),
            "a counter only calls its services"
        );
    }

    #[test]
    fn transferred_to_this_counter_goes_first_and_only_here() {
        let s = services();
        let c = counter(&["pay"]);
        let mut t = ticket("C003", "repair", 50, false);
        t.for_counter = Some(1);
        let ts = vec![ticket("B001", "pay", 1, false), t.clone()];
        assert_eq!(next_for_counter(&c, &s, &ts).unwrap().number, "C003");
        let other = Counter {
            id: 2,
            ..counter(&["repair"])
        };
        assert!(next_for_counter(&other, &s, &[t]).is_none());
    }

    #[test]
    fn people_ahead_follow_the_line() {
        let ts = vec![
            ticket("B001", "pay", 1, false),
            ticket("B002", "pay", 2, false),
            ticket("B003", "pay", 3, true),
            ticket("A001", "account", 0, false),
        ];
        assert_eq!(
            ahead_of(&ts[0], &ts),
            1,
            "the priority ticket is ahead of B001"
        );
        assert_eq!(ahead_of(&ts[2], &ts), 0);
        assert_eq!(ahead_of(&ts[1], &ts), 2);
    }
}
