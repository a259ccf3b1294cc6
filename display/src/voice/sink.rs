//! Where the sound goes. The board plays through ALSA by piping raw PCM to `aplay` (alsa-utils): no
//! native library at build time (cross builds for the Pi stay simple), the ALSA device is a plain
//! string (`default`, `plughw:CARD=vc4hdmi0` for HDMI, `plughw:CARD=Headphones` for the 3.5 mm jack),
//! and a missing or broken sound device is an exit status we report rather than a crash.
//! [`RecordingSink`] is the test implementation: it records what was played on a [`SimClock`].

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hallq_shared::protocol::Timestamp;

use super::clock::{Clock, SimClock};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// No way to make sound here (no player, no card, device busy): the board carries on silently.
    #[error("no sound output: {0}")]
    Unavailable(String),
}

/// Plays one announcement. `play` returns when the sound has finished, so announcements cannot
/// overlap as long as one thread plays them.
pub trait AudioSink: Send {
    fn play(&mut self, samples: &[i16], sample_rate: u32) -> Result<(), SinkError>;
}

/// ALSA through `aplay`.
#[derive(Clone, Debug)]
pub struct AplaySink {
    program: String,
    device: Option<String>,
    grace: Duration,
}

/// How much longer than the sound itself a player may take before it is taken for hung and stopped
/// (a device held by another program must not stall the queue for good).
pub const PLAYER_GRACE: Duration = Duration::from_secs(3);

impl AplaySink {
    /// `device` is an ALSA PCM name; `None` uses ALSA's default.
    pub fn new(device: Option<String>) -> AplaySink {
        AplaySink {
            program: "aplay".into(),
            device,
            grace: PLAYER_GRACE,
        }
    }

    /// Another program that takes aplay's arguments (for tests, or a wrapper script).
    pub fn with_program(program: impl Into<String>, device: Option<String>) -> AplaySink {
        AplaySink {
            program: program.into(),
            device,
            grace: PLAYER_GRACE,
        }
    }

    /// Changes [`PLAYER_GRACE`].
    pub fn with_grace(mut self, grace: Duration) -> AplaySink {
        self.grace = grace;
        self
    }

    /// The arguments given to the player for `sample_rate`.
    pub fn args(&self, sample_rate: u32) -> Vec<String> {
        let mut args: Vec<String> = ["-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(sample_rate.to_string());
        if let Some(d) = &self.device {
            args.push("-D".into());
            args.push(d.clone());
        }
        args.push("-".into());
        args
    }
}

impl AudioSink for AplaySink {
    fn play(&mut self, samples: &[i16], sample_rate: u32) -> Result<(), SinkError> {
        let mut child = Command::new(&self.program)
            .args(self.args(sample_rate))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    SinkError::Unavailable(format!(
                        "{} not found (Debian package alsa-utils)",
                        self.program
                    ))
                } else {
                    SinkError::Unavailable(format!("cannot start {}: {e}", self.program))
                }
            })?;
        let mut bytes = Vec::with_capacity(samples.len() * 2);
        for s in samples {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        // The samples go in from another thread so a player that stops reading cannot block us past
        // the deadline. A player that cannot open the device exits at once and the write fails with a
        // broken pipe; its exit status and message say why, so the write error itself adds nothing.
        let writer = child.stdin.take().map(|mut stdin| {
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            })
        });
        let sound =
            Duration::from_micros(samples.len() as u64 * 1_000_000 / u64::from(sample_rate.max(1)));
        let deadline = Instant::now() + sound + self.grace;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    if let Some(w) = writer {
                        let _ = w.join();
                    }
                    return Err(SinkError::Unavailable(format!(
                        "{} did not finish playing {:.1} s of sound in time and was stopped",
                        self.program,
                        sound.as_secs_f64()
                    )));
                }
                Err(e) => {
                    return Err(SinkError::Unavailable(format!(
                        "{} did not finish: {e}",
                        self.program
                    )));
                }
            }
        };
        if let Some(w) = writer {
            let _ = w.join();
        }
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        let out = std::process::Output {
            status,
            stdout: Vec::new(),
            stderr: stderr.into_bytes(),
        };
        if out.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message");
            Err(SinkError::Unavailable(format!(
                "{} failed ({}): {}",
                self.program, out.status, why
            )))
        }
    }
}

