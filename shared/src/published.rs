//! What the operator's central service publishes to many halls at once (docs/central.md, "Published
//! texts"): the fee schedule, fees per service, notices, commitments and hotlines. The same types as
//! the hall's own configuration ([`HallConfig`]), so that a published document is checked by the same
//! rules and a hub takes it over field by field; everything else stays the hall's own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, HallConfig, Hotlines};
use crate::hall::{Fee, ServiceId, Text};

/// A published document. A section left out leaves the hall's own value as it is; a section given
/// replaces it whole (an empty list empties it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotlines: Option<Hotlines>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitments: Option<Vec<Text>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notices: Option<Vec<Text>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_schedule: Option<Vec<Fee>>,
    /// Fee lines per service id: replace that service's `fees` in a hall that has the service;
    /// a hall without it ignores the entry (which services a hall offers is its own affair).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_fees: BTreeMap<ServiceId, Vec<Fee>>,
}

/// Lines in one list: more than a board's notice line or a wall poster can show is a mistake.
pub const MAX_LINES: usize = 50;
/// Characters in one text.
pub const MAX_TEXT_CHARS: usize = 200;

impl Published {
    /// Parse TOML as an operator writes it, and check it.
    pub fn from_toml(s: &str) -> Result<Published, ConfigError> {
        let p: Published = toml::from_str(s).map_err(|e| ConfigError::Parse(e.to_string()))?;
        p.validate().map_err(ConfigError::Invalid)?;
        Ok(p)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Nothing at all to take over.
    pub fn is_empty(&self) -> bool {
        self == &Published::default()
    }

    /// The hall's configuration with this document's sections taken over.
    pub fn apply_to(&self, config: &HallConfig) -> HallConfig {
        let mut c = config.clone();
        if let Some(h) = &self.hotlines {
            c.hotlines = h.clone();
        }
        if let Some(v) = &self.commitments {
            c.commitments = v.clone();
        }
        if let Some(v) = &self.notices {
            c.notices = v.clone();
        }
        if let Some(v) = &self.fee_schedule {
            c.fee_schedule = v.clone();
        }
        for s in &mut c.services {
            if let Some(fees) = self.service_fees.get(&s.id) {
                s.fees = fees.clone();
            }
        }
        c
    }

    /// The checks a hall's own configuration passes, and the few a text written once for many halls
    /// needs besides (no blank lines, no empty hotline).
    pub fn validate(&self) -> Result<(), String> {
        if self.is_empty() {
            return Err(
                "the document publishes nothing: give at least one of hotlines, \
                        commitments, notices, fee_schedule, service_fees"
                    .into(),
            );
        }
        if let Some(h) = &self.hotlines {
            for (name, number) in [
                ("complaint", &h.complaint),
                ("consultation", &h.consultation),
            ] {
                let n = number.trim();
                if n.is_empty() || n.chars().count() > 30 {
                    return Err(format!("hotlines {name} must be 1–30 characters"));
                }
            }
        }
        let lines = |name: &str, texts: &[Text]| -> Result<(), String> {
            if texts.len() > MAX_LINES {
                return Err(format!(
                    "{name} has {} lines; at most {MAX_LINES}",
                    texts.len()
                ));
            }
            for (i, t) in texts.iter().enumerate() {
                text(&format!("{name} line {}", i + 1), t)?;
            }
            Ok(())
        };
        let fees = |name: &str, fees: &[Fee]| -> Result<(), String> {
            if fees.len() > MAX_LINES {
                return Err(format!(
                    "{name} has {} lines; at most {MAX_LINES}",
                    fees.len()
                ));
            }
            for (i, f) in fees.iter().enumerate() {
                text(&format!("{name} line {} item", i + 1), &f.item)?;
                text(&format!("{name} line {} amount", i + 1), &f.amount)?;
            }
            Ok(())
        };
        if let Some(v) = &self.commitments {
            lines("commitments", v)?;
        }
        if let Some(v) = &self.notices {
            lines("notices", v)?;
        }
        if let Some(v) = &self.fee_schedule {
            fees("fee_schedule", v)?;
        }
        let mut base = HallConfig::demo();
        for (id, v) in &self.service_fees {
            fees(&format!("service_fees.{id}"), v)?;
            // A service of that id, so that the hall's own rules judge the id and the fees.
            if base.service(id).is_none() {
                let mut s = base.services[0].clone();
                s.id = id.clone();
                s.prefix = (b'A'..=b'Z')
                    .map(char::from)
                    .find(|p| base.service_by_prefix(*p).is_none())
                    .unwrap_or('Z');
                base.services.push(s);
            }
        }
        // The hall's own parse and checks, on a hall with every section taken over.
        HallConfig::from_toml(&self.apply_to(&base).to_toml())
            .map(|_| ())
            .map_err(|e| match e {
                ConfigError::Parse(m) | ConfigError::Invalid(m) => m,
            })
    }
}

fn text(what: &str, t: &Text) -> Result<(), String> {
    if t.zh.trim().is_empty() {
        return Err(format!("{what}: the Chinese text (zh) is empty"));
    }
    if t.zh.chars().count() > MAX_TEXT_CHARS || t.en.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("{what}: at most {MAX_TEXT_CHARS} characters"));
    }
    if t.zh.chars().chain(t.en.chars()).any(char::is_control) {
        return Err(format!("{what}: no control characters (line breaks, tabs)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
notices = [ { zh = "春节期间营业时间调整", en = "New Year opening hours" } ]

[hotlines]
complaint = "0713-7000000"
consultation = "96516"

[[fee_schedule]]
item = { zh = "数字电视基本收视维护费", en = "Digital TV basic fee" }
amount = { zh = "28元/月", en = "28 yuan/month" }

[[service_fees.pay]]
item = { zh = "高清频道包" }
amount = { zh = "12元/月" }

[[service_fees.broadband]]
item = { zh = "宽带200M" }
amount = { zh = "60元/月" }
"#;

    #[test]
    fn a_document_takes_over_its_sections_only() {
        let p = Published::from_toml(DOC).unwrap();
        let hall = HallConfig::demo();
        let c = p.apply_to(&hall);
        assert_eq!(c.hotlines.complaint, "0713-7000000");
        assert_eq!(c.notices.len(), 1);
        assert_eq!(c.fee_schedule[0].amount.zh, "28元/月");
        assert_eq!(c.service("pay").unwrap().fees[0].amount.zh, "12元/月");
        // Left out: the hall's own.
        assert_eq!(c.commitments, hall.commitments);
        assert_eq!(
            c.service("account").unwrap().fees,
            hall.service("account").unwrap().fees
        );
        // The hall's own fields are never touched; a service it lacks is not added.
        assert_eq!(
            (c.hall.clone(), c.hours, c.counters.len()),
            (hall.hall.clone(), hall.hours, 4)
        );
        assert!(c.service("broadband").is_none());
        c.validate().unwrap();
        // Through JSON (the pull protocol) and back.
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(serde_json::from_value::<Published>(json).unwrap(), p);
        assert_eq!(Published::from_toml(&p.to_toml()).unwrap(), p);
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        let err = |s: &str| Published::from_toml(s).unwrap_err().to_string();
        assert!(err("").contains("publishes nothing"));
        assert!(err("[hall]\nname = \"x\"").contains("unknown field"));
        assert!(err("notices = [ { zh = \" \" } ]").contains("notices line 1"));
        assert!(err("[hotlines]\ncomplaint = \"\"\nconsultation = \"1\"").contains("complaint"));
        assert!(err("[hotlines]\ncomplaint = \"1\"").contains("missing field"));
        assert!(
            err("[[service_fees.\"bad id\"]]\nitem = { zh = \"a\" }\namount = { zh = \"1\" }")
                .contains("service id")
        );
        assert!(err("[[fee_schedule]]\nitem = { zh = \"a\" }").contains("amount"));
    }
}
