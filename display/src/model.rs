//! Protocol types → what the screens show: the board's calls, waiting counts, notice pages, modes
//! and the counter screen. Pure functions, so that what a customer reads is tested without a window.

use chrono::{DateTime, Datelike, Utc};
use hallq_shared::hall::{CounterId, CounterState, DayPhase, OutageKind};
use hallq_shared::protocol::{BoardMode, BoardSnapshot, CallView, Notices};
use slint::{ModelRc, SharedString, VecModel};

use crate::ui::{CallItem, NoticeLine, NoticePage, WaitCount, WaitService};

/// The hall's time zone, falling back to China's when the hub sends an unknown name.
pub fn hall_zone(notices: &Notices) -> chrono_tz::Tz {
    notices
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

/// `"约15分钟"` / `"about 15 min"`. A wait under a minute reads as no wait at all.
pub fn wait_text(secs: u32) -> (String, String) {
    if secs < 60 {
        return ("无需等候".into(), "no wait".into());
    }
    let min = secs.div_ceil(60);
    if min < 60 {
        return (format!("约{min}分钟"), format!("about {min} min"));
    }
    let (h, m) = (min / 60, min % 60);
    if m == 0 {
        (format!("约{h}小时"), format!("about {h} h"))
    } else {
        (format!("约{h}小时{m}分"), format!("about {h} h {m} min"))
    }
}

/// The range the hub sends ("约15–20分钟", "20分钟以上"), or the single figure from a hub that
/// sends none.
pub fn range_text(secs: u32, lo_s: u32, hi_s: Option<u32>) -> (String, String) {
    if lo_s == 0 && hi_s.is_none() {
        return wait_text(secs);
    }
    let r = hallq_shared::estimate::WaitRange { lo_s, hi_s };
    (r.zh(), r.en())
}

/// Date, weekday and time of day as the hall reads them.
pub fn clock_texts(now: DateTime<Utc>, tz: chrono_tz::Tz) -> (String, String, String) {
    let local = now.with_timezone(&tz);
    const WEEKDAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    let wd = WEEKDAYS[local.weekday().num_days_from_monday() as usize];
    (
        format!("{}年{}月{}日", local.year(), local.month(), local.day()),
        format!("星期{wd}"),
        local.format("%H:%M").to_string(),
    )
}

pub fn local_hhmm(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

pub fn call_item(c: &CallView, notices: &Notices, tz: chrono_tz::Tz) -> CallItem {
    let service = notices.services.iter().find(|s| s.id == c.service);
    CallItem {
        id: c.id as i32,
        number: c.number.as_str().into(),
        counter: c.counter_name.zh.as_str().into(),
        counter_en: c.counter_name.get(hallq_shared::hall::Lang::En).into(),
        service: service.map(|s| s.name.zh.as_str()).unwrap_or("").into(),
        service_en: service.map(|s| s.name.en.as_str()).unwrap_or("").into(),
        apology: c.apology,
        recall: c.recall,
        time: local_hhmm(c.at, tz).into(),
    }
}

fn line(text: &str, en: &str, value: &str, heading: bool) -> NoticeLine {
    NoticeLine {
        text: text.into(),
        en: en.into(),
        value: value.into(),
        heading,
    }
}

/// One titled section before paging.
struct Section {
    title: (String, String),
    lines: Vec<NoticeLine>,
}

/// The hall's public notices (Ch.3 §1.2, §1.5) as pages of at most `per_page` lines: every service
/// with its documents, steps and fees, the fee schedule, the commitments, hotlines and hours.
/// The part of the notices the pages are made of: without the live waiting counts and estimates,
/// which change with every ticket and must not send the guide back to its first page.
pub fn pages_source(n: &Notices) -> Notices {
    let mut n = n.clone();
    for s in &mut n.services {
        s.waiting = 0;
        s.estimated_wait_s = 0;
        s.estimated_wait_lo_s = 0;
        s.estimated_wait_hi_s = None;
        s.long_wait = false;
    }
    n
}

pub fn notice_pages(snap: &BoardSnapshot, per_page: usize) -> Vec<NoticePage> {
    let n = &snap.notices;
    let per_page = per_page.max(3);
    let mut sections = Vec::new();
    for s in n.services.iter().filter(|s| s.enabled) {
        let mut lines = Vec::new();
        if !s.documents.is_empty() {
            lines.push(line("所需材料", "What to bring", "", true));
            for d in &s.documents {
                lines.push(line(&format!("· {}", d.zh), &d.en, "", false));
            }
        }
        if !s.steps.is_empty() {
            lines.push(line("办理流程", "Steps", "", true));
            for (i, st) in s.steps.iter().enumerate() {
                lines.push(line(&format!("{}. {}", i + 1, st.zh), &st.en, "", false));
            }
        }
        if !s.fees.is_empty() {
            lines.push(line("收费标准", "Fees", "", true));
            for f in &s.fees {
                lines.push(line(
                    &format!("· {}", f.item.zh),
                    &f.item.en,
                    &f.amount.zh,
                    false,
                ));
            }
        }
        if let Some(r) = &s.reminder {
            lines.push(line("温馨提示", "Reminder", "", true));
            lines.push(line(&r.zh, "", "", false));
        }
        sections.push(Section {
            title: (
                format!("办事指南 · {}", s.name.zh),
                format!("How to: {}", s.name.en),
            ),
            lines,
        });
    }
    if !n.fee_schedule.is_empty() {
        sections.push(Section {
            title: ("收费标准".into(), "Fee schedule".into()),
            lines: n
                .fee_schedule
                .iter()
                .map(|f| line(&f.item.zh, &f.item.en, &f.amount.zh, false))
                .collect(),
        });
    }
    if !n.commitments.is_empty() {
        sections.push(Section {
            title: ("服务承诺".into(), "Our commitments".into()),
            lines: n
                .commitments
                .iter()
                .map(|c| line(&format!("· {}", c.zh), &c.en, "", false))
                .collect(),
        });
    }
    let d = &snap.live.day;
    sections.push(Section {
        title: (
            "服务热线与营业时间".into(),
            "Hotlines and opening hours".into(),
        ),
        lines: vec![
            line("投诉电话", "Complaints", &n.complaint_hotline, false),
            line("咨询电话", "Enquiries", &n.consultation_hotline, false),
            line(
                "营业时间",
                "Opening hours",
                &format!("{}–{}", d.opening, d.closing),
                false,
            ),
            line("停止取号", "Last ticket", &d.last_ticket, false),
            line(
                "意见建议请在取号机留言或拨打投诉电话",
                "Suggestions: at the kiosk or on the complaint line",
                "",
                false,
            ),
        ],
    });

    let mut pages = Vec::new();
    for s in sections {
        let mut rest = s.lines.as_slice();
        let mut part = 0;
        while !rest.is_empty() || part == 0 {
            let mut take = rest.len().min(per_page);
            // Never end a page on a heading whose lines are on the next one.
            if take < rest.len() && take > 1 && rest[take - 1].heading {
                take -= 1;
            }
            let (title, title_en) = if part == 0 {
                s.title.clone()
            } else {
                (
                    format!("{}(续)", s.title.0),
                    format!("{} (cont.)", s.title.1),
                )
            };
            pages.push(NoticePage {
                title: title.into(),
                title_en: title_en.into(),
                lines: ModelRc::new(VecModel::from(rest[..take].to_vec())),
            });
            rest = &rest[take..];
            part += 1;
        }
    }
    pages
}

/// How many notice lines fit a page on a board of this size (mirrors the geometry of board.slint).
pub fn lines_per_page(width: u32, height: u32, banners: u32, services: usize) -> usize {
    let (w, h) = (width as f32, height as f32);
    let portrait = h > w;
    let u = if portrait {
        (w / 1080.0).min(h / 1920.0)
    } else {
        (w / 1920.0).min(h / 1080.0)
    };
    let (hu, _wu) = (h / u, w / u);
    let body_y = 104.0 + 20.0 + banners as f32 * (96.0 + 16.0);
    let body_h = hu - body_y - 96.0 - 20.0;
    let right_h = if portrait {
        hu - (body_y + 520.0 + 16.0 + 300.0 + 16.0) - 96.0 - 20.0
    } else {
        body_h
    };
    let waiting_h = (right_h * 0.55).min(132.0 + services as f32 * 54.0);
    let notices_h = right_h - waiting_h - 16.0;
    (((notices_h - 104.0) / 46.0).floor().max(3.0)) as usize
}

pub fn mode_name(snap: &BoardSnapshot) -> &'static str {
    match (snap.live.mode, snap.live.outage.as_ref().map(|o| o.kind)) {
        (BoardMode::Outage, Some(OutageKind::Long)) => "outage-long",
        (BoardMode::Outage, _) => "outage-short",
        (BoardMode::LongWait, _) => "long-wait",
        (BoardMode::Normal, _) => "normal",
    }
}

pub fn phase_name(p: DayPhase) -> &'static str {
    match p {
        DayPhase::BeforeOpening => "before-opening",
        DayPhase::Open => "open",
        DayPhase::TicketsEnded => "tickets-ended",
        DayPhase::Closed => "closed",
    }
}

