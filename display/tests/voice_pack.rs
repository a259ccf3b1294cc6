//! The default voice pack as made by `deploy/voice/make-voice-pack.sh`: complete, every clip sounds
//! like speech rather than silence or noise, and `hallq-board announce` turns it into the right WAV.
//! Needs espeak-ng and sox; with CI=true their absence fails the tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hallq_board::voice::wav::{rendered_len, rms};
use hallq_board::voice::{CallSpeech, ClipId, CounterVoice, VoicePack, sequence};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Makes the default pack once per test run; `None` (skip) only outside CI when the tools are absent.
fn default_pack_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if !have("espeak-ng") || !have("sox") {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("espeak-ng and sox are needed to make the voice pack (apt-get install espeak-ng sox)");
            }
            eprintln!("skipping: espeak-ng or sox is not installed");
            return None;
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hallq-voice-pack");
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new("bash")
            .arg(repo_root().join("deploy/voice/make-voice-pack.sh"))
            .arg(&dir)
            .status()
            .expect("run make-voice-pack.sh");
        assert!(status.success(), "make-voice-pack.sh failed");
        Some(dir)
    })
    .as_deref()
}

fn default_pack() -> Option<VoicePack> {
    default_pack_dir().map(|d| VoicePack::load(d).unwrap())
}

fn seconds(pack: &VoicePack, id: ClipId) -> f64 {
    pack.clip(id).unwrap().len() as f64 / f64::from(pack.sample_rate())
}

#[test]
fn the_default_pack_has_every_clip_the_sequencer_can_ask_for() {
    let Some(pack) = default_pack() else { return };
    assert_eq!(pack.sample_rate(), 22_050);
    assert_eq!(pack.missing(true), Vec::<ClipId>::new());
    pack.check_complete(true).unwrap();
    // Nothing extra either: the pack is exactly the required set.
    assert_eq!(pack.clips().count(), ClipId::required(true).len());
}

#[test]
fn every_default_clip_is_sound_of_a_sensible_length() {
    let Some(pack) = default_pack() else { return };
    for (id, samples) in pack.clips() {
        let secs = samples.len() as f64 / f64::from(pack.sample_rate());
        assert!((0.1..=2.5).contains(&secs), "{id} lasts {secs:.2} s");
        let level = rms(samples);
        assert!(level > 0.03, "{id} is nearly silent (RMS {level:.4})");
        // Trimmed: the clip starts and ends within a few milliseconds of sound.
        let loud = |s: &&i16| s.unsigned_abs() > 600;
        let lead = samples.iter().take_while(|s| !loud(s)).count();
        let tail = samples.iter().rev().take_while(|s| !loud(s)).count();
        let ms = |n: usize| n as f64 * 1000.0 / f64::from(pack.sample_rate());
        assert!(
            ms(lead) < 40.0,
            "{id} starts with {:.0} ms of silence",
            ms(lead)
        );
        assert!(
            ms(tail) < 80.0,
            "{id} ends with {:.0} ms of silence",
            ms(tail)
        );
    }
    // Every clip is its own recording (a synthesiser that failed would give the same sound for all).
    let all: Vec<(ClipId, &[i16])> = pack.clips().collect();
    for (i, (a, sa)) in all.iter().enumerate() {
        for (b, sb) in &all[i + 1..] {
            assert_ne!(sa, sb, "{a} and {b} are the same sound");
        }
    }
    // Longer phrases take longer to say than single syllables.
    let one_syllable = seconds(&pack, ClipId::ZhPlease).max(seconds(&pack, ClipId::ZhDigit(7)));
    assert!(seconds(&pack, ClipId::ZhApology) > 2.0 * one_syllable);
    assert!(seconds(&pack, ClipId::ZhRecall) > 1.5 * one_syllable);
    assert!(seconds(&pack, ClipId::EnGoToCounter) > seconds(&pack, ClipId::EnNumber(1)));
}

fn announce(
    pack_dir: &Path,
    extra: &[&str],
    number: &str,
    counter: u32,
) -> (hound::WavSpec, Vec<i16>) {
    let out = tempfile::Builder::new().suffix(".wav").tempfile().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_hallq-board"))
        .args([
            "announce",
            "--number",
            number,
            "--counter",
            &counter.to_string(),
        ])
        .args(extra)
        .arg("--pack")
        .arg(pack_dir)
        .arg("--wav")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let reader = hound::WavReader::open(out.path()).unwrap();
    let spec = reader.spec();
    (spec, reader.into_samples().map(Result::unwrap).collect())
}

#[test]
fn announce_writes_the_call_as_a_wav_file() {
    let Some(dir) = default_pack_dir() else {
        return;
    };
    let pack = VoicePack::load(dir).unwrap();
    for (number, counter, extra) in [
        ("A007", 3, &[][..]),
        ("B100", 12, &["--apology"][..]),
        ("C010", 101, &["--recall", "--english"][..]),
        ("Z999", 999, &["--recall", "--apology", "--english"][..]),
    ] {
        let (spec, samples) = announce(dir, extra, number, counter);
        assert_eq!(spec.channels, 1);
        assert_eq!(spec.bits_per_sample, 16);
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        assert_eq!(spec.sample_rate, pack.sample_rate());
        let clips = sequence(&CallSpeech {
            number,
            counter: CounterVoice::Numbered(counter),
            apology: extra.contains(&"--apology"),
            recall: extra.contains(&"--recall"),
            english: extra.contains(&"--english"),
        })
        .unwrap();
        // Duration = the clips + the defined pauses, and the call opens with the chime.
        assert_eq!(
            samples.len(),
            rendered_len(&pack, &clips).unwrap(),
            "{number} {extra:?}"
        );
        let chime = pack.clip(ClipId::Chime).unwrap();
        assert_eq!(&samples[..chime.len()], chime);
    }
}

