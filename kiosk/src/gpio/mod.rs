//! Optional hardware by the kiosk: one physical button per service, a status light (steady = ready,
//! blinking = printer problem) and a buzzer. The Raspberry Pi drivers sit behind the `rpi` feature;
//! the simulated ones (a channel, keys typed on a terminal, recorded light patterns) serve tests and
//! desktops.

pub mod debounce;
#[cfg(feature = "rpi")]
pub mod rpi;

use std::io::BufRead;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::printer::PrinterHealth;
pub use debounce::{Debouncer, Edge};

/// A customer pressed the button of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonPress {
    pub service: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    #[error("the button source has stopped")]
    Closed,
    #[error("GPIO: {0}")]
    Hardware(String),
    #[error("GPIO configuration: {0}")]
    Config(String),
}

/// Where button presses come from.
pub trait ButtonSource: Send {
    /// The next press, waiting at most `timeout`; `Ok(None)` when none came.
    fn next_press(&mut self, timeout: Duration) -> Result<Option<ButtonPress>, GpioError>;
}

/// Button wiring from the kiosk configuration (BCM pin numbers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpioConfig {
    pub buttons: Vec<ButtonPin>,
    /// The status light, wired to light when the pin is high.
    pub light_pin: Option<u8>,
    pub buzzer_pin: Option<u8>,
    /// How long a contact must stay closed to count as a press.
    pub debounce_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonPin {
    /// BCM pin number; the button connects it to ground (internal pull-up).
    pub pin: u8,
    /// The service id the button takes a ticket for.
    pub service: String,
}

/// Settle time when the configuration gives none.
pub const DEFAULT_DEBOUNCE_MS: u64 = 30;

impl GpioConfig {
    /// Pins must be real BCM GPIO numbers and used once.
    pub fn check(&self) -> Result<(), GpioError> {
        let mut used = Vec::new();
        let pins = self
            .buttons
            .iter()
            .map(|b| b.pin)
            .chain(self.light_pin)
            .chain(self.buzzer_pin);
        for p in pins {
            if p > 27 {
                return Err(GpioError::Config(format!(
                    "BCM pin {p} does not exist (0–27)"
                )));
            }
            if used.contains(&p) {
                return Err(GpioError::Config(format!("BCM pin {p} is used twice")));
            }
            used.push(p);
        }
        if let Some(b) = self.buttons.iter().find(|b| b.service.trim().is_empty()) {
            return Err(GpioError::Config(format!(
                "the button on pin {} has no service",
                b.pin
            )));
        }
        Ok(())
    }
}

/// Debounces a set of buttons sampled together; pure, so the Pi driver and the tests share it.
#[derive(Debug)]
pub struct ButtonSampler {
    buttons: Vec<(String, Debouncer)>,
}

impl ButtonSampler {
    pub fn new(services: impl IntoIterator<Item = String>, settle_ms: u64) -> ButtonSampler {
        ButtonSampler {
            buttons: services
                .into_iter()
                .map(|s| (s, Debouncer::new(settle_ms)))
                .collect(),
        }
    }

    /// One sample of every button (`true` = pressed), in configuration order, at `now_ms`.
    pub fn sample(&mut self, pressed: &[bool], now_ms: u64) -> Vec<ButtonPress> {
        self.buttons
            .iter_mut()
            .zip(pressed)
            .filter_map(|((service, d), p)| {
                (d.update(*p, now_ms) == Some(Edge::Pressed)).then(|| ButtonPress {
                    service: service.clone(),
                })
            })
            .collect()
    }
}

/// Presses delivered through a channel: the Pi driver's thread, a test, or a key reader feed it.
#[derive(Debug)]
pub struct ChannelButtons {
    rx: Receiver<ButtonPress>,
}

impl ChannelButtons {
    /// The source and the sender that feeds it.
    pub fn new() -> (Sender<ButtonPress>, ChannelButtons) {
        let (tx, rx) = mpsc::channel();
        (tx, ChannelButtons { rx })
    }
}

impl ButtonSource for ChannelButtons {
    fn next_press(&mut self, timeout: Duration) -> Result<Option<ButtonPress>, GpioError> {
        match self.rx.recv_timeout(timeout) {
            Ok(p) => Ok(Some(p)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(GpioError::Closed),
        }
    }
}

/// Buttons simulated by typed lines: `1`…`9` press the n-th service's button, or the service id
/// itself. For desktops without GPIO. Reads on a thread of its own until `input` ends.
pub fn key_buttons<R: BufRead + Send + 'static>(input: R, services: Vec<String>) -> ChannelButtons {
    key_buttons_with(input, move || services.clone())
}

/// Like [`key_buttons`], with the services asked for at each key: the kiosk learns them from the
/// hub after it starts, and the list may change during the day.
pub fn key_buttons_with<R, F>(input: R, services: F) -> ChannelButtons
where
    R: BufRead + Send + 'static,
    F: Fn() -> Vec<String> + Send + 'static,
{
    let (tx, source) = ChannelButtons::new();
    std::thread::spawn(move || {
        for line in input.lines() {
            let Ok(line) = line else { break };
            if let Some(p) = key_to_press(line.trim(), &services())
                && tx.send(p).is_err()
            {
                break;
            }
        }
    });
    source
}

fn key_to_press(key: &str, services: &[String]) -> Option<ButtonPress> {
    let service = match key.parse::<usize>() {
        Ok(n) if (1..=services.len()).contains(&n) => services[n - 1].clone(),
        _ => services.iter().find(|s| s.as_str() == key)?.clone(),
    };
    Some(ButtonPress { service })
}

