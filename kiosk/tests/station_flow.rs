//! The kiosk's behaviour end to end against a hub on 127.0.0.1: tickets, printer trouble, the end of
//! the day, callbacks, suggestions, idle return. No drawing here (see `station_ui` and
//! `station_screens`): these tests read the screen the controller hands to the UI.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hallq_kiosk::printing::MemoryPrinter;
use hallq_kiosk::view::Screen;
use hallq_kiosk::{Controller, HubClient, PrinterDesk, PrinterHealth, StationView, Timeouts};
use hallq_shared::engine::Command;
use hallq_shared::hall::Lang;
use support::{FakeHub, TOKEN, busy_morning};

const WAIT: Duration = Duration::from_secs(10);

struct Kiosk {
    c: Controller,
    shown: Arc<Mutex<Vec<StationView>>>,
}

impl Kiosk {
    fn last(&self) -> StationView {
        self.shown.lock().unwrap().last().cloned().unwrap()
    }

    fn settle(&self) -> StationView {
        assert!(self.c.wait_idle(WAIT), "the kiosk's work did not finish");
        self.last()
    }
}

fn kiosk(hub: &FakeHub, printer: Option<&MemoryPrinter>, print_timeout: Duration) -> Kiosk {
    let shown = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&shown);
    let desk = printer.map(|p| PrinterDesk::start(Box::new(p.clone()), print_timeout));
    let c = Controller::new(
        HubClient::new(&hub.url, TOKEN, Duration::from_secs(2)),
        desk,
        Timeouts::default(),
        Box::new(move |v| keep.lock().unwrap().push(v)),
    );
    c.refresh();
    Kiosk { c, shown }
}

fn morning_hub() -> FakeHub {
    let (hall, now) = busy_morning();
    FakeHub::start(hall, now)
}

#[test]
fn start_screen_offers_every_service_with_its_queue() {
    let hub = morning_hub();
    let k = kiosk(&hub, None, WAIT);
    let v = k.last();
    assert_eq!(v.screen, "start");
    assert_eq!(v.hall_name, "楚天视讯英山营业厅");
    let names: Vec<&str> = v.services.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["业务办理/开户", "缴费", "报修", "换机顶盒", "咨询", "投诉"]
    );
    let pay = &v.services[1];
    assert_eq!(pay.letter, "B");
    assert!(pay.load.starts_with("等候 5 人"), "{}", pay.load);
    assert!(!v.tickets_ended);
    assert_eq!(v.banner, "");
    assert!(!v.callback_offer);
    assert_eq!(v.labels.lang_switch, "English");

    k.c.toggle_lang();
    let v = k.last();
    assert_eq!(v.services[1].name, "Payments");
    assert!(
        v.services[1].load.starts_with("5 waiting"),
        "{}",
        v.services[1].load
    );
    assert_eq!(v.labels.lang_switch, "中文");
}

#[test]
fn choosing_a_service_tells_documents_steps_fees_and_wait_then_issues_and_prints() {
    let hub = morning_hub();
    let printer = MemoryPrinter::default();
    let k = kiosk(&hub, Some(&printer), WAIT);

    k.c.choose_service("stb");
    let v = k.last();
    assert_eq!(v.screen, "detail");
    assert_eq!(v.detail.name, "换机顶盒");
    assert_eq!(
        v.detail.documents,
        ["本人有效身份证原件", "旧机顶盒、遥控器及智能卡"]
    );
    assert_eq!(v.detail.steps.len(), 2);
    assert!(v.detail.fees.iter().any(|(_, a)| a == "200元"));
    assert!(
        v.detail.load.starts_with("您前面还有 1 人"),
        "{}",
        v.detail.load
    );

    k.c.take_ticket_here();
    let v = k.settle();
    assert_eq!(v.screen, "issued");
    assert_eq!(v.issued.number, "D002");
    assert_eq!(v.issued.service, "换机顶盒");
    assert_eq!(v.issued.print_state, 1, "{}", v.issued.print_note);
    assert!(v.issued.load.contains("1 人"));

    let printed = printer.printed();
    assert_eq!(printed.len(), 1);
    let p = &printed[0];
    assert_eq!(p.number, "D002");
    assert_eq!(p.hall_name, "楚天视讯英山营业厅");
    assert_eq!(p.documents[1], "旧机顶盒、遥控器及智能卡");
    assert!(p.reminder.as_deref().unwrap().contains("机顶盒"));
    assert_eq!(p.complaint_hotline, "0713-7012345");
    assert_eq!(p.status_url, format!("{}/t/D002", hub.url));
    assert_eq!(p.issued_at, "2026-11-25 09:41");
    assert_eq!(p.lang, Lang::Zh);

    let sent = hub.seen("POST", "/api/v1/tickets");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json()["service"], "stb");
    assert_eq!(sent[0].auth.as_deref(), Some("Bearer kiosk-door-token"));
    // The hub hears the printer is fine.
    let status = hub.seen("PUT", "/api/v1/kiosk/status");
    assert_eq!(status.last().unwrap().json()["printer"], "ready");

    k.c.done();
    assert_eq!(k.last().screen, "start");
}

