//! `hallq-board announce`: writes one call's announcement (chime, Mandarin, optionally English)
//! to a WAV file — for checking a voice pack and for support.

use std::path::PathBuf;

use anyhow::Context;

use super::pack::default_pack_dir;
use super::{CallSpeech, ClipId, CounterVoice, VoicePack, render, sequence, write_wav};

/// `hallq-board announce`: one call's announcement to a WAV file.
#[derive(clap::Args, Debug)]
pub struct AnnounceArgs {
    /// Ticket number, read digit by digit (A007 = A 零 零 七).
    #[arg(long)]
    pub number: String,
    /// Counter number, 1–999, read as a number (12 = 十二).
    #[arg(long)]
    pub counter: u32,
    /// Add "让您久等了" (the previous customer at this counter took long).
    #[arg(long)]
    pub apology: bool,
    /// A recall: starts with "再次呼叫".
    #[arg(long)]
    pub recall: bool,
    /// Follow the Mandarin with English.
    #[arg(long)]
    pub english: bool,
    /// Voice pack folder (manifest.toml + WAV clips).
    #[arg(long, env = "HALLQ_VOICE_PACK")]
    pub pack: Option<PathBuf>,
    /// Output WAV file ("-" for standard output).
    #[arg(long)]
    pub wav: PathBuf,
}

/// Write the announcement of one call to the WAV file named in `args`.
pub fn announce(args: AnnounceArgs) -> anyhow::Result<()> {
    let dir = args.pack.unwrap_or_else(default_pack_dir);
    let pack = VoicePack::load(&dir).with_context(|| {
        format!(
            "no usable voice pack in {} (make one with deploy/voice/make-voice-pack.sh DIR)",
            dir.display()
        )
    })?;
    let speech = CallSpeech {
        number: &args.number,
        counter: if pack.has(ClipId::CounterName(args.counter)) {
            CounterVoice::Recorded(args.counter)
        } else {
            CounterVoice::Numbered(args.counter)
        },
        apology: args.apology,
        recall: args.recall,
        english: args.english,
    };
    let clips = sequence(&speech)?;
    let samples = render(&pack, &clips)?;
    if args.wav.as_os_str() == "-" {
        write_wav(std::io::stdout().lock(), pack.sample_rate(), &samples)?;
    } else {
        let file = std::fs::File::create(&args.wav)
            .with_context(|| format!("cannot create {}", args.wav.display()))?;
        write_wav(std::io::BufWriter::new(file), pack.sample_rate(), &samples)
            .with_context(|| format!("cannot write {}", args.wav.display()))?;
        eprintln!(
            "{}: {} clips, {:.2} s",
            args.wav.display(),
            clips.len(),
            samples.len() as f64 / f64::from(pack.sample_rate())
        );
    }
    Ok(())
}
