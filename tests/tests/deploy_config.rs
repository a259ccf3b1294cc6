//! The default /etc/hallq/hall.toml shipped in the hub package: it must parse, and it must stay the demo
//! hall the code knows (regenerate with `HALLQ_WRITE_DEFAULT_CONFIG=1 cargo test -p hallq-tests
//! --test deploy_config`).

use std::path::PathBuf;

use hallq_shared::config::HallConfig;

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/etc/hall.toml")
}

const HEADER: &str = "\
# /etc/hallq/hall.toml — the hall's configuration, read by `hallq-hub serve`.
# Edit, then: sudo systemctl restart hallq-hub
# The setup script (hallq-setup) fills in the hall's name and time zone; the rest is the demo hall:
# adjust services, counters, hours, notices and fees to your hall.
# Times are in the hall's time zone ([hall] time_zone); the business day follows it.

";

#[test]
fn the_shipped_default_configuration_parses_and_is_the_demo_hall() {
    let path = shipped();
    if std::env::var_os("HALLQ_WRITE_DEFAULT_CONFIG").is_some() {
        std::fs::write(&path, format!("{HEADER}{}", HallConfig::demo().to_toml())).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(HEADER), "the header of {path:?} changed");
    let config = HallConfig::from_toml(&text).unwrap();
    assert_eq!(config, HallConfig::demo());
    assert_eq!(config.hall.time_zone, "Asia/Shanghai");
}

/// The setup script rewrites the hall's name and time zone with sed, by these sections and keys.
#[test]
fn the_lines_the_setup_script_edits_are_where_it_looks() {
    let text = std::fs::read_to_string(shipped()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let after = |section: &str| {
        let i = lines.iter().position(|l| *l == section).unwrap();
        lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with('['))
            .copied()
            .collect::<Vec<_>>()
    };
    assert!(
        after("[hall]")
            .iter()
            .any(|l| l.starts_with("time_zone = \""))
    );
    let name = after("[hall.name]");
    assert!(name.iter().any(|l| l.starts_with("zh = \"")), "{name:?}");
    assert!(name.iter().any(|l| l.starts_with("en = \"")), "{name:?}");
}