/// What the status light shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LightPattern {
    #[default]
    Off,
    /// Ready to issue tickets.
    Steady,
    /// Paper low: still printing, change the roll soon.
    SlowBlink,
    /// The printer needs the staff (paper out, cover open, error, not answering).
    Blink,
}

impl LightPattern {
    /// What the light shows for a printer's health.
    pub fn for_health(h: &PrinterHealth) -> LightPattern {
        match h {
            PrinterHealth::Ready => LightPattern::Steady,
            PrinterHealth::PaperLow => LightPattern::SlowBlink,
            _ => LightPattern::Blink,
        }
    }

    /// Whether the light is on `ms` milliseconds into the pattern.
    pub fn is_on_at(self, ms: u64) -> bool {
        match self {
            LightPattern::Off => false,
            LightPattern::Steady => true,
            LightPattern::SlowBlink => ms % 2000 < 1000,
            LightPattern::Blink => ms % 500 < 250,
        }
    }
}

/// The status light.
pub trait StatusLight: Send {
    fn set(&mut self, pattern: LightPattern);
}

/// A buzzer that confirms a press.
pub trait Buzzer: Send {
    /// Sounds for `ms` without blocking the caller.
    fn beep(&mut self, ms: u32);
}

/// A light that remembers what it was told, for tests and desktops.
#[derive(Clone, Debug, Default)]
pub struct SimLight {
    log: Arc<Mutex<Vec<LightPattern>>>,
}

impl SimLight {
    pub fn new() -> SimLight {
        SimLight::default()
    }

    /// The current pattern (`Off` before the first `set`).
    pub fn current(&self) -> LightPattern {
        self.history().last().copied().unwrap_or_default()
    }

    /// Every pattern set, oldest first.
    pub fn history(&self) -> Vec<LightPattern> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl StatusLight for SimLight {
    fn set(&mut self, pattern: LightPattern) {
        if let Ok(mut l) = self.log.lock() {
            l.push(pattern);
        }
    }
}

/// A buzzer that remembers its beeps.
#[derive(Clone, Debug, Default)]
pub struct SimBuzzer {
    beeps: Arc<Mutex<Vec<u32>>>,
}

impl SimBuzzer {
    pub fn beeps(&self) -> Vec<u32> {
        self.beeps.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

impl Buzzer for SimBuzzer {
    fn beep(&mut self, ms: u32) {
        if let Ok(mut b) = self.beeps.lock() {
            b.push(ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_reports_each_service_once_per_press() {
        let mut s = ButtonSampler::new(["pay".to_string(), "repair".to_string()], 20);
        let mut presses = Vec::new();
        // "pay" bounces then holds; "repair" has a 5 ms spike only.
        for t in 0..200u64 {
            let pay = t >= 10 && !(12..14).contains(&t);
            let repair = (50..55).contains(&t);
            presses.extend(s.sample(&[pay, repair], t));
        }
        assert_eq!(
            presses,
            vec![ButtonPress {
                service: "pay".into()
            }]
        );
    }

    #[test]
    fn channel_source_times_out_and_reports_closing() {
        let (tx, mut src) = ChannelButtons::new();
        assert!(src.next_press(Duration::from_millis(5)).unwrap().is_none());
        tx.send(ButtonPress {
            service: "pay".into(),
        })
        .unwrap();
        assert_eq!(
            src.next_press(Duration::from_millis(5))
                .unwrap()
                .unwrap()
                .service,
            "pay"
        );
        drop(tx);
        assert!(matches!(
            src.next_press(Duration::from_millis(5)),
            Err(GpioError::Closed)
        ));
    }

    #[test]
    fn typed_keys_press_buttons() {
        let services = vec!["pay".to_string(), "repair".to_string()];
        let input = std::io::Cursor::new("1\nrepair\n7\nnope\n2\n");
        let mut src = key_buttons(input, services);
        let mut got = Vec::new();
        while let Ok(Some(p)) = src.next_press(Duration::from_secs(2)) {
            got.push(p.service);
        }
        assert_eq!(got, vec!["pay", "repair", "repair"]);
    }

    #[test]
    fn light_follows_printer_health() {
        let mut light = SimLight::new();
        for h in [
            PrinterHealth::Ready,
            PrinterHealth::PaperOut,
            PrinterHealth::PaperLow,
        ] {
            light.set(LightPattern::for_health(&h));
        }
        assert_eq!(
            light.history(),
            vec![
                LightPattern::Steady,
                LightPattern::Blink,
                LightPattern::SlowBlink
            ]
        );
        assert!(LightPattern::Blink.is_on_at(0));
        assert!(!LightPattern::Blink.is_on_at(300));
        assert!(LightPattern::Steady.is_on_at(300));
    }

    #[test]
    fn config_checks_pins() {
        let cfg = |pins: &[u8]| GpioConfig {
            buttons: pins
                .iter()
                .map(|p| ButtonPin {
                    pin: *p,
                    service: "pay".into(),
                })
                .collect(),
            light_pin: Some(17),
            ..Default::default()
        };
        assert!(cfg(&[5, 6]).check().is_ok());
        assert!(
            cfg(&[5, 17])
                .check()
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        assert!(
            cfg(&[40])
                .check()
                .unwrap_err()
                .to_string()
                .contains("does not exist")
        );
        let parsed: GpioConfig =
            toml_like(r#"{"buttons":[{"pin":5,"service":"pay"}],"light_pin":17}"#);
        assert_eq!(parsed.buttons[0].pin, 5);
    }

    fn toml_like(json: &str) -> GpioConfig {
        serde_json::from_str(json).unwrap()
    }
}
