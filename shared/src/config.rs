//! The hall's configuration (TOML): name, hotlines, commitments, notices, services, counters, hours and
//! thresholds — and the demo hall used when no file is given.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::hall::day::{BusinessHours, hhmm};
use crate::hall::service::check_service;
use crate::hall::{Counter, Fee, Service, Text};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallConfig {
    pub hall: HallInfo,
    pub hotlines: Hotlines,
    pub hours: BusinessHours,
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Service commitments posted in the hall (Ch.3 §1.2).
    #[serde(default)]
    pub commitments: Vec<Text>,
    /// Lines of the scrolling notice.
    #[serde(default)]
    pub notices: Vec<Text>,
    /// The hall-wide fee schedule (the services also carry their own fee lines).
    #[serde(default)]
    pub fee_schedule: Vec<Fee>,
    pub services: Vec<Service>,
    pub counters: Vec<Counter>,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub voice: VoiceSettings,
    /// Watch the operator's business system and react when it stops answering (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSettings>,
}

/// The outage detector's settings: what to probe, how often, and what to do after repeated failures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSettings {
    /// `tcp://host:port` (a connection is enough) or `http://host:port/path` (any answer below 500).
    pub address: String,
    /// Seconds between probes.
    #[serde(default = "default_probe_every_s")]
    pub every_s: u32,
    /// Consecutive failed probes before acting.
    #[serde(default = "default_probe_failures")]
    pub failures: u32,
    /// Start the outage mode by itself, or only propose it to the manager.
    #[serde(default)]
    pub action: ProbeAction,
    /// The expected duration an automatically started outage announces.
    #[serde(default = "default_probe_minutes")]
    pub expected_minutes: u32,
    /// An answer slower than this (milliseconds) counts as slow. Absent: four times the usual
    /// answer (the median of the last normal ones), and at least a second. After `failures` slow
    /// answers in a row the detector proposes, or with `start` marks, the business system slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_ms: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeAction {
    #[default]
    Propose,
    Start,
}

/// Longest a probe of the business system may take before it counts as failed.
pub const PROBE_TIMEOUT_MS: u32 = 5_000;

fn default_probe_every_s() -> u32 {
    30
}

fn default_probe_failures() -> u32 {
    3
}

fn default_probe_minutes() -> u32 {
    30
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallInfo {
    pub name: Text,
    #[serde(default = "default_tz")]
    pub time_zone: String,
}

fn default_tz() -> String {
    "Asia/Shanghai".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hotlines {
    pub complaint: String,
    pub consultation: String,
}

/// Minutes after which the hall apologises or changes mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A service is in "long wait" when its oldest waiting ticket or its estimate passes this.
    pub long_wait_min: u32,
    /// A service that ran longer than this earns the next customer an apology (Ch.3 §1.6).
    pub long_service_min: u32,
    /// Outages expected (or lasting) at least this long are "long": callbacks are taken.
    pub long_outage_min: u32,
    /// The waiting-time target that reports measure against.
    pub target_wait_min: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            long_wait_min: 30,
            long_service_min: 15,
            long_outage_min: 30,
            target_wait_min: 15,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Tickets a kiosk device may issue per minute (a stuck button must not empty the roll).
    pub kiosk_tickets_per_minute: u32,
    /// Days a resolved callback (and its phone number) is kept.
    pub callback_retention_days: u32,
    /// Days of ticket and event history kept for reports.
    pub history_retention_days: u32,
    /// Kept for configurations that set it; the wait estimate no longer uses a fixed window (see
    /// `estimate::mean`).
    pub estimate_window: u32,
    /// Whether customers may take a ticket by scanning the code on the kiosk and the board.
    pub phone_tickets: bool,
    /// Whether that code changes every minute, so that a photo of it stops working within two.
    /// A hall that prints its code on a poster (no screen to show it) turns this off: the code
    /// then never changes, and anyone with a photo of it can take a ticket from anywhere.
    pub phone_code_rotates: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            kiosk_tickets_per_minute: 30,
            callback_retention_days: 30,
            history_retention_days: 730,
            estimate_window: 20,
            phone_tickets: true,
            phone_code_rotates: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceSettings {
    pub enabled: bool,
    /// 0–100.
    pub volume: u8,
    /// Repeat each call in English after Mandarin.
    pub english: bool,
    #[serde(with = "opt_hhmm", skip_serializing_if = "Option::is_none")]
    pub quiet_from: Option<NaiveTime>,
    #[serde(with = "opt_hhmm", skip_serializing_if = "Option::is_none")]
    pub quiet_to: Option<NaiveTime>,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            enabled: true,
            volume: 80,
            english: false,
            quiet_from: None,
            quiet_to: None,
        }
    }
}

