//! The wait of one customer: the line played forward on expected values, with the hall's own call
//! order.
//!
//! Each open counter frees up after the expected rest of its current service and then calls as the
//! hall does: a priority ticket of any of its services first, then its services in preference
//! order. Services take their mean. The counters busy now free up one after another, spaced by
//! their mean over the number busy (for exponential services the time to the first of s busy
//! counters is 1/(s·μ), whatever each has taken so far); so with one service and every counter
//! busy the replay gives the M/M/s answer (k + 1)/(s·μ), and 0 only when a counter is free and
//! nobody is ahead. Counters that serve several services give each the time their call order
//! leaves it. Customers yet to come are not foreseen.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A counter as the replay sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Desk {
    /// Indices into the services, most preferred first.
    pub services: Vec<usize>,
    /// The service of the customer at the counter now, if any.
    pub busy_with: Option<usize>,
}

/// One service's line: priority tickets (called first) and the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub priority: u32,
    pub normal: u32,
}

impl Line {
    fn len(self) -> u32 {
        self.priority + self.normal
    }

    fn pop(&mut self) {
        if self.priority > 0 {
            self.priority -= 1;
        } else {
            self.normal = self.normal.saturating_sub(1);
        }
    }
}

/// Seconds until the customer of service `target` with `ahead` people before them is called.
/// `lines` hold everyone waiting, the customer included; `means` are each service's mean service
/// time. `None` when no counter in `desks` serves the service.
pub fn wait_secs(
    desks: &[Desk],
    lines: &[Line],
    means: &[f64],
    target: usize,
    ahead: u32,
) -> Option<f64> {
    if !desks.iter().any(|d| d.services.contains(&target)) {
        return None;
    }
    let mut lines = lines.to_vec();
    if let Some(l) = lines.get_mut(target)
        && l.len() <= ahead
    {
        l.normal = ahead + 1 - l.priority.min(ahead + 1);
    }
    let mean = |s: usize| means.get(s).copied().unwrap_or(300.0).max(1.0);
    let busy = desks
        .iter()
        .filter(|d| d.busy_with.is_some())
        .count()
        .max(1) as f64;
    // (time free, counter), earliest first; times in milliseconds to order them exactly.
    let mut free: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut rank = 0.0;
    for (i, d) in desks.iter().enumerate() {
        let at = match d.busy_with {
            Some(s) => {
                rank += 1.0;
                rank / busy * mean(s)
            }
            None => 0.0,
        };
        free.push(Reverse(((at * 1000.0) as u64, i)));
    }
    let mut ahead = ahead;
    while let Some(Reverse((at, i))) = free.pop() {
        let d = &desks[i];
        let next = d
            .services
            .iter()
            .copied()
            .find(|&s| lines.get(s).is_some_and(|l| l.priority > 0))
            .or_else(|| {
                d.services
                    .iter()
                    .copied()
                    .find(|&s| lines.get(s).is_some_and(|l| l.len() > 0))
            });
        let Some(s) = next else {
            // Nothing left this counter may call: it stays idle.
            continue;
        };
        if s == target {
            if ahead == 0 {
                return Some(at as f64 / 1000.0);
            }
            ahead -= 1;
        }
        lines[s].pop();
        free.push(Reverse((at + (mean(s) * 1000.0) as u64, i)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desks(n: usize, busy: bool) -> Vec<Desk> {
        (0..n)
            .map(|_| Desk {
                services: vec![0],
                busy_with: busy.then_some(0),
            })
            .collect()
    }

    fn line(n: u32) -> Vec<Line> {
        vec![Line {
            priority: 0,
            normal: n,
        }]
    }

    #[test]
    fn all_busy_gives_the_mms_wait() {
        // 3 busy counters, 5 minutes a service: k ahead waits (k + 1)·300/3.
        for k in [0u32, 1, 2, 5, 11] {
            let w = wait_secs(&desks(3, true), &line(k + 1), &[300.0], 0, k).unwrap();
            assert!((w - f64::from(k + 1) * 100.0).abs() < 0.01, "k={k}: {w}");
        }
    }

    #[test]
    fn a_free_counter_means_no_wait_only_with_nobody_ahead() {
        let mut d = desks(3, true);
        d[1].busy_with = None;
        assert_eq!(wait_secs(&d, &line(1), &[300.0], 0, 0), Some(0.0));
        let w = wait_secs(&d, &line(2), &[300.0], 0, 1).unwrap();
        assert!(w > 0.0, "the one ahead takes the free counter: {w}");
    }

    #[test]
    fn preferred_services_are_called_first_and_priority_before_all() {
        // One counter prefers service 1 over 0; two people wait for 1, one for 0.
        let d = vec![Desk {
            services: vec![1, 0],
            busy_with: Some(0),
        }];
        let lines = vec![
            Line {
                priority: 0,
                normal: 1,
            },
            Line {
                priority: 0,
                normal: 2,
            },
        ];
        let w = wait_secs(&d, &lines, &[100.0, 200.0], 0, 0).unwrap();
        assert!(
            (w - (100.0 + 400.0)).abs() < 0.01,
            "after both of service 1: {w}"
        );
        // A priority ticket of service 0 goes before the preferred service.
        let lines = vec![
            Line {
                priority: 1,
                normal: 0,
            },
            lines[1],
        ];
        let w = wait_secs(&d, &lines, &[100.0, 200.0], 0, 0).unwrap();
        assert!((w - 100.0).abs() < 0.01, "{w}");
    }

    #[test]
    fn no_counter_for_the_service_gives_none() {
        assert_eq!(wait_secs(&desks(2, true), &line(1), &[300.0], 1, 0), None);
    }
}