/// The services in long wait, as one phrase in each language.
pub fn long_wait_services(snap: &BoardSnapshot) -> (String, String) {
    let long: Vec<_> = snap.live.waiting.iter().filter(|w| w.long_wait).collect();
    let zh: Vec<&str> = long.iter().map(|w| w.name.zh.as_str()).collect();
    let en: Vec<&str> = long
        .iter()
        .map(|w| w.name.get(hallq_shared::hall::Lang::En))
        .collect();
    if zh.is_empty() {
        ("部分业务".into(), "some services".into())
    } else {
        (format!("{}业务", zh.join("、")), en.join(", "))
    }
}

/// What an outage affects: the manager's own words, or the usual scope.
pub fn outage_affected(snap: &BoardSnapshot) -> (String, String) {
    match snap.live.outage.as_ref().and_then(|o| o.message.as_ref()) {
        Some(m) if !m.zh.trim().is_empty() => (m.zh.clone(), m.en.clone()),
        _ => (
            "业务系统暂时无法使用,缴费、开户、换机顶盒等业务暂停办理".into(),
            "payments, new accounts and set-top-box exchanges are paused".into(),
        ),
    }
}

/// The waiting panel's lines, the part that changes with the configuration or a long wait.
pub fn waiting_services(snap: &BoardSnapshot) -> Vec<WaitService> {
    snap.live
        .waiting
        .iter()
        .map(|w| WaitService {
            prefix: w.prefix.to_string().into(),
            name: w.name.zh.as_str().into(),
            name_en: w.name.en.as_str().into(),
            long_wait: w.long_wait,
        })
        .collect()
}