#[test]
fn announce_can_write_to_standard_output() {
    let Some(dir) = default_pack_dir() else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_hallq-board"))
        .args([
            "announce",
            "--number",
            "A7",
            "--counter",
            "10",
            "--wav",
            "-",
        ])
        .arg("--pack")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let reader = hound::WavReader::new(std::io::Cursor::new(out.stdout)).unwrap();
    let pack = VoicePack::load(dir).unwrap();
    let clips = [
        ClipId::Chime,
        ClipId::ZhPlease,
        ClipId::Letter('A'),
        ClipId::ZhDigit(7),
        ClipId::ZhHao,
        ClipId::ZhTo,
        ClipId::ZhTen,
        ClipId::ZhHao,
        ClipId::ZhWindow,
        ClipId::ZhHandle,
    ];
    assert_eq!(
        reader.duration() as usize,
        rendered_len(&pack, &clips).unwrap()
    );
}

#[test]
fn announce_refuses_what_it_cannot_say() {
    let Some(dir) = default_pack_dir() else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_hallq-board"))
        .args([
            "announce",
            "--number",
            "A-7",
            "--counter",
            "3",
            "--wav",
            "/dev/null",
        ])
        .arg("--pack")
        .arg(dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"A-7\" cannot be spoken"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hallq-board"))
        .args([
            "announce",
            "--number",
            "A7",
            "--counter",
            "3",
            "--wav",
            "/dev/null",
        ])
        .arg("--pack")
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("make-voice-pack.sh"), "{err}");
}

/// The pitch of each voiced 40 ms frame (10 ms apart), by autocorrelation over 70–400 Hz.
fn pitch_track(samples: &[i16], rate: u32) -> Vec<f64> {
    let frame = (rate / 25) as usize;
    let hop = (rate / 100) as usize;
    let (min_lag, max_lag) = ((rate / 400) as usize, (rate / 70) as usize);
    let x: Vec<f64> = samples.iter().map(|s| f64::from(*s) / 32768.0).collect();
    let mut track = Vec::new();
    let mut start = 0;
    while start + frame + max_lag <= x.len() {
        let w = &x[start..start + frame];
        let energy: f64 = w.iter().map(|v| v * v).sum();
        if (energy / frame as f64).sqrt() > 0.05 {
            let mut best = (0.0, 0);
            for lag in min_lag..=max_lag {
                let shifted = &x[start + lag..start + lag + frame];
                let dot: f64 = w.iter().zip(shifted).map(|(a, b)| a * b).sum();
                let e2: f64 = shifted.iter().map(|v| v * v).sum();
                let r = dot / (energy * e2).sqrt().max(1e-12);
                if r > best.0 {
                    best = (r, lag);
                }
            }
            if best.0 > 0.7 {
                track.push(f64::from(rate) / best.1 as f64);
            }
        }
        start += hop;
    }
    track
}

/// Semitones from `a` to `b`.
fn semitones(a: f64, b: f64) -> f64 {
    12.0 * (b / a).log2()
}

/// (start, end, lowest, highest) pitch of the voiced part; start and end average three frames.
fn contour(samples: &[i16], rate: u32) -> (f64, f64, f64, f64) {
    let t = pitch_track(samples, rate);
    assert!(t.len() >= 5, "too little voiced sound ({} frames)", t.len());
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let low = t.iter().cloned().fold(f64::MAX, f64::min);
    let high = t.iter().cloned().fold(0.0, f64::max);
    (mean(&t[..3]), mean(&t[t.len() - 3..]), low, high)
}

#[test]
fn mandarin_clips_carry_their_tones() {
    let Some(pack) = default_pack() else { return };
    // Single syllables: tone 1 stays level, tone 2 rises, tone 4 falls. A synthesiser that read the
    // pinyin as English letters or words would not follow these contours.
    let cases = [
        (ClipId::ZhDigit(1), 1),
        (ClipId::ZhDigit(3), 1),
        (ClipId::ZhDigit(7), 1),
        (ClipId::ZhDigit(8), 1),
        (ClipId::ZhDigit(0), 2),
        (ClipId::ZhTen, 2),
        (ClipId::ZhDigit(2), 4),
        (ClipId::ZhDigit(4), 4),
        (ClipId::ZhDigit(6), 4),
        (ClipId::ZhHao, 4),
        (ClipId::ZhTo, 4),
    ];
    for (id, tone) in cases {
        let (start, end, low, high) = contour(pack.clip(id).unwrap(), pack.sample_rate());
        let shape = format!(
            "{id} (tone {tone}): {start:.0} Hz -> {end:.0} Hz, range {low:.0}-{high:.0} Hz"
        );
        eprintln!("{shape}");
        match tone {
            1 => assert!(semitones(low, high) < 1.5, "{shape}: not level"),
            2 => assert!(
                semitones(start, end) > 1.0 && semitones(end, high) < 0.5,
                "{shape}: does not rise"
            ),
            _ => assert!(semitones(end, high) > 2.0, "{shape}: does not fall"),
        }
    }
}
