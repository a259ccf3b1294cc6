//! `hallq-board`: the hall's board, or a counter's screen, from the hub's live state.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use hallq_board::app::{self, Options, Source};
use hallq_board::demo::Scenario;
use hallq_board::http::HubUrl;
use hallq_board::link::LinkEvent;
use hallq_board::voice::{Announcer, AnnouncerConfig, BoardVoice, SystemClock, pack};
use hallq_shared::config::VoiceSettings;
use hallq_shared::screen_size::parse_screen_size;
use std::sync::Arc;

/// The hall's public display board (or, with --counter, the screen above one counter).
#[derive(Debug, Parser)]
#[command(name = "hallq-board", version, about)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The hub, e.g. http://192.168.1.10:8080
    #[arg(long, env = "HALLQ_HUB", value_name = "URL")]
    hub: Option<String>,
    /// This display's device token (needed to take callback numbers).
    #[arg(long, env = "HALLQ_TOKEN", value_name = "T", hide_env_values = true)]
    token: Option<String>,
    /// The hub as customers' phones reach it, for the board's phone code (扫码取号), e.g.
    /// http://192.168.1.20:8080. Defaults to --hub; set it where the board reaches the hub by an
    /// address phones cannot open (127.0.0.1 on the hub's own Pi).
    #[arg(long, env = "HALLQ_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Show the screen above counter ID instead of the hall's board.
    #[arg(long, value_name = "ID")]
    counter: Option<u32>,
    /// Screen size in pixels: 1920x1080 (default for the board), 1080x1920 portrait, 1280x720.
    #[arg(long, value_name = "WxH", value_parser = parse_screen_size)]
    size: Option<(u32, u32)>,
    /// Full screen (on a Pi without X this is what the KMS backend does anyway).
    #[arg(long)]
    fullscreen: bool,
    /// Render one frame to this PNG with the software renderer and exit.
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// With --screenshot: a demo hall instead of the hub. One of normal, long-wait, short-outage,
    /// long-outage, tickets-ended, counter-paused, slow-system, reconnecting.
    #[arg(long, value_name = "NAME", requires = "screenshot")]
    demo: Option<String>,
    /// Do not speak calls (counter screens never speak).
    #[arg(long)]
    no_voice: bool,
    /// The voice pack folder (default: /usr/share/hallq/voice, or HALLQ_VOICE_PACK).
    #[arg(long, env = "HALLQ_VOICE_PACK", value_name = "DIR")]
    voice_pack: Option<PathBuf>,
    /// The ALSA device for the voice, e.g. hw:0,0 (default: ALSA's default device).
    #[arg(long, env = "HALLQ_AUDIO_DEVICE", value_name = "NAME")]
    audio_device: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write one call's announcement (chime + Mandarin, optionally English) to a WAV file.
    Announce(hallq_board::voice::cli::AnnounceArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Announce(args)) = cli.command {
        return hallq_board::voice::cli::announce(args);
    }
    let hub = cli.hub.as_deref().map(HubUrl::parse).transpose()?;
    let default_size = if cli.counter.is_some() {
        (1280, 720)
    } else {
        (1920, 1080)
    };
    let opts = Options {
        hub,
        token: cli.token.clone(),
        counter: cli.counter,
        size: cli.size.unwrap_or(default_size),
        fullscreen: cli.fullscreen,
        // An empty HALLQ_PUBLIC_URL in board.env means "not set".
        public_url: cli.public_url.clone().filter(|u| !u.trim().is_empty()),
    };
    if let Some(png) = &cli.screenshot {
        let source = match cli.demo.as_deref() {
            None => Source::Hub,
            Some("reconnecting") => Source::Demo {
                scenario: Scenario::Normal,
                connected: false,
            },
            Some(name) => match Scenario::parse(name) {
                Some(scenario) => Source::Demo {
                    scenario,
                    connected: true,
                },
                None => bail!("unknown demo {name:?}"),
            },
        };
        return app::screenshot(&opts, &source, png);
    }
    let on_link: Option<app::OnLink> = if cli.no_voice || cli.counter.is_some() {
        None
    } else {
        let pack_dir = cli
            .voice_pack
            .clone()
            .unwrap_or_else(pack::default_pack_dir);
        // Settings and time zone are the hub's; these hold only until its first snapshot.
        let config = AnnouncerConfig::new(VoiceSettings::default(), chrono_tz::Asia::Shanghai);
        let announcer = Announcer::for_board(&pack_dir, cli.audio_device.clone(), config);
        let mut voice = BoardVoice::new(announcer, Arc::new(SystemClock));
        Some(Box::new(move |event: &LinkEvent| voice.hear(event)))
    };
    app::run(opts, on_link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