mod opt_hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::hhmm::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveTime>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::hhmm")] NaiveTime);
        Option::<Wrap>::deserialize(d).map(|w| w.map(|Wrap(t)| t))
    }
}

/// Thresholds are minutes within a business day.
pub const MAX_THRESHOLD_MIN: u32 = 24 * 60;
/// Finished services an estimate looks back on.
pub const MAX_ESTIMATE_WINDOW: u32 = 1000;
/// Retention periods: a hundred years is "keep".
pub const MAX_RETENTION_DAYS: u32 = 36_500;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot parse the hall configuration: {0}")]
    Parse(String),
    #[error("invalid hall configuration: {0}")]
    Invalid(String),
}

impl HallConfig {
    pub fn from_toml(s: &str) -> Result<HallConfig, ConfigError> {
        let c: HallConfig = toml::from_str(s).map_err(|e| ConfigError::Parse(e.to_string()))?;
        c.validate().map_err(ConfigError::Invalid)?;
        Ok(c)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.hall
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai)
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn service_by_prefix(&self, prefix: char) -> Option<&Service> {
        self.services.iter().find(|s| s.prefix == prefix)
    }

    pub fn counter(&self, id: u32) -> Option<&Counter> {
        self.counters.iter().find(|c| c.id == id)
    }