#[test]
fn a_button_press_issues_from_any_screen_and_a_double_press_gives_one_ticket() {
    let hub = morning_hub();
    let k = kiosk(&hub, None, WAIT);
    // The physical button path: no detail screen in between.
    k.c.take_ticket("pay", false);
    k.c.take_ticket("pay", false);
    let v = k.settle();
    assert_eq!(v.screen, "issued");
    assert_eq!(v.issued.number, "B006");
    assert_eq!(hub.seen("POST", "/api/v1/tickets").len(), 1);
    // No printer configured: the number is on screen with a clear note.
    assert_eq!(v.issued.print_state, 2);
    assert!(v.issued.print_note.contains("记住您的号码"));
}

#[test]
fn out_of_paper_still_gives_the_number_and_tells_staff() {
    let hub = morning_hub();
    let printer = MemoryPrinter::default();
    printer.set_health(PrinterHealth::PaperOut);
    let k = kiosk(&hub, Some(&printer), WAIT);
    k.c.take_ticket("repair", false);
    let v = k.settle();
    assert_eq!(v.screen, "issued");
    assert_eq!(v.issued.number, "C003");
    assert_eq!(v.issued.print_state, 2);
    assert!(
        v.issued.print_note.starts_with("打印机缺纸。"),
        "{}",
        v.issued.print_note
    );
    assert!(v.issued.print_note.contains("请记住您的号码"));
    assert!(printer.printed().is_empty());
    let status = hub.seen("PUT", "/api/v1/kiosk/status");
    assert_eq!(status.last().unwrap().json()["printer"], "paper_out");

    // The queue goes on: the next customer gets the next number.
    k.c.done();
    k.c.take_ticket("repair", false);
    assert_eq!(k.settle().issued.number, "C004");
}

#[test]
fn a_printer_that_never_answers_does_not_hold_the_screen() {
    let hub = morning_hub();
    let printer = MemoryPrinter::default();
    printer.set_stall(Duration::from_secs(3));
    let k = kiosk(&hub, Some(&printer), Duration::from_millis(300));
    let started = Instant::now();
    k.c.take_ticket("consult", false);
    let v = k.settle();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(v.issued.number, "E001");
    assert_eq!(v.issued.print_state, 2);
    assert!(v.issued.print_note.contains("打印机没有响应"));
    let status = hub.seen("PUT", "/api/v1/kiosk/status");
    assert_eq!(status.last().unwrap().json()["printer"], "no_answer");
}

#[test]
fn after_the_last_ticket_time_the_kiosk_says_so_politely_with_the_hotlines() {
    let hub = morning_hub();
    let k = kiosk(&hub, None, WAIT);
    hub.set_time(17, 5);
    k.c.refresh();
    let v = k.last();
    assert!(v.tickets_ended);
    assert_eq!(v.labels.ended_title, "今天的取号已结束");
    assert!(v.labels.ended_body.contains("08:30"));
    assert!(v.labels.hotlines.contains("96516"));
    assert!(v.labels.hotlines.contains("0713-7012345"));
    // A button pressed now issues nothing.
    k.c.take_ticket("pay", false);
    assert!(k.c.wait_idle(WAIT));
    assert!(hub.seen("POST", "/api/v1/tickets").is_empty());
    assert_eq!(k.last().screen, "start");
}

#[test]
fn a_refusal_from_the_hub_at_closing_time_shows_the_ended_screen() {
    let hub = morning_hub();
    let k = kiosk(&hub, None, WAIT);
    k.c.choose_service("pay");
    // The hub's clock passes the last-ticket time before the kiosk's next poll.
    hub.with(|s| s.now = support::at(17, 1));
    k.c.take_ticket_here();
    let v = k.settle();
    assert_eq!(v.screen, "start");
    assert!(v.tickets_ended);
}

