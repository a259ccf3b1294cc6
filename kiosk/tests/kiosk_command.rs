//! `hallq-kiosk kiosk …` becomes the screen program `hallq-kiosk-screen` found beside it: same
//! process (systemd watches one PID), arguments passed on untouched, a clear error when it is missing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hallq-kiosk");

/// A folder holding this build's `hallq-kiosk`, as an installation would.
fn install_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("hallq-kiosk");
    if std::fs::hard_link(BIN, &exe).is_err() {
        std::fs::copy(BIN, &exe).unwrap();
    }
    dir
}

#[test]
fn kiosk_runs_the_screen_program_beside_it_in_the_same_process() {
    let dir = install_dir("kiosk-forward");
    let said = dir.join("said.txt");
    let screen = dir.join("hallq-kiosk-screen");
    // Stands in for the screen: writes its PID and the arguments it was given, one per line.
    std::fs::write(
        &screen,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$$\" \"$@\" > '{}'\n",
            said.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&screen, std::fs::Permissions::from_mode(0o755)).unwrap();

    let args = [
        "--hub",
        "http://127.0.0.1:9",
        "--token",
        "t t",
        "--help",
        "--size=800x480",
    ];
    let mut child = Command::new(dir.join("hallq-kiosk"))
        .arg("kiosk")
        .args(args)
        .env("PATH", "/usr/bin:/bin")
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    let said = std::fs::read_to_string(&said).unwrap();
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines[0], pid.to_string(), "the screen replaces the process");
    assert_eq!(
        &lines[1..],
        &args,
        "arguments arrive untouched, --help included"
    );
}

#[test]
fn a_missing_screen_program_is_a_clear_error() {
    let dir = install_dir("kiosk-missing");
    let out = Command::new(dir.join("hallq-kiosk"))
        .args(["kiosk", "--token", "t"])
        .env("PATH", dir.join("nowhere"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hallq-kiosk-screen is not installed") && err.contains("kiosk-missing"),
        "{err}"
    );
}
