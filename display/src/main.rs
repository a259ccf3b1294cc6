//! `hallq-display`: the hall's display board.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use hallq_display::voice::pack::default_pack_dir;
use hallq_display::voice::{
    CallSpeech, ClipId, CounterVoice, VoicePack, render, sequence, write_wav,
};

#[derive(Parser, Debug)]
#[command(
    name = "hallq-display",
    about = "The hall's display board and voice calling"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write one call's announcement (chime + Mandarin, optionally English) to a WAV file.
    Announce(AnnounceArgs),
}

#[derive(clap::Args, Debug)]
struct AnnounceArgs {
    /// Ticket number, read digit by digit (A007 = A 零 零 七).
    #[arg(long)]
    number: String,
    /// Counter number, 1–999, read as a number (12 = 十二).
    #[arg(long)]
    counter: u32,
    /// Add "让您久等了" (the previous customer at this counter took long).
    #[arg(long)]
    apology: bool,
    /// A recall: starts with "再次呼叫".
    #[arg(long)]
    recall: bool,
    /// Follow the Mandarin with English.
    #[arg(long)]
    english: bool,
    /// Voice pack folder (manifest.toml + WAV clips).
    #[arg(long, env = "HALLQ_VOICE_PACK")]
    pack: Option<PathBuf>,
    /// Output WAV file ("-" for standard output).
    #[arg(long)]
    wav: PathBuf,
}

fn announce(args: AnnounceArgs) -> anyhow::Result<()> {
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Announce(args)) => announce(args),
        None => {
            println!("hallq-display");
            Ok(())
        }
    }
}
