//! A service item of the hall (业务): what the customer comes for, with what to bring, the steps,
//! the fees and the reminder given after service (rulebook Ch.3 §1.2, §1.5).

use serde::{Deserialize, Serialize};

use super::text::Text;

/// Short stable identifier of a service, e.g. `"pay"`. Used in URLs and configuration.
pub type ServiceId = String;

/// One fee line, e.g. "数字电视基本收视维护费" / "26元/月".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub item: Text,
    pub amount: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: ServiceId,
    /// The ticket letter: `A` gives A001, A002, …
    pub prefix: char,
    pub name: Text,
    #[serde(default)]
    pub documents: Vec<Text>,
    #[serde(default)]
    pub steps: Vec<Text>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// Said to the customer when the service is finished, e.g. switch on the set-top box.
    #[serde(default)]
    pub reminder: Option<Text>,
    /// Larger weight is called first when a counter serves several services equally preferred.
    #[serde(default = "default_weight")]
    pub weight: u32,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// About how many minutes one customer of this service takes, as the hall knows it before
    /// it has any history of its own (a new hall, a new service). The wait estimates start from
    /// it instead of five minutes, and the hall's own services soon take over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usual_minutes: Option<u32>,
}

/// The longest [`Service::usual_minutes`] accepted: a service of a whole morning is a mistake.
pub const MAX_USUAL_MINUTES: u32 = 240;

fn default_weight() -> u32 {
    1
}

fn default_true() -> bool {
    true
}

/// Why a service definition is not acceptable.
pub fn check_service(s: &Service) -> Result<(), String> {
    if s.id.is_empty()
        || s.id.len() > 32
        || !s
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "service id {:?} must be 1–32 letters, digits, '-' or '_'",
            s.id
        ));
    }
    if !s.prefix.is_ascii_uppercase() {
        return Err(format!(
            "service {}: prefix {:?} must be one capital letter A–Z",
            s.id, s.prefix
        ));
    }
    if s.name.zh.trim().is_empty() {
        return Err(format!("service {}: the Chinese name is empty", s.id));
    }
    if let Some(m) = s.usual_minutes
        && !(1..=MAX_USUAL_MINUTES).contains(&m)
    {
        return Err(format!(
            "service {}: usual_minutes is {m}; it must be 1–{MAX_USUAL_MINUTES}",
            s.id
        ));
    }
    Ok(())
}
