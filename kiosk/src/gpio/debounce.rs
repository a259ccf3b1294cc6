//! Button debouncing on a clock the caller supplies, so it can be tested without waiting.

/// A change of a button's settled state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Pressed,
    Released,
}

/// Reports a press only after the contact has read the same for `settle_ms`: contact bounce and
/// electrical spikes shorter than that are ignored, and a button held down reports one press.
#[derive(Clone, Debug)]
pub struct Debouncer {
    settle_ms: u64,
    stable: bool,
    candidate: bool,
    since_ms: u64,
}

impl Debouncer {
    pub fn new(settle_ms: u64) -> Debouncer {
        Debouncer {
            settle_ms,
            stable: false,
            candidate: false,
            since_ms: 0,
        }
    }

    /// Feeds one sample (`pressed` = contact closed) taken at `now_ms` (any monotonic clock).
    pub fn update(&mut self, pressed: bool, now_ms: u64) -> Option<Edge> {
        if pressed != self.candidate {
            self.candidate = pressed;
            self.since_ms = now_ms;
        }
        if self.candidate != self.stable && now_ms.saturating_sub(self.since_ms) >= self.settle_ms {
            self.stable = self.candidate;
            return Some(if self.stable {
                Edge::Pressed
            } else {
                Edge::Released
            });
        }
        None
    }

    /// The settled state.
    pub fn is_pressed(&self) -> bool {
        self.stable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `(level, from_ms)` steps sampled every `tick` ms up to `end` and collects edges.
    fn run(d: &mut Debouncer, steps: &[(bool, u64)], tick: u64, end: u64) -> Vec<(Edge, u64)> {
        let mut edges = Vec::new();
        let mut t = 0;
        while t <= end {
            let level = steps
                .iter()
                .rev()
                .find(|(_, from)| *from <= t)
                .is_some_and(|(l, _)| *l);
            if let Some(e) = d.update(level, t) {
                edges.push((e, t));
            }
            t += tick;
        }
        edges
    }

    #[test]
    fn a_bouncy_press_is_one_press() {
        let mut d = Debouncer::new(20);
        // Bounces for 8 ms, held for 200 ms, bounces on release.
        let steps = [
            (true, 100),
            (false, 102),
            (true, 104),
            (false, 106),
            (true, 108),
            (false, 308),
            (true, 310),
            (false, 312),
        ];
        let edges = run(&mut d, &steps, 1, 500);
        assert_eq!(edges, vec![(Edge::Pressed, 128), (Edge::Released, 332)]);
    }

    #[test]
    fn spikes_shorter_than_settle_time_are_ignored() {
        let mut d = Debouncer::new(20);
        let steps = [(true, 50), (false, 60), (true, 200), (false, 215)];
        assert!(run(&mut d, &steps, 1, 400).is_empty());
        assert!(!d.is_pressed());
    }

    #[test]
    fn a_held_button_presses_once() {
        let mut d = Debouncer::new(20);
        let edges = run(&mut d, &[(true, 0)], 5, 60_000);
        assert_eq!(edges, vec![(Edge::Pressed, 20)]);
    }

    #[test]
    fn two_real_presses_are_two() {
        let mut d = Debouncer::new(20);
        let steps = [(true, 0), (false, 100), (true, 300), (false, 400)];
        let presses = run(&mut d, &steps, 5, 600)
            .into_iter()
            .filter(|(e, _)| *e == Edge::Pressed)
            .count();
        assert_eq!(presses, 2);
    }
}