    /// Every rule a configuration must satisfy, with a message a hall manager can act on.
    pub fn validate(&self) -> Result<(), String> {
        if self.hall.name.zh.trim().is_empty() {
            return Err("the hall's Chinese name is empty".into());
        }
        if self.hall.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(format!(
                "unknown time zone {:?} (e.g. Asia/Shanghai)",
                self.hall.time_zone
            ));
        }
        self.hours.check()?;
        if self.services.is_empty() {
            return Err("at least one service is needed".into());
        }
        for (i, s) in self.services.iter().enumerate() {
            check_service(s)?;
            if self.services[..i].iter().any(|o| o.id == s.id) {
                return Err(format!("service id {} appears twice", s.id));
            }
            if self.services[..i].iter().any(|o| o.prefix == s.prefix) {
                return Err(format!(
                    "ticket prefix {} is used by two services",
                    s.prefix
                ));
            }
        }
        for (i, c) in self.counters.iter().enumerate() {
            if c.id == 0 || c.id > 999 {
                return Err(format!("counter id {} must be 1–999", c.id));
            }
            if self.counters[..i].iter().any(|o| o.id == c.id) {
                return Err(format!("counter {} appears twice", c.id));
            }
            if c.name.zh.trim().is_empty() {
                return Err(format!("counter {}: the Chinese name is empty", c.id));
            }
            for s in &c.services {
                if self.service(s).is_none() {
                    return Err(format!("counter {} serves unknown service {s:?}", c.id));
                }
            }
        }
        if self.voice.volume > 100 {
            return Err("voice volume is 0–100".into());
        }
        let t = &self.thresholds;
        for (name, minutes) in [
            ("long_wait_min", t.long_wait_min),
            ("long_service_min", t.long_service_min),
            ("long_outage_min", t.long_outage_min),
            ("target_wait_min", t.target_wait_min),
        ] {
            if minutes > MAX_THRESHOLD_MIN {
                return Err(format!(
                    "thresholds {name} is at most {MAX_THRESHOLD_MIN} minutes (a day)"
                ));
            }
        }
        let p = &self.policy;
        if p.estimate_window > MAX_ESTIMATE_WINDOW
            || p.callback_retention_days > MAX_RETENTION_DAYS
            || p.history_retention_days > MAX_RETENTION_DAYS
        {
            return Err(format!(
                "policy estimate_window is at most {MAX_ESTIMATE_WINDOW}, retention at most {MAX_RETENTION_DAYS} days"
            ));
        }
        if let Some(p) = &self.probe {
            let ok = ["tcp://", "http://"]
                .iter()
                .any(|scheme| p.address.strip_prefix(scheme).is_some_and(|r| r.len() > 2));
            if !ok {
                return Err(format!(
                    "probe address {:?} must be tcp://host:port or http://host:port/path",
                    p.address
                ));
            }
            if p.every_s == 0 || p.failures == 0 || p.expected_minutes == 0 {
                return Err(
                    "probe every_s, failures and expected_minutes must be at least 1".into(),
                );
            }
            // An outage is announced for at most a day: the probe's own would be refused.
            if p.every_s > 86_400 || p.failures > 1000 || p.expected_minutes > 24 * 60 {
                return Err(
                    "probe every_s is at most 86400, failures at most 1000, expected_minutes at most 1440"
                        .into(),
                );
            }
            // A probe gives up after five seconds: a slower limit would never be reached.
            if p.slow_ms
                .is_some_and(|ms| !(1..PROBE_TIMEOUT_MS).contains(&ms))
            {
                return Err(format!(
                    "probe slow_ms must be from 1 to {} (a probe gives up after {PROBE_TIMEOUT_MS} ms)",
                    PROBE_TIMEOUT_MS - 1
                ));
            }
        }
        Ok(())
    }

    /// The demo hall: the six default services of a cable-TV and broadband hall and four counters.
    pub fn demo() -> HallConfig {
        fn t(zh: &str, en: &str) -> Text {
            Text::new(zh, en)
        }
        fn fee(item: (&str, &str), amount: (&str, &str)) -> Fee {
            Fee {
                item: t(item.0, item.1),
                amount: t(amount.0, amount.1),
            }
        }
        let id_card = t(
            "本人有效身份证原件",
            "Original ID card of the account holder",
        );
        let services = vec![
            Service {
                id: "account".into(),
                prefix: 'A',
                name: t("业务办理/开户", "New account & changes"),
                documents: vec![
                    id_card.clone(),
                    t(
                        "房产证或租房合同(新装)",
                        "Deed or tenancy contract (new installation)",
                    ),
                    t(
                        "代办需提供代办人身份证",
                        "Agent's ID card when acting for someone",
                    ),
                ],
                steps: vec![
                    t("取号等候叫号", "Take a ticket and wait to be called"),
                    t(
                        "窗口核对证件、填写业务单",
                        "Counter checks documents, fills in the form",
                    ),
                    t("缴纳费用并签字确认", "Pay and sign"),
                    t("预约上门安装时间", "Book the installation visit"),
                ],
                fees: vec![
                    fee(
                        ("数字电视初装费", "Digital TV installation"),
                        ("免费", "Free"),
                    ),
                    fee(
                        ("宽带100M包年", "Broadband 100M, one year"),
                        ("600元", "600 yuan"),
                    ),
                ],
                reminder: Some(t(
                    "安装人员将在约定时间上门,请保持电话畅通",
                    "The installer will come at the booked time; please keep your phone on",
                )),
                weight: 2,
                enabled: true,
                usual_minutes: None,
            },
            Service {
                id: "pay".into(),
                prefix: 'B',
                name: t("缴费", "Payments"),
                documents: vec![t("智能卡号或用户证号", "Smart-card or account number")],
                steps: vec![
                    t("报智能卡号", "Give the smart-card number"),
                    t("缴费并领取发票", "Pay and take the receipt"),
                ],
                fees: vec![
                    fee(
                        ("数字电视基本收视维护费", "Digital TV basic fee"),
                        ("26元/月", "26 yuan/month"),
                    ),
                    fee(
                        ("高清频道包", "HD channel pack"),
                        ("10元/月", "10 yuan/month"),
                    ),
                ],
                reminder: Some(t(
                    "缴费后请打开机顶盒并保持开机,等待授权信号",
                    "After paying, switch on the set-top box and leave it on to receive the authorisation",
                )),
                weight: 3,
                enabled: true,
                usual_minutes: None,
            },
            Service {
                id: "repair".into(),
                prefix: 'C',
                name: t("报修", "Fault report"),
                documents: vec![t(
                    "用户证号及联系电话",
                    "Account number and a contact phone",
                )],
                steps: vec![
                    t("说明故障现象", "Describe the fault"),
                    t("登记上门维修时间", "Book a repair visit"),
                ],
                fees: vec![fee(
                    ("上门维修(非人为损坏)", "Repair visit (normal wear)"),
                    ("免费", "Free"),
                )],
                reminder: Some(t(
                    "维修人员24小时内联系您",
                    "A technician will contact you within 24 hours",
                )),
                weight: 2,
                enabled: true,
                usual_minutes: None,
            },
            Service {
                id: "stb".into(),
                prefix: 'D',
                name: t("换机顶盒", "Set-top box exchange"),
                documents: vec![
                    id_card.clone(),
                    t(
                        "旧机顶盒、遥控器及智能卡",
                        "The old set-top box, remote and smart card",
                    ),
                ],
                steps: vec![
                    t("窗口检测旧机顶盒", "Counter tests the old box"),
                    t("领取新机顶盒并登记", "Receive and register the new box"),
                ],
                fees: vec![
                    fee(
                        ("保修期内更换", "Exchange under warranty"),
                        ("免费", "Free"),
                    ),
                    fee(
                        ("高清机顶盒(保修期外)", "HD set-top box (out of warranty)"),
                        ("200元", "200 yuan"),
                    ),
                ],
                reminder: Some(t(
                    "回家后请打开新机顶盒并保持开机,等待授权信号",
                    "At home, switch on the new box and leave it on to receive the authorisation",
                )),
                weight: 1,
                enabled: true,
                usual_minutes: None,
            },
            Service {
                id: "consult".into(),
                prefix: 'E',
                name: t("咨询", "Consultation"),
                documents: vec![],
                steps: vec![t("窗口解答", "Ask at the counter")],
                fees: vec![],
                reminder: None,
                weight: 1,
                enabled: true,
                usual_minutes: None,
            },
            Service {
                id: "complaint".into(),
                prefix: 'F',
                name: t("投诉", "Complaints"),
                documents: vec![t(
                    "相关票据或单据(如有)",
                    "Related receipts or forms, if any",
                )],
                steps: vec![
                    t(
                        "说明情况,工作人员登记",
                        "Explain; the staff member records it",
                    ),
                    t("约定答复时间", "Agree a time for the answer"),
                ],
                fees: vec![],
                reminder: Some(t(
                    "我们将在约定时间内答复您",
                    "We will answer you by the agreed time",
                )),
                weight: 1,
                enabled: true,
                usual_minutes: None,
            },
        ];
        let counter = |id: u32, services: &[&str]| Counter {
            id,
            name: t(&format!("{id}号窗口"), &format!("Counter {id}")),
            services: services.iter().map(|s| s.to_string()).collect(),
        };
        HallConfig {
            hall: HallInfo {
                name: t(
                    "楚天视讯英山营业厅",
                    "Chutian Video Network, Yingshan Service Hall",
                ),
                time_zone: default_tz(),
            },
            hotlines: Hotlines {
                complaint: "0713-7012345".into(),
                consultation: "96516".into(),
            },
            hours: BusinessHours {
                opening: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default(),
                last_ticket: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
                closing: NaiveTime::from_hms_opt(17, 30, 0).unwrap_or_default(),
            },
            thresholds: Thresholds::default(),
            probe: None,
            commitments: vec![
                t(
                    "首问负责,不让客户跑第二趟",
                    "Whoever you ask first sees it through: no second trip",
                ),
                t("故障报修24小时内上门", "Fault visits within 24 hours"),
                t(
                    "一次告知办理所需证件、流程和费用",
                    "Documents, steps and fees told in one go",
                ),
                t(
                    "系统故障时主动致歉并回电告知",
                    "During system outages we apologise and call you back",
                ),
            ],
            notices: vec![
                t(
                    "欢迎光临!请取号后在休息区等候叫号",
                    "Welcome! Please take a ticket and wait to be called",
                ),
                t(
                    "缴费后请保持机顶盒开机以接收授权",
                    "After paying, keep your set-top box on to receive the authorisation",
                ),
                t(
                    "意见和建议可在取号机留言,或拨打投诉电话",
                    "Leave a suggestion at the kiosk, or call the complaint line",
                ),
            ],
            fee_schedule: vec![
                fee(
                    ("数字电视基本收视维护费", "Digital TV basic fee"),
                    ("26元/月", "26 yuan/month"),
                ),
                fee(("宽带100M", "Broadband 100M"), ("50元/月", "50 yuan/month")),
                fee(
                    ("高清频道包", "HD channel pack"),
                    ("10元/月", "10 yuan/month"),
                ),
                fee(
                    ("机顶盒(保修期外)", "Set-top box (out of warranty)"),
                    ("200元", "200 yuan"),
                ),
            ],
            services,
            counters: vec![
                counter(1, &["account", "pay", "consult"]),
                counter(2, &["pay", "stb", "account"]),
                counter(3, &["repair", "stb", "complaint"]),
                counter(4, &["complaint", "consult", "repair", "pay"]),
            ],
            policy: Policy::default(),
            voice: VoiceSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_hall_is_valid_and_round_trips_through_toml() {
        let demo = HallConfig::demo();
        demo.validate().unwrap();
        assert_eq!(demo.services.len(), 6);
        assert_eq!(demo.counters.len(), 4);
        assert!(
            demo.service("stb").is_some(),
            "set-top-box exchange is a default service"
        );
        let back = HallConfig::from_toml(&demo.to_toml()).unwrap();
        assert_eq!(back, demo);
    }

    #[test]
    fn bad_configs_get_clear_messages() {
        let mut c = HallConfig::demo();
        c.services[1].prefix = 'A';
        assert!(c.validate().unwrap_err().contains("prefix A"));
        let mut c = HallConfig::demo();
        c.counters[0].services.push("nope".into());
        assert!(c.validate().unwrap_err().contains("unknown service"));
        let mut c = HallConfig::demo();
        c.hall.time_zone = "Mars/Base".into();
        assert!(c.validate().unwrap_err().contains("time zone"));
        // Values the engine computes with are bounded (a fuzzer found minutes × 60 overflowing).
        let mut c = HallConfig::demo();
        c.thresholds.long_service_min = u32::MAX;
        assert!(c.validate().unwrap_err().contains("at most 1440 minutes"));
        let mut c = HallConfig::demo();
        c.policy.estimate_window = u32::MAX;
        assert!(c.validate().unwrap_err().contains("estimate_window"));
        let mut c = HallConfig::demo();
        c.policy.history_retention_days = u32::MAX;
        assert!(c.validate().unwrap_err().contains("retention"));
        let err = HallConfig::from_toml("[hall]\nname = 3").unwrap_err();
        assert!(err.to_string().contains("cannot parse"));
    }
}