/// One announcement as the test sink heard it.
#[derive(Clone, Debug, PartialEq)]
pub struct Played {
    pub started: Timestamp,
    pub ended: Timestamp,
    pub samples: Vec<i16>,
    pub sample_rate: u32,
}

/// The test sink: keeps everything played, and "plays" by moving the simulated clock forward by the
/// sound's duration. It can be told to act like a board with no sound card.
#[derive(Clone, Debug)]
pub struct RecordingSink {
    clock: SimClock,
    played: Arc<Mutex<Vec<Played>>>,
    unavailable: Arc<Mutex<bool>>,
}

impl RecordingSink {
    pub fn new(clock: SimClock) -> RecordingSink {
        RecordingSink {
            clock,
            played: Arc::default(),
            unavailable: Arc::default(),
        }
    }

    /// While set, every `play` fails as if there were no sound card.
    pub fn set_unavailable(&self, unavailable: bool) {
        *self.unavailable.lock().unwrap_or_else(|e| e.into_inner()) = unavailable;
    }

    /// Everything played so far (clones share the record).
    pub fn played(&self) -> Vec<Played> {
        self.played
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl AudioSink for RecordingSink {
    fn play(&mut self, samples: &[i16], sample_rate: u32) -> Result<(), SinkError> {
        if *self.unavailable.lock().unwrap_or_else(|e| e.into_inner()) {
            return Err(SinkError::Unavailable("test sink has no sound card".into()));
        }
        let started = self.clock.now();
        let micros = samples.len() as u64 * 1_000_000 / u64::from(sample_rate.max(1));
        self.clock.sleep(Duration::from_micros(micros));
        self.played
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Played {
                started,
                ended: self.clock.now(),
                samples: samples.to_vec(),
                sample_rate,
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aplay_gets_raw_mono_pcm_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pcm.raw");
        let args_out = dir.path().join("args.txt");
        // A stand-in player: records its arguments and what it was sent, like aplay would consume it.
        let script = dir.path().join("player.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" > '{}'\ncat > '{}'\n",
                args_out.display(),
                out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut sink =
            AplaySink::with_program(script.display().to_string(), Some("plughw:1,0".into()));
        sink.play(&[1, -2, 300], 16_000).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), [1, 0, 0xfe, 0xff, 0x2c, 0x01]);
        assert_eq!(
            std::fs::read_to_string(&args_out).unwrap().trim(),
            "-q -t raw -f S16_LE -c 1 -r 16000 -D plughw:1,0 -"
        );
    }

    #[test]
    fn no_player_or_no_card_is_reported_not_fatal() {
        let mut sink = AplaySink::with_program("/nonexistent/aplay", None);
        let err = sink.play(&[0; 100], 8000).unwrap_err();
        assert!(
            err.to_string()
                .contains("not found (Debian package alsa-utils)"),
            "{err}"
        );

        // A player that fails the way aplay does without a sound card.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("nocard.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\necho 'aplay: main:831: audio open error: No such file or directory' >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut sink = AplaySink::with_program(script.display().to_string(), None);
        let err = sink.play(&vec![0; 200_000], 8000).unwrap_err();
        assert!(err.to_string().contains("audio open error"), "{err}");
    }

    #[test]
    fn a_hung_player_is_stopped_so_the_queue_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("hung.sh");
        // Reads nothing and never ends, like a player waiting for a device held by someone else.
        std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut sink = AplaySink::with_program(script.display().to_string(), None)
            .with_grace(Duration::from_millis(200));
        // 80 kB: more than a pipe holds, so the writer blocks too.
        let err = sink.play(&vec![0; 40_000], 48_000).unwrap_err();
        assert!(err.to_string().contains("was stopped"), "{err}");
    }
}
