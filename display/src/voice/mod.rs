//! Voice calling: a call is heard before it is read. Recorded clips from a voice pack are joined in order
//! ("请 A 零 零 七 号 到 三 号 窗口 办理"), queued so calls never talk over each other, and played through
//! ALSA (or written to a WAV file).
//!
//! - [`clip`]: the names of the clips a voice pack holds.
//! - [`mod@sequence`]: which clips say a call (pure, no audio).
//! - [`pack`]: loading a voice pack folder (`manifest.toml` + mono 16-bit WAV files).
//! - [`wav`]: joining clips into one announcement, volume, and the WAV writer.
//! - [`sink`]: where the sound goes (`aplay`, or a recording sink for tests).
//! - [`clock`]: the announcer's time, real or simulated.
//! - [`announcer`]: the queue and its thread; the board only calls [`Announcer::enqueue`].
//! - [`board`]: what the board's hub link hands the announcer (live calls, the hall's settings).

pub mod announcer;
pub mod board;
pub mod cli;
pub mod clip;
pub mod clock;
pub mod pack;
pub mod sequence;
pub mod sink;
pub mod wav;

pub use announcer::{Announcer, AnnouncerConfig, AnnouncerStats, Handled, Outcome};
pub use board::BoardVoice;
pub use clip::ClipId;
pub use clock::{Clock, SimClock, SystemClock};
pub use pack::VoicePack;
pub use sequence::{CallSpeech, CounterVoice, sequence};
pub use sink::{AplaySink, AudioSink, Played, RecordingSink, SinkError};
pub use wav::{render, write_wav};

/// Everything that can go wrong in voice calling, with the file or clip it is about.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("voice pack manifest {path}: {message}")]
    Manifest { path: String, message: String },
    #[error("voice pack clip {path} {message}")]
    Clip { path: String, message: String },
    #[error(
        "voice pack clip {path} is at {found} Hz but the pack is at {expected} Hz \
         (convert it, e.g. `sox in.wav -r {expected} -c 1 -b 16 out.wav`)"
    )]
    RateMismatch {
        path: String,
        expected: u32,
        found: u32,
    },
    #[error("the voice pack has no clip {0:?}")]
    MissingClip(String),
    #[error("the voice pack lacks {} clip(s): {}", .0.len(), .0.join(", "))]
    Incomplete(Vec<String>),
    #[error("ticket number {number:?} cannot be spoken: {reason}")]
    Unspeakable { number: String, reason: String },
    #[error("counter {0} cannot be spoken: counters are numbered 1–999")]
    CounterOutOfRange(u32),
}

#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use super::{ClipId, VoicePack};

    /// A complete pack of tones, each clip with its own length and level so joins can be told apart.
    pub(crate) fn synthetic_pack(rate: u32) -> VoicePack {
        let clips: BTreeMap<ClipId, Vec<i16>> = ClipId::required(true)
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let len = rate as usize / 8 + 37 * i;
                let level = (i as i16 + 1) * 300;
                (
                    id,
                    (0..len)
                        .map(|k| if k % 2 == 0 { level } else { -level })
                        .collect(),
                )
            })
            .collect();
        VoicePack::from_clips("synthetic", rate, clips)
    }
}