#[test]
fn rate_limit_and_lost_hub_are_explained_on_screen() {
    let hub = morning_hub();
    let k = kiosk(&hub, None, WAIT);
    hub.with(|s| s.rate_limited = true);
    k.c.take_ticket("pay", false);
    let v = k.settle();
    assert_eq!(v.screen, "start");
    assert!(v.notice.contains("取号太频繁"), "{}", v.notice);

    let url = hub.url.clone();
    drop(hub);
    // Nothing listens there any more: connection refused.
    std::thread::sleep(Duration::from_millis(50));
    let _ = url;
    k.c.refresh();
    let v = k.last();
    assert!(v.notice.contains("正在连接"), "{}", v.notice);
    // The last board is kept so the screen still shows the services.
    assert_eq!(v.services.len(), 6);
}

fn outage_hub(expected_minutes: u32) -> FakeHub {
    let hub = morning_hub();
    hub.run(Command::StartOutage {
        expected_minutes,
        message: None,
    });
    hub
}

#[test]
fn a_short_outage_apologises_with_the_expected_time() {
    let hub = outage_hub(10);
    let printer = MemoryPrinter::default();
    let k = kiosk(&hub, Some(&printer), WAIT);
    let v = k.last();
    assert!(v.banner.contains("预计"), "{}", v.banner);
    assert!(v.banner.contains("09:51"), "{}", v.banner);
    assert!(!v.callback_offer);
    // Nobody is served until the system is back: every wait runs from 09:51 and promises no
    // upper end, and a line nobody stands in is not "served at once".
    for t in &v.services {
        assert!(t.load.ends_with("分钟以上"), "{}: {}", t.name, t.load);
    }
    let consult = v.services.iter().find(|t| t.id == "consult").unwrap();
    assert_eq!(consult.load, "无人等候 · 10分钟以上");
    // Six minutes on with nothing done in the hall, the next poll counts down with the outage.
    let start = hub.with(|s| s.now);
    hub.with(|s| s.now = start.plus_ms(6 * 60_000));
    k.c.refresh();
    let v = k.last();
    let consult = v.services.iter().find(|t| t.id == "consult").unwrap();
    assert_eq!(consult.load, "无人等候 · 4分钟以上");
    hub.with(|s| s.now = start);
    k.c.refresh();
    k.c.take_ticket("consult", false);
    let v = k.settle();
    assert_eq!(
        v.issued.load,
        "您前面没有人，预计等候10分钟以上，请留意叫号"
    );
    let p = &printer.printed()[0];
    assert!(p.estimated_wait_open, "{p:?}");
    assert_eq!(p.estimated_wait_min, 10);
}

#[test]
fn a_slow_business_system_is_apologised_for_until_staff_say_it_is_over() {
    let hub = morning_hub();
    hub.run(Command::SetSlowSystem { slow: true });
    let k = kiosk(&hub, None, WAIT);
    let v = k.last();
    assert!(v.banner.contains("业务系统响应较慢"), "{}", v.banner);
    assert!(!v.callback_offer);
    hub.run(Command::SetSlowSystem { slow: false });
    k.c.refresh();
    assert_eq!(k.last().banner, "");
}

#[test]
fn callback_capture_needs_consent_and_a_valid_number_and_forgets_it_after() {
    let hub = outage_hub(60);
    let k = kiosk(&hub, None, WAIT);
    let v = k.last();
    assert!(v.callback_offer);
    assert!(v.banner.contains("留下电话"), "{}", v.banner);

    k.c.open_callback();
    let v = k.last();
    assert_eq!(v.screen, "callback");
    assert!(v.purpose.contains("30 天后删除"), "{}", v.purpose);
    assert!(v.apology.contains("非常抱歉"));

    for d in "1381234567".chars() {
        k.c.key(&d.to_string());
    }
    assert_eq!(k.last().phone_shown, "138 1234 567");
    // No consent yet: nothing is sent.
    k.c.submit_callback();
    assert_eq!(k.last().phone_error, "请先勾选同意我们回电");
    k.c.toggle_consent();
    assert!(k.last().consent);
    // Ten digits: refused with the shared rule's Chinese message.
    k.c.submit_callback();
    assert!(k.c.wait_idle(WAIT));
    assert_eq!(k.last().phone_error, "手机号码应为以1开头的11位数字");
    assert!(hub.seen("POST", "/api/v1/callbacks").is_empty());

    k.c.key("<");
    k.c.key("7");
    k.c.key("8");
    assert_eq!(k.last().phone_error, "");
    k.c.submit_callback();
    let v = k.settle();
    assert_eq!(v.screen, "callback-done");
    assert!(v.done_text.contains("138****5678"), "{}", v.done_text);
    assert!(!v.done_text.contains("13812345678"));
    assert_eq!(v.phone_shown, "");
    assert!(!v.consent);

    let sent = hub.seen("POST", "/api/v1/callbacks");
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(body["phone"], "13812345678");
    assert_eq!(body["consent"], true);
    assert!(body["reason"].as_str().unwrap().contains("系统故障"));
    // Nothing the customer typed is left in any screen after the thanks.
    k.c.done();
    let all = k.shown.lock().unwrap();
    let after: Vec<_> = all.iter().rev().take(1).collect();
    assert!(after.iter().all(|v| v.phone_shown.is_empty()));
}

