//! The command names of release 0.2 as an installer meets them: `hallq-kiosk` is the kiosk station
//! alone; the hub's commands it carried until 0.2 (`hallq-kiosk serve`, `user add`, `backup` …) say
//! where they went and do nothing; the old spelling `hallq-kiosk kiosk …` still starts the screen.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hallq-kiosk");

#[test]
fn the_hubs_old_commands_say_where_they_went_and_do_nothing() {
    let data = tempfile::tempdir().unwrap();
    for (args, expect) in [
        (
            vec!["serve", "--listen", "127.0.0.1:0"],
            "hallq-hub serve --listen 127.0.0.1:0",
        ),
        (
            vec!["user", "add", "clerk 1", "--role", "staff"],
            "hallq-hub user add 'clerk 1' --role staff",
        ),
        (
            vec!["device", "add", "kiosk-door", "--role", "kiosk"],
            "hallq-hub device add kiosk-door --role kiosk",
        ),
        (
            vec!["backup", "--to", "/tmp/b"],
            "hallq-hub backup --to /tmp/b",
        ),
        (vec!["demo"], "hallq-hub demo"),
        (vec!["retention"], "hallq-hub retention"),
        (vec!["restore", "x.db"], "hallq-hub restore x.db"),
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .arg("--data-dir")
            .arg(data.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("Run instead:  {expect} --data-dir")),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(data.path()).unwrap().count(),
        0,
        "nothing was created"
    );
}

#[test]
fn the_old_spelling_kiosk_kiosk_still_reaches_the_screen() {
    let out = Command::new(BIN)
        .args(["kiosk", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--printer") && help.contains("print-test"),
        "{help}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`hallq-kiosk kiosk ...` is now `hallq-kiosk ...`"),
        "{err}"
    );
    // Without the old word, nothing is said.
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
}
