//! The screens under Slint's testing backend: what a customer reads, found by accessible label, and
//! the callback keypad flow (validation, consent, masking, clearing when left alone).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_board::demo::Scenario;
use hallq_board::screen::{CallbackSender, Kind, Screen, SendError, Submit};
use hallq_board::ui;
use hallq_shared::hall::Phone;
use hallq_shared::protocol::{CallbackCaptured, CaptureCallbackRequest};
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery, mock_elapsed_time};
use slint::ComponentHandle;

/// Answers as the hub does, and remembers what it was sent.
#[derive(Default)]
struct RecordingHub {
    sent: Mutex<Vec<CaptureCallbackRequest>>,
}

impl CallbackSender for RecordingHub {
    fn send(&self, req: &CaptureCallbackRequest) -> Result<CallbackCaptured, SendError> {
        self.sent.lock().unwrap().push(req.clone());
        let phone = Phone::parse(&req.phone).map_err(|e| SendError::Refused {
            zh: e.zh().into(),
            en: e.to_string(),
        })?;
        Ok(CallbackCaptured {
            id: 1,
            phone_masked: phone.masked(),
        })
    }
}

fn init() {
    i_slint_backend_testing::init_no_event_loop();
}

fn labels_of(screen: &Screen) -> Vec<String> {
    let collect = |q: ElementQuery| {
        q.match_descendants()
            .find_all()
            .into_iter()
            .filter(|e| e.is_valid())
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
    };
    match &*screen.kind() {
        Kind::Board(w) => collect(ElementQuery::from_root(w)),
        Kind::Counter(w, _) => collect(ElementQuery::from_root(w)),
    }
}

fn shows(screen: &Screen, label: &str) -> bool {
    labels_of(screen).iter().any(|l| l == label)
}

fn shows_part(screen: &Screen, part: &str) -> bool {
    labels_of(screen).iter().any(|l| l.contains(part))
}

fn board_with(scenario: Scenario) -> (Screen, ui::BoardWindow) {
    let screen = Screen::board(1920, 1080).unwrap();
    screen.set_animate(false);
    screen.show(&scenario.snapshot());
    let w = match &*screen.kind() {
        Kind::Board(w) => w.clone_strong(),
        Kind::Counter(..) => unreachable!(),
    };
    w.show().unwrap();
    (screen, w)
}

fn button(w: &ui::BoardWindow, label: &str) -> ElementHandle {
    ElementHandle::find_by_accessible_label(w, label)
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .unwrap_or_else(|| panic!("no button {label:?}"))
}

fn press(w: &ui::BoardWindow, label: &str) {
    button(w, label).invoke_accessible_default_action();
}

fn type_digits(w: &ui::BoardWindow, digits: &str) {
    for c in digits.chars() {
        press(w, &c.to_string());
    }
}

