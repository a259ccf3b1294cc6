//! The real screen program (what `hallq-kiosk` runs): `--screenshot` draws the kiosk screen
//! from a hub on 127.0.0.1; bad flags are refused before any window opens.

mod support;

use std::process::Command;

use support::{FakeHub, TOKEN, busy_morning};

/// The program `hallq-kiosk ARGS` becomes.
fn kiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hallq-kiosk"))
}

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn screenshot_draws_the_start_screen_without_a_display() {
    let (hall, now) = busy_morning();
    let hub = FakeHub::start(hall, now);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for (size, expect) in [("800x480", (800, 480)), ("1024x600", (1024, 600))] {
        let out = dir.join(format!("cli-kiosk-{size}.png"));
        let _ = std::fs::remove_file(&out);
        let status = kiosk()
            .args(["--hub", &hub.url, "--token", TOKEN, "--size", size])
            .arg("--screenshot")
            .arg(&out)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(png_size(&out), expect);
    }
    // It asked the hub for the board, nothing else.
    assert_eq!(hub.seen("GET", "/api/v1/board").len(), 2);
    assert!(hub.seen("POST", "/api/v1/tickets").is_empty());
}

#[test]
fn a_bad_size_or_paper_width_is_refused_with_a_clear_message() {
    let out = kiosk()
        .args(["--token", "t", "--size", "big"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1024x600"));
    let out = kiosk()
        .args(["--token", "t", "--width", "500"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("384"));
}

#[test]
fn gpio_flags_are_checked_before_any_window_opens() {
    let run = |args: &[&str]| {
        let out = kiosk()
            .args(["--hub", "http://127.0.0.1:9", "--token", "t"])
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run(&["--button", "pay"]).contains("17=pay"));
    assert!(run(&["--button", "40=pay"]).contains("0–27"));
    assert!(run(&["--button", "17=pay", "--light-pin", "17"]).contains("used twice"));
    if !cfg!(feature = "rpi") {
        let err = run(&["--button", "17=pay", "--buzzer-pin", "18"]);
        assert!(
            err.contains("--features rpi") && err.contains("--keys"),
            "{err}"
        );
    }
}
