//! Speaks a few calls through the board's real audio path (announcer queue + `aplay`), for checking the
//! speakers of a hall: `cargo run -p hallq-board --example announce_live -- PACK_DIR [ALSA_DEVICE]`.
//! On a machine without sound it logs "no sound output" once and carries on, as the board does.

use std::sync::Arc;

use hallq_board::voice::{Announcer, AnnouncerConfig, AplaySink, SystemClock, VoicePack};
use hallq_shared::config::VoiceSettings;
use hallq_shared::hall::Text;
use hallq_shared::protocol::CallView;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    let mut args = std::env::args().skip(1);
    let pack_dir = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: announce_live PACK_DIR [ALSA_DEVICE]"))?;
    let device = args.next();
    let pack = VoicePack::load(pack_dir.as_ref())?;
    let announcer = Announcer::start(
        pack,
        Box::new(AplaySink::new(device)),
        Arc::new(SystemClock),
        AnnouncerConfig::new(VoiceSettings::default(), chrono_tz::Asia::Shanghai),
    );
    let now = chrono::Utc::now();
    for (id, number, counter, apology, recall) in [
        (1, "A007", 3, false, false),
        (2, "B012", 12, true, false),
        (3, "A007", 3, false, true),
    ] {
        let call = CallView {
            id,
            number: number.into(),
            service: "account".into(),
            counter,
            counter_name: Text::new(format!("{counter}号窗口"), format!("Counter {counter}")),
            at: now,
            apology,
            recall,
        };
        announcer.enqueue(&call, now);
    }
    let stats = announcer.shutdown();
    println!("{stats:?}");
    Ok(())
}
