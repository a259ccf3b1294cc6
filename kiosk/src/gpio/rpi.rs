//! The Raspberry Pi drivers (rppal): buttons sampled on a thread through the shared debouncer,
//! and the light and buzzer driven from threads of their own so callers never wait.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use rppal::gpio::{Gpio, InputPin, OutputPin};

use super::{
    ButtonSampler, Buzzer, ChannelButtons, DEFAULT_DEBOUNCE_MS, GpioConfig, GpioError,
    LightPattern, StatusLight,
};

/// How often the buttons are read: well under any settle time, cheap on a Pi.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

fn hw(e: rppal::gpio::Error) -> GpioError {
    GpioError::Hardware(e.to_string())
}

/// The configured buttons as a [`ChannelButtons`] fed by a sampling thread. The thread ends when
/// the returned source is dropped.
pub fn start_buttons(cfg: &GpioConfig) -> Result<ChannelButtons, GpioError> {
    cfg.check()?;
    let gpio = Gpio::new().map_err(hw)?;
    let mut pins: Vec<InputPin> = Vec::new();
    for b in &cfg.buttons {
        pins.push(gpio.get(b.pin).map_err(hw)?.into_input_pullup());
    }
    let mut sampler = ButtonSampler::new(
        cfg.buttons.iter().map(|b| b.service.clone()),
        cfg.debounce_ms.unwrap_or(DEFAULT_DEBOUNCE_MS),
    );
    let (tx, source) = ChannelButtons::new();
    thread::Builder::new()
        .name("gpio-buttons".into())
        .spawn(move || {
            let start = Instant::now();
            let mut levels = vec![false; pins.len()];
            loop {
                // Buttons pull the pin to ground when pressed.
                for (l, p) in levels.iter_mut().zip(&pins) {
                    *l = p.is_low();
                }
                let now = start.elapsed().as_millis() as u64;
                for press in sampler.sample(&levels, now) {
                    if tx.send(press).is_err() {
                        return;
                    }
                }
                thread::sleep(SAMPLE_EVERY);
            }
        })
        .map_err(|e| GpioError::Hardware(e.to_string()))?;
    Ok(source)
}

/// The status light on one output pin.
#[derive(Debug)]
pub struct RpiLight {
    tx: Sender<LightPattern>,
}

impl RpiLight {
    pub fn new(pin: u8) -> Result<RpiLight, GpioError> {
        let out = Gpio::new()
            .map_err(hw)?
            .get(pin)
            .map_err(hw)?
            .into_output_low();
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("gpio-light".into())
            .spawn(move || drive_light(out, rx))
            .map_err(|e| GpioError::Hardware(e.to_string()))?;
        Ok(RpiLight { tx })
    }
}

fn drive_light(mut out: OutputPin, rx: Receiver<LightPattern>) {
    let mut pattern = LightPattern::Off;
    let mut since = Instant::now();
    loop {
        out.write((pattern.is_on_at(since.elapsed().as_millis() as u64)).into());
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(p) => {
                if p != pattern {
                    pattern = p;
                    since = Instant::now();
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                out.set_low();
                return;
            }
        }
    }
}

impl StatusLight for RpiLight {
    fn set(&mut self, pattern: LightPattern) {
        let _ = self.tx.send(pattern);
    }
}

/// A buzzer on one output pin.
#[derive(Debug)]
pub struct RpiBuzzer {
    tx: Sender<u32>,
}

impl RpiBuzzer {
    pub fn new(pin: u8) -> Result<RpiBuzzer, GpioError> {
        let mut out = Gpio::new()
            .map_err(hw)?
            .get(pin)
            .map_err(hw)?
            .into_output_low();
        let (tx, rx) = mpsc::channel::<u32>();
        thread::Builder::new()
            .name("gpio-buzzer".into())
            .spawn(move || {
                for ms in rx {
                    out.set_high();
                    thread::sleep(Duration::from_millis(u64::from(ms.min(2000))));
                    out.set_low();
                }
            })
            .map_err(|e| GpioError::Hardware(e.to_string()))?;
        Ok(RpiBuzzer { tx })
    }
}

impl Buzzer for RpiBuzzer {
    fn beep(&mut self, ms: u32) {
        let _ = self.tx.send(ms);
    }
}
