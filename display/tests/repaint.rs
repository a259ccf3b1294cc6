//! What a new call redraws: the call card, the recent calls and the waiting figures of its
//! service, not the whole board. On a Pi the software renderer's time is proportional to what it redraws,
//! so a call that repainted the screen would show late and blink slowly.

mod common;

use chrono::NaiveTime;
use hallq_board::demo::DemoHall;
use hallq_shared::engine::Command;

#[test]
fn a_new_call_redraws_the_call_card_recent_calls_and_one_waiting_row() {
    let (w, h) = (1920u32, 1080u32);
    let (mut headless, screen) = common::still_board(w, h);
    let mut d = DemoHall::new();
    d.morning(NaiveTime::from_hms_opt(9, 40, 0).unwrap(), 10);
    screen.show(&d.snapshot());
    screen.window_show().unwrap();
    headless.render().expect("a first frame");

    for counter in [1, 2, 3, 1] {
        // The previous call has stopped blinking, as it has long before the next call comes.
        screen.end_flash();
        headless.render();
        d.advance_s(30);
        d.run(Command::CallNext { counter });
        screen.show(&d.snapshot());
        let region = headless.render().expect("a call redraws something");
        let area: u64 = region
            .iter()
            .map(|(_, s)| u64::from(s.width) * u64::from(s.height))
            .sum();
        let share = area as f64 / f64::from(w * h);
        let rects: Vec<String> = region
            .iter()
            .map(|(o, s)| format!("{}x{} at ({},{})", s.width, s.height, o.x, o.y))
            .collect();
        // Every waiting row may change (time passes, estimates move), and the call card, and all
        // six recent cells shift: still well under half the board.
        assert!(
            share < 0.40,
            "a call at counter {counter} redrew {:.0} % of the board: {rects:?}",
            share * 100.0
        );
        // Neither the header, the service guide (right of x = 1080, below y = 590) nor the
        // footer is touched.
        for (o, s) in region.iter() {
            let (top, bottom, right) = (o.y as u32, o.y as u32 + s.height, o.x as u32 + s.width);
            assert!(top >= 104, "the header was redrawn: {rects:?}");
            assert!(bottom <= h - 96, "the footer was redrawn: {rects:?}");
            assert!(
                right <= 1080 || bottom <= 590,
                "the service guide was redrawn: {rects:?}"
            );
            // In the waiting panel only the figures change: the services' letters and names
            // (left of x = 1500) stay as they are.
            assert!(
                right <= 1080 || o.x >= 1500,
                "a waiting line was redrawn with its name: {rects:?}"
            );
        }
        // The call card is drawn, with the new number in it: the number's yellow is in the region.
        let number = d.snapshot().live.calls[0].number.clone();
        let (cx, cy) = (w / 2 * 56 / 100, 300);
        assert!(
            region.iter().any(|(o, s)| {
                (o.x as u32..o.x as u32 + s.width).contains(&cx)
                    && (o.y as u32..o.y as u32 + s.height).contains(&cy)
            }),
            "{number}: the call card was not redrawn: {rects:?}"
        );
    }
}
