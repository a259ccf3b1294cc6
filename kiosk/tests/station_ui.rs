//! The kiosk flow through the real Slint UI (testing backend): buttons found by what they say, pressed
//! as an accessibility client would, the hub on 127.0.0.1 answering.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_kiosk::{Controller, HubClient, KioskWindow, Station, StationView, Timeouts, ui};
use hallq_shared::engine::Command;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::ComponentHandle;
use support::{FakeHub, TOKEN, busy_morning};

struct Screen {
    ui: KioskWindow,
    c: Controller,
    latest: Arc<Mutex<Option<StationView>>>,
}

impl Screen {
    fn new(hub: &FakeHub) -> Screen {
        i_slint_backend_testing::init_no_event_loop();
        let ui = KioskWindow::new().unwrap();
        let latest = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&latest);
        let c = Controller::new(
            HubClient::new(&hub.url, TOKEN, Duration::from_secs(2)),
            None,
            Timeouts::default(),
            Box::new(move |v| *keep.lock().unwrap() = Some(v)),
        );
        ui::connect(&ui, &c);
        c.refresh();
        let s = Screen { ui, c, latest };
        s.pump();
        s
    }

    /// What the event-loop sink does in the real kiosk: put the newest screen on the window.
    fn pump(&self) {
        assert!(self.c.wait_idle(Duration::from_secs(10)));
        if let Some(v) = self.latest.lock().unwrap().take() {
            ui::apply(&self.ui, &v);
        }
    }

    /// Things a finger can press (a Text inside a button carries the same label: not counted).
    fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.ui, label)
            .filter(|e| {
                matches!(
                    e.accessible_role(),
                    Some(AccessibleRole::Button | AccessibleRole::Checkbox)
                )
            })
            .collect()
    }

    fn press(&self, label: &str) {
        let found = self.find(label);
        assert!(
            !found.is_empty(),
            "no element labelled {label:?} on screen {}",
            self.screen()
        );
        found[0].invoke_accessible_default_action();
        self.pump();
    }

    fn screen(&self) -> String {
        self.ui.global::<Station>().get_screen().to_string()
    }

    fn has_id(&self, id: &str) -> bool {
        ElementHandle::find_by_element_id(&self.ui, id)
            .next()
            .is_some()
    }
}

#[test]
fn take_a_ticket_by_touch_in_chinese_then_in_english() {
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    let s = Screen::new(&hub);
    assert_eq!(s.screen(), "start");
    // One big button per service, named as the hall names it.
    for name in ["业务办理/开户", "缴费", "报修", "换机顶盒", "咨询", "投诉"] {
        assert_eq!(s.find(name).len(), 1, "{name}");
    }
    s.press("缴费");
    assert_eq!(s.screen(), "detail");
    let detail = s.ui.global::<Station>().get_detail();
    assert_eq!(detail.name, "缴费");
    assert!(detail.load.contains("5 人"));

    s.press("返回");
    assert_eq!(s.screen(), "start");

    s.press("缴费");
    s.press("取号");
    assert_eq!(s.screen(), "issued");
    assert!(s.has_id("IssuedScreen::number"));
    let issued = s.ui.global::<Station>().get_issued();
    assert_eq!(issued.number, "B006");
    assert_eq!(issued.print_state, 2, "no printer here: the note says so");
    s.press("好的，完成");
    assert_eq!(s.screen(), "start");

    s.press("English");
    assert_eq!(s.find("Payments").len(), 1);
    s.press("Set-top box exchange");
    s.press("Take a ticket");
    let issued = s.ui.global::<Station>().get_issued();
    assert_eq!(issued.number, "D002");
    assert_eq!(issued.service, "Set-top box exchange");
    s.press("OK, done");
    s.press("中文");
    assert_eq!(s.find("缴费").len(), 1);
}

#[test]
fn leave_a_callback_number_with_the_keypad_during_a_long_outage() {
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    hub.run(Command::StartOutage {
        expected_minutes: 90,
        message: None,
    });
    let s = Screen::new(&hub);
    assert!(!s.ui.global::<Station>().get_banner().is_empty());
    s.press("留下电话，我们回电");
    assert_eq!(s.screen(), "callback");
    for d in "13812345678".chars() {
        s.press(&d.to_string());
    }
    assert_eq!(s.ui.global::<Station>().get_phone_shown(), "138 1234 5678");
    // Submit is disabled until the consent box is ticked.
    let submit = s.find("提交");
    assert_eq!(submit[0].accessible_enabled(), Some(false));
    let tick = s.find("我同意营业厅用这个号码给我回电");
    assert_eq!(tick[0].accessible_checked(), Some(false));
    s.press("我同意营业厅用这个号码给我回电");
    assert_eq!(
        s.find("我同意营业厅用这个号码给我回电")[0].accessible_checked(),
        Some(true)
    );
    s.press("提交");
    assert_eq!(s.screen(), "callback-done");
    let done = s.ui.global::<Station>().get_done_text();
    assert!(done.contains("138****5678"), "{done}");
    assert_eq!(s.ui.global::<Station>().get_phone_shown(), "");
    assert_eq!(hub.seen("POST", "/api/v1/callbacks").len(), 1);
}

#[test]
fn leave_a_suggestion_by_ticking_phrases() {
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    let s = Screen::new(&hub);
    s.press("意见建议");
    assert_eq!(s.screen(), "suggestion");
    s.press("服务态度很好，表扬");
    assert_eq!(
        s.find("服务态度很好，表扬")[0].accessible_checked(),
        Some(true)
    );
    s.press("提交");
    assert_eq!(s.screen(), "suggestion-done");
    let sent = hub.seen("POST", "/api/v1/suggestions");
    assert_eq!(sent[0].json()["text"], "服务态度很好，表扬");
}

#[test]
fn after_the_last_ticket_no_service_button_is_offered() {
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    hub.set_time(17, 10);
    let s = Screen::new(&hub);
    assert!(s.ui.global::<Station>().get_tickets_ended());
    assert!(s.find("缴费").is_empty());
    // Suggestions are still welcome.
    assert_eq!(s.find("意见建议").len(), 1);
}