#[test]
fn the_keypad_takes_digits_only_and_clears() {
    let hub = outage_hub(60);
    let k = kiosk(&hub, None, WAIT);
    k.c.open_callback();
    for key in ["0", "7", "1", "3", "x", "+", "8"] {
        k.c.key(key);
    }
    assert_eq!(k.last().phone_shown, "0713 8");
    k.c.key("C");
    assert_eq!(k.last().phone_shown, "");
    for _ in 0..20 {
        k.c.key("9");
    }
    assert_eq!(k.last().phone_shown.replace(' ', "").len(), 12);
}

#[test]
fn a_suggestion_is_picked_not_typed_and_the_phone_is_optional() {
    let hub = morning_hub();
    let k = kiosk(&hub, None, WAIT);
    k.c.open_suggestion();
    let v = k.last();
    assert_eq!(v.screen, "suggestion");
    assert!(v.phrases.len() >= 5);
    k.c.submit_suggestion();
    assert_eq!(k.last().notice, "请至少点选一条意见");

    k.c.toggle_phrase(1);
    k.c.toggle_phrase(2);
    k.c.toggle_lang();
    assert!(k.last().phrases[1].1);
    assert_eq!(k.last().phrases[1].0, "The wait was too long");
    k.c.key("1");
    k.c.key("2");
    k.c.submit_suggestion();
    assert!(!k.last().phone_error.is_empty());
    k.c.key("C");
    k.c.submit_suggestion();
    let v = k.settle();
    assert_eq!(v.screen, "suggestion-done");
    let sent = hub.seen("POST", "/api/v1/suggestions");
    assert_eq!(sent.len(), 1);
    // Staff read it in Chinese whatever language the customer used.
    assert_eq!(sent[0].json()["text"], "等候时间太长；希望增加服务窗口");
    assert!(sent[0].json().get("contact").is_none());

    k.c.open_suggestion();
    assert!(
        k.last().phrases.iter().all(|(_, t)| !t),
        "the last customer's picks are gone"
    );
    k.c.toggle_phrase(0);
    for d in "13912345678".chars() {
        k.c.key(&d.to_string());
    }
    k.c.submit_suggestion();
    let v = k.settle();
    assert!(v.done_text.contains("139****5678"), "{}", v.done_text);
    let sent = hub.seen("POST", "/api/v1/suggestions");
    assert_eq!(sent[1].json()["contact"], "13912345678");
}

#[test]
fn an_untouched_screen_returns_to_the_start_in_chinese_and_forgets_the_customer() {
    let hub = outage_hub(60);
    let k = kiosk(&hub, None, WAIT);
    let wall = Utc.with_ymd_and_hms(2026, 11, 25, 9, 41, 0).unwrap();
    k.c.toggle_lang();
    k.c.open_callback();
    k.c.key("1");
    k.c.key("3");
    k.c.toggle_consent();
    let t0 = Instant::now();
    k.c.tick(t0, wall);
    assert_eq!(k.last().screen, "callback");
    assert_eq!(k.last().clock, "09:41");
    k.c.tick(t0 + Duration::from_secs(60), wall);
    assert_eq!(k.last().screen, "callback", "a slow reader is not cut off");
    k.c.tick(t0 + Duration::from_secs(91), wall);
    let v = k.last();
    assert_eq!(v.screen, "start");
    assert_eq!(v.phone_shown, "");
    assert!(!v.consent);
    assert_eq!(v.labels.lang_switch, "English", "back to Chinese");
    assert_eq!(k.c.state().screen, Screen::Start);
}
