//! A counter (窗口) where a clerk serves customers, and the services it takes in order of preference.

use serde::{Deserialize, Serialize};

use super::service::ServiceId;
use super::text::Text;

/// Counters are numbered as the hall numbers them: counter 3 is "3号窗口".
pub type CounterId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CounterState {
    Open,
    Paused,
    #[default]
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counter {
    pub id: CounterId,
    pub name: Text,
    /// Services this counter calls, most preferred first.
    pub services: Vec<ServiceId>,
}

impl Counter {
    pub fn serves(&self, service: &str) -> bool {
        self.services.iter().any(|s| s == service)
    }

    /// Position in the preference list (0 = most preferred).
    pub fn preference(&self, service: &str) -> Option<usize> {
        self.services.iter().position(|s| s == service)
    }
}