fn consent(w: &ui::BoardWindow) -> ElementHandle {
    ElementHandle::find_by_accessible_label(w, "我同意留下电话用于回电")
        .find(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
        .expect("the consent tick box")
}

#[test]
fn the_normal_board_shows_calls_waiting_and_notices() {
    init();
    let snap = Scenario::Normal.snapshot();
    let (screen, _w) = board_with(Scenario::Normal);
    let newest = &snap.live.calls[0];
    assert!(shows(&screen, &format!("当前叫号 {}", newest.number)));
    assert!(shows(&screen, &format!("请到 {}", newest.counter_name.zh)));
    // Two calls in the same second: the other one is right beneath, not replaced.
    let same_second = &snap.live.calls[1];
    assert_eq!(same_second.at, newest.at);
    assert!(shows(&screen, &same_second.number));
    for w in &snap.live.waiting {
        assert!(shows(&screen, &w.name.zh), "waiting row {}", w.name.zh);
    }
    assert!(shows(&screen, "等候情况"));
    assert!(shows_part(&screen, "办事指南"));
    assert!(shows_part(&screen, "投诉电话 Complaints 0713-7012345"));
    assert!(shows_part(&screen, "营业时间"));
    assert!(!shows_part(&screen, "正在重新连接"));
}

#[test]
fn a_recall_is_marked_on_the_big_call() {
    init();
    let (screen, _w) = board_with(Scenario::Normal);
    assert!(!shows(&screen, "再次呼叫"), "a first call is not a recall");
    let mut snap = Scenario::Normal.snapshot();
    let mut again = snap.live.calls[1].clone();
    again.id = 9_999;
    again.recall = true;
    snap.live.calls.insert(0, again.clone());
    screen.show(&snap);
    assert!(shows(&screen, &format!("当前叫号 {}", again.number)));
    assert!(shows(&screen, "再次呼叫"));
}

#[test]
fn a_lost_link_hides_the_calls_but_keeps_the_notices() {
    init();
    let snap = Scenario::Normal.snapshot();
    let (screen, _w) = board_with(Scenario::Normal);
    screen.lost();
    assert!(shows(&screen, "正在重新连接…"));
    assert!(!shows(
        &screen,
        &format!("当前叫号 {}", snap.live.calls[0].number)
    ));
    assert!(
        !shows(&screen, &snap.live.calls[1].number),
        "no old call anywhere"
    );
    assert!(shows_part(&screen, "办事指南"), "notices stay");
    screen.show(&snap);
    assert!(shows(
        &screen,
        &format!("当前叫号 {}", snap.live.calls[0].number)
    ));
}

#[test]
fn apologies_banners_and_the_day_phase() {
    init();
    let (screen, _w) = board_with(Scenario::TicketsEnded);
    assert!(shows_part(&screen, "今日取号已结束"));
    assert!(shows(&screen, "让您久等了 Sorry for the wait"));
    let (screen, _w) = board_with(Scenario::ShortOutage);
    assert!(shows(&screen, "系统故障,非常抱歉"));
    assert!(shows_part(&screen, "预计恢复时间"));
    assert!(
        !shows(&screen, "提交"),
        "no callback capture in a short outage"
    );
}

#[test]
fn long_outage_keypad_validates_consents_and_masks() {
    init();
    let (screen, w) = board_with(Scenario::LongOutage);
    let hub = Arc::new(RecordingHub::default());
    screen.set_submit(Submit::Inline(hub.clone()));
    assert!(
        shows_part(&screen, "保存不超过30天"),
        "purpose and retention are told"
    );

    type_digits(&w, "1381234");
    assert!(shows(&screen, "电话号码 138 1234"));
    press(&w, "提交");
    assert!(shows(&screen, "手机号码应为以1开头的11位数字"));
    assert!(hub.sent.lock().unwrap().is_empty());

    type_digits(&w, "5678");
    assert!(
        !shows(&screen, "手机号码应为以1开头的11位数字"),
        "typing clears the message"
    );
    press(&w, "提交");
    assert!(shows(&screen, "请勾选同意后提交"));
    assert!(
        hub.sent.lock().unwrap().is_empty(),
        "nothing leaves without consent"
    );

    let tick = consent(&w);
    assert_eq!(tick.accessible_checked(), Some(false));
    tick.invoke_accessible_default_action();
    assert_eq!(consent(&w).accessible_checked(), Some(true));
    press(&w, "提交");
    assert_eq!(hub.sent.lock().unwrap()[0].phone, "13812345678");
    assert!(shows(&screen, "已登记号码 138****5678"));
    let labels = labels_of(&screen).join("|");
    assert!(
        !labels.contains("1234 5678") && !labels.contains("12345678"),
        "{labels}"
    );

    // The confirmation is read, then goes; the keypad is back, empty.
    mock_elapsed_time(Duration::from_secs(11));
    assert!(!shows_part(&screen, "138****5678"));
    assert!(shows(&screen, "电话号码 "));
    assert!(screen.form().is_blank());
}

#[test]
fn keyboard_backspace_and_idle_clearing() {
    init();
    let (screen, w) = board_with(Scenario::LongOutage);
    for ch in ["0", "2", "7", "8"] {
        w.window()
            .dispatch_event(slint::platform::WindowEvent::KeyPressed { text: ch.into() });
    }
    assert!(shows(&screen, "电话号码 027 8"), "{:?}", labels_of(&screen));
    w.window()
        .dispatch_event(slint::platform::WindowEvent::KeyPressed {
            text: slint::platform::Key::Backspace.into(),
        });
    assert!(shows(&screen, "电话号码 027"));
    press(&w, "清空");
    assert!(shows(&screen, "电话号码 "));
    type_digits(&w, "0713876");
    consent(&w).invoke_accessible_default_action();
    mock_elapsed_time(Duration::from_secs(30));
    assert!(shows(&screen, "电话号码 0713 876"), "still typing");
    mock_elapsed_time(Duration::from_secs(46));
    assert!(
        shows(&screen, "电话号码 "),
        "left alone, the number is cleared"
    );
    assert_eq!(consent(&w).accessible_checked(), Some(false));
}

#[test]
fn long_wait_offers_the_callback_on_request() {
    init();
    let (screen, w) = board_with(Scenario::LongWait);
    assert!(shows_part(&screen, "等候时间较长,让您久等了"));
    assert!(!shows(&screen, "提交"));
    press(&w, "留下电话 回电通知");
    assert!(shows(&screen, "提交"));
    type_digits(&w, "139");
    press(&w, "取消");
    assert!(!shows(&screen, "提交"));
    assert!(screen.form().is_blank(), "cancel forgets the digits");
}

#[test]
fn counter_screens_show_the_number_or_the_pause() {
    init();
    let snap = Scenario::Normal.snapshot();
    let screen = Screen::counter(2, 1280, 720).unwrap();
    screen.show(&snap);
    let at_two = snap.live.counters.iter().find(|c| c.id == 2).unwrap();
    let number = at_two.current.clone().unwrap();
    assert!(shows(&screen, &format!("当前号码 {number}")));
    assert!(shows(&screen, "2号窗口"));
    screen.lost();
    assert!(!shows(&screen, &format!("当前号码 {number}")));
    assert!(shows(&screen, "正在重新连接…"));

    let paused = Screen::counter(4, 1280, 720).unwrap();
    paused.show(&Scenario::CounterPaused.snapshot());
    assert!(shows(&paused, "暂停服务"));
    assert!(!shows_part(&paused, "当前号码"));
}

#[test]
fn the_guide_keeps_its_page_while_tickets_come_and_go() {
    init();
    let (screen, w) = board_with(Scenario::Normal);
    let g = w.global::<ui::Board>();
    g.set_page(2);
    // Waiting counts and estimates are in the notices too; a new ticket must not turn the page back.
    let mut snap = Scenario::Normal.snapshot();
    for s in &mut snap.notices.services {
        s.waiting += 1;
        s.estimated_wait_s += 60;
    }
    snap.seq += 1;
    screen.show(&snap);
    assert_eq!(g.get_page(), 2, "same guide, same page");
    // A real change of the guide (the manager edited a service) starts it again.
    snap.notices.services[0].documents.pop();
    screen.show(&snap);
    assert_eq!(g.get_page(), 0, "edited guide starts from its first page");
}
