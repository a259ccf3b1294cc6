//! The real audio path: announcer → `aplay` → ALSA. ALSA's `file` plugin over a `null` device stands in
//! for a sound card, so the test hears exactly the bytes a card would get. Needs `aplay` (alsa-utils);
//! with CI=true its absence fails the test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use hallq_board::voice::wav::apply_volume;
use hallq_board::voice::{
    Announcer, AnnouncerConfig, AplaySink, AudioSink, CallSpeech, ClipId, CounterVoice,
    SystemClock, VoicePack, render, sequence,
};
use hallq_shared::config::VoiceSettings;
use hallq_shared::hall::Text;
use hallq_shared::protocol::CallView;

fn have_aplay() -> bool {
    let ok = Command::new("aplay")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("aplay is needed (apt-get install alsa-utils)");
        }
        eprintln!("skipping: aplay is not installed");
    }
    ok
}

/// A player script that runs the real aplay with an ALSA configuration whose device `hallq_capture`
/// writes everything played to `capture`.
fn capturing_player(dir: &Path, capture: &Path) -> String {
    let conf = dir.join("asound.conf");
    std::fs::write(
        &conf,
        format!(
            "pcm.hallq_capture {{\n type file\n slave.pcm {{ type null }}\n file \"{}\"\n format \"raw\"\n}}\n",
            capture.display()
        ),
    )
    .unwrap();
    let script = dir.join("player.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nALSA_CONFIG_PATH='{}' exec aplay \"$@\"\n",
            conf.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script.display().to_string()
}

fn le_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn tone_pack() -> VoicePack {
    let clips: BTreeMap<ClipId, Vec<i16>> = ClipId::required(false)
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let level = 1000 + 200 * i as i16;
            (
                id,
                (0..2000)
                    .map(|k| if k % 4 < 2 { level } else { -level })
                    .collect(),
            )
        })
        .collect();
    VoicePack::from_clips("tones", 16_000, clips)
}

#[test]
fn aplay_sends_the_samples_to_the_alsa_device() {
    if !have_aplay() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("played.raw");
    let mut sink = AplaySink::with_program(
        capturing_player(dir.path(), &capture),
        Some("hallq_capture".into()),
    );
    let samples: Vec<i16> = (0..16_000)
        .map(|i| ((i * 37) % 20_000 - 10_000) as i16)
        .collect();
    sink.play(&samples, 16_000).unwrap();
    let heard = std::fs::read(&capture).unwrap();
    // ALSA pads the last period with silence.
    assert_eq!(&heard[..samples.len() * 2], le_bytes(&samples).as_slice());
    assert!(heard[samples.len() * 2..].iter().all(|b| *b == 0));

    // An unknown device is "no sound", not a crash.
    let mut sink = AplaySink::with_program(
        capturing_player(dir.path(), &capture),
        Some("no_such_device".into()),
    );
    let err = sink.play(&samples, 16_000).unwrap_err();
    assert!(err.to_string().contains("no sound output"), "{err}");
}

#[test]
fn the_announcer_speaks_through_alsa() {
    if !have_aplay() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("played.raw");
    let pack = tone_pack();
    let settings = VoiceSettings {
        volume: 60,
        ..VoiceSettings::default()
    };
    let announcer = Announcer::start(
        pack.clone(),
        Box::new(AplaySink::with_program(
            capturing_player(dir.path(), &capture),
            Some("hallq_capture".into()),
        )),
        Arc::new(SystemClock),
        AnnouncerConfig::new(settings, chrono_tz::Asia::Shanghai),
    );
    let now = chrono::Utc::now();
    let call = CallView {
        id: 7,
        number: "A007".into(),
        service: "account".into(),
        counter: 3,
        counter_name: Text::new("3号窗口", "Counter 3"),
        at: now,
        apology: false,
        recall: false,
    };
    announcer.enqueue(&call, now);
    let stats = announcer.shutdown();
    assert_eq!((stats.spoken, stats.no_sound), (1, 0));

    let mut expected = render(
        &pack,
        &sequence(&CallSpeech {
            number: "A007",
            counter: CounterVoice::Numbered(3),
            apology: false,
            recall: false,
            english: false,
        })
        .unwrap(),
    )
    .unwrap();
    apply_volume(&mut expected, 60);
    let heard = std::fs::read(&capture).unwrap();
    assert_eq!(&heard[..expected.len() * 2], le_bytes(&expected).as_slice());
}
