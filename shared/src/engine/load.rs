//! The hall's load as the staffing advice needs it: arrivals and service times per service, read off the day's state.

use super::Hall;
use crate::hall::{CounterState, Now, TicketState};
use crate::staffing::{Advice, ServiceLoad, advise};

/// Finished services the mean is taken over: the last hour or so of a busy service, few enough to
/// follow a slowdown.
const SERVICES_IN_MEAN: usize = 30;

impl Hall {
    /// Arrivals in the last 30 and 60 minutes, the line, the counters open for `service` and its
    /// mean service time, at `now`.
    pub fn service_load(&self, service: &str, now: Now) -> ServiceLoad {
        let mut arrivals_30m = 0;
        let mut arrivals_60m = 0;
        for t in self.tickets.values().filter(|t| t.service == service) {
            let age = now.at - t.issued_at;
            if (0..60 * 60_000).contains(&age) {
                arrivals_60m += 1;
                if age < 30 * 60_000 {
                    arrivals_30m += 1;
                }
            }
        }
        let at_counters = self
            .counters
            .values()
            .filter_map(|rt| rt.current.as_ref())
            .filter_map(|n| self.tickets.get(n))
            .filter(|t| t.service == service && t.state.is_current())
            .count() as u32;
        let counters_open = self
            .config
            .counters
            .iter()
            .filter(|c| c.serves(service))
            .filter(|c| {
                self.counters
                    .get(&c.id)
                    .is_some_and(|r| r.state == CounterState::Open)
            })
            .count() as u32;
        ServiceLoad {
            service: service.to_string(),
            arrivals_30m,
            arrivals_60m,
            waiting: self.waiting_count(service),
            at_counters,
            counters_open,
            capacity: self.capacity_for(service),
            mean_service_s: self.measured_mean_service_s(service),
        }
    }

    /// The staffing advice for every enabled service at `now`, in configuration order.
    pub fn staffing(&self, now: Now) -> Vec<Advice> {
        let target = self.config.thresholds.target_wait_min;
        self.config
            .services
            .iter()
            .filter(|s| s.enabled)
            .map(|s| advise(&s.name, &self.service_load(&s.id, now), target))
            .collect()
    }

    /// Plain mean of the service's last finished services today (the advice needs the mean, not a
    /// trimmed "typical" figure: Erlang C is exact in the mean), or the estimator's figure before
    /// any has finished.
    fn measured_mean_service_s(&self, service: &str) -> f64 {
        let mut done: Vec<(i64, i64)> = self
            .tickets
            .values()
            .filter(|t| t.service == service && t.state == TicketState::Finished)
            .filter_map(|t| {
                let end = t.finished_at?;
                let begin = t.started_at.or(t.called_at)?;
                Some((end, end - begin))
            })
            .collect();
        if done.is_empty() {
            return f64::from(self.service_times.get(service).map_or(
                crate::estimate::DEFAULT_SERVICE_SECS,
                crate::estimate::ServiceTimes::typical_secs,
            ));
        }
        done.sort_unstable_by_key(|&(end, _)| std::cmp::Reverse(end));
        done.truncate(SERVICES_IN_MEAN);
        let total: i64 = done.iter().map(|&(_, ms)| ms.max(0)).sum();
        (total as f64 / done.len() as f64 / 1000.0).max(1.0)
    }
}