/// The waiting panel's figures, the part that changes with every ticket issued or called.
pub fn waiting_counts(snap: &BoardSnapshot) -> Vec<WaitCount> {
    snap.live
        .waiting
        .iter()
        .map(|w| WaitCount {
            waiting: w.waiting as i32,
            wait_text: if w.waiting == 0 {
                "—".into()
            } else {
                range_text(
                    w.estimated_wait_s,
                    w.estimated_wait_lo_s,
                    w.estimated_wait_hi_s,
                )
                .0
                .into()
            },
        })
        .collect()
}

pub fn scrolling_line(n: &Notices) -> String {
    n.scrolling
        .iter()
        .map(|t| {
            if t.en.is_empty() {
                t.zh.clone()
            } else {
                format!("{}  {}", t.zh, t.en)
            }
        })
        .collect::<Vec<_>>()
        .join("      ◆      ")
}

/// The counter screen's content: name, state and the number at the counter now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterScreen {
    pub name: String,
    pub name_en: String,
    pub state: &'static str,
    pub number: String,
    pub service: String,
    pub service_en: String,
}

pub fn counter_screen(snap: &BoardSnapshot, id: CounterId) -> Option<CounterScreen> {
    let c = snap.live.counters.iter().find(|c| c.id == id)?;
    let service = c
        .current_service
        .as_ref()
        .and_then(|s| snap.notices.services.iter().find(|v| &v.id == s));
    Some(CounterScreen {
        name: c.name.zh.clone(),
        name_en: c.name.en.clone(),
        state: match c.state {
            CounterState::Open => "open",
            CounterState::Paused => "paused",
            CounterState::Closed => "closed",
        },
        number: c.current.clone().unwrap_or_default(),
        service: service.map(|s| s.name.zh.clone()).unwrap_or_default(),
        service_en: service.map(|s| s.name.en.clone()).unwrap_or_default(),
    })
}

pub fn shared(s: impl AsRef<str>) -> SharedString {
    s.as_ref().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use slint::Model;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(wait_text(0).0, "无需等候");
        assert_eq!(range_text(900, 720, Some(1200)).0, "约12–20分钟");
        assert_eq!(range_text(900, 900, None).1, "over 15 min");
        assert_eq!(
            range_text(900, 0, None).0,
            "约15分钟",
            "a hub without ranges"
        );
        assert_eq!(wait_text(61).0, "约2分钟");
        assert_eq!(wait_text(15 * 60).0, "约15分钟");
        assert_eq!(wait_text(60 * 60).0, "约1小时");
        assert_eq!(
            wait_text(80 * 60),
            ("约1小时20分".into(), "about 1 h 20 min".into())
        );
    }

    #[test]
    fn the_clock_is_in_the_halls_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (date, wd, time) = clock_texts(at, chrono_tz::Asia::Shanghai);
        assert_eq!(
            (date.as_str(), wd.as_str(), time.as_str()),
            ("2026年11月25日", "星期三", "00:30")
        );
    }

    #[test]
    fn notice_pages_carry_every_service_and_never_overflow() {
        let snap = crate::demo::Scenario::Normal.snapshot();
        for per in [4, 7, 12] {
            let pages = notice_pages(&snap, per);
            for p in &pages {
                assert!(p.lines.row_count() <= per);
                let last = p.lines.row_data(p.lines.row_count() - 1).unwrap();
                assert!(
                    !last.heading || p.lines.row_count() == 1,
                    "page ends on a heading"
                );
            }
            for s in &snap.notices.services {
                assert!(pages.iter().any(|p| p.title.contains(s.name.zh.as_str())));
            }
            let all: Vec<String> = pages
                .iter()
                .flat_map(|p| {
                    p.lines
                        .iter()
                        .map(|l| l.value.to_string())
                        .collect::<Vec<_>>()
                })
                .collect();
            assert!(all.contains(&snap.notices.complaint_hotline));
            assert!(all.iter().any(|v| v == "26元/月"));
        }
    }

    #[test]
    fn lines_per_page_shrinks_with_banners() {
        let plain = lines_per_page(1920, 1080, 0, 6);
        let two = lines_per_page(1920, 1080, 2, 6);
        assert!(plain > two && two >= 3, "{plain} {two}");
        assert_eq!(lines_per_page(1280, 720, 0, 6), plain);
    }
}
