//! The announcer: calls wait in a queue and are spoken one at a time on the announcer's own thread, so
//! they never talk over each other. A burst is announced in order, each call once; a call that has
//! waited longer than a minute is dropped rather than read late; quiet hours and volume come from the
//! hall's voice settings. The board only calls [`Announcer::enqueue`] for each live call event.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::NaiveTime;
use hallq_shared::config::VoiceSettings;
use hallq_shared::protocol::{CallView, Timestamp};

use super::clip::ClipId;
use super::clock::Clock;
use super::pack::VoicePack;
use super::sequence::{CallSpeech, CounterVoice, sequence};
use super::sink::AudioSink;
use super::wav::{apply_volume, render};

/// How long a call may wait in the queue before it is dropped instead of read late.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Silence between two announcements, so two calls are heard as two.
pub const PAUSE_BETWEEN: Duration = Duration::from_millis(800);
/// Calls remembered for de-duplication and shown in [`Announcer::history`].
const REMEMBERED: usize = 256;

#[derive(Clone, Debug)]
pub struct AnnouncerConfig {
    pub settings: VoiceSettings,
    /// The hall's time zone, for quiet hours.
    pub time_zone: chrono_tz::Tz,
    pub max_age: Duration,
    pub pause_between: Duration,
}

impl AnnouncerConfig {
    pub fn new(settings: VoiceSettings, time_zone: chrono_tz::Tz) -> AnnouncerConfig {
        AnnouncerConfig {
            settings,
            time_zone,
            max_age: MAX_AGE,
            pause_between: PAUSE_BETWEEN,
        }
    }
}

/// What became of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Spoken,
    /// Waited longer than [`AnnouncerConfig::max_age`].
    Stale,
    QuietHours,
    /// Voice calling is switched off in the settings.
    Disabled,
    /// The same call (same event id) was already handled.
    Duplicate,
    /// There is no sound output; the call was only shown.
    NoSound,
    /// The call could not be said with this pack (an odd ticket number, a missing clip).
    Unspeakable,
}

/// One call and its outcome, for diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    pub call_id: u64,
    pub number: String,
    pub counter: u32,
    pub recall: bool,
    /// When the announcer took it from the queue.
    pub at: Timestamp,
    pub outcome: Outcome,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnnouncerStats {
    pub spoken: u64,
    pub stale: u64,
    pub quiet_hours: u64,
    pub disabled: u64,
    pub duplicate: u64,
    pub no_sound: u64,
    pub unspeakable: u64,
    /// Times "no sound output" was written to the log: once per stretch without sound.
    pub sound_warnings: u64,
}

impl AnnouncerStats {
    fn count(&mut self, outcome: Outcome) {
        let n = match outcome {
            Outcome::Spoken => &mut self.spoken,
            Outcome::Stale => &mut self.stale,
            Outcome::QuietHours => &mut self.quiet_hours,
            Outcome::Disabled => &mut self.disabled,
            Outcome::Duplicate => &mut self.duplicate,
            Outcome::NoSound => &mut self.no_sound,
            Outcome::Unspeakable => &mut self.unspeakable,
        };
        *n += 1;
    }
}

/// Whether `local` (the hall's wall-clock time) falls in the quiet hours `[quiet_from, quiet_to)`.
/// The range may cross midnight (22:00–07:00); equal ends or a missing end mean no quiet hours.
pub fn in_quiet_hours(settings: &VoiceSettings, local: NaiveTime) -> bool {
    match (settings.quiet_from, settings.quiet_to) {
        (Some(from), Some(to)) if from < to => from <= local && local < to,
        (Some(from), Some(to)) if from > to => local >= from || local < to,
        _ => false,
    }
}

enum Msg {
    Call(Box<CallView>, Timestamp),
    Settings(VoiceSettings),
    TimeZone(chrono_tz::Tz),
}

#[derive(Default)]
struct Shared {
    stats: AnnouncerStats,
    history: VecDeque<Handled>,
}

/// The queue and its thread. `Send + Sync`: share it with `Arc` or keep it in the thread that
/// receives calls from the hub.
pub struct Announcer {
    tx: Option<Sender<Msg>>,
    shared: Arc<Mutex<Shared>>,
    stop_now: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Announcer {
    /// Starts the announcer thread. A pack that lacks clips is reported in the log once here; calls
    /// then still go on screen, and English is left out when the pack cannot say it.
    pub fn start(
        pack: VoicePack,
        sink: Box<dyn AudioSink>,
        clock: Arc<dyn Clock>,
        config: AnnouncerConfig,
    ) -> Announcer {
        let missing_zh = pack.missing(false);
        if !missing_zh.is_empty() {
            tracing::warn!(
                pack = pack.name(),
                "the voice pack lacks Mandarin clips, some calls cannot be spoken: {}",
                join(&missing_zh)
            );
        }
        let english_ok = pack.missing(true).len() == missing_zh.len();
        if config.settings.english && !english_ok {
            tracing::warn!(
                pack = pack.name(),
                "the voice pack has no English clips: calls are spoken in Mandarin only"
            );
        }
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop_now = Arc::new(AtomicBool::new(false));
        let mut worker = Worker {
            pack,
            english_ok,
            sink,
            clock,
            config,
            seen: VecDeque::new(),
            without_sound: false,
            shared: shared.clone(),
            stop_now: stop_now.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("announcer".into())
            .spawn(move || worker.run(rx))
            .ok();
        if thread.is_none() {
            tracing::error!(
                "cannot start the announcer thread: calls will be shown but not spoken"
            );
        }
        Announcer {
            tx: Some(tx),
            shared,
            stop_now,
            thread,
        }
    }

    /// The board's announcer: the pack in `pack_dir`, ALSA through `aplay` on `device` (`None` = ALSA's
    /// default), the wall clock. Never fails: without a usable pack the reason is logged once and calls
    /// are shown but not spoken.
    pub fn for_board(
        pack_dir: &std::path::Path,
        device: Option<String>,
        config: AnnouncerConfig,
    ) -> Announcer {
        let pack = VoicePack::load(pack_dir).unwrap_or_else(|e| {
            tracing::warn!(
                "{e}; calls will be shown but not spoken (make a pack with deploy/voice/make-voice-pack.sh)"
            );
            VoicePack::from_clips("none", 22_050, Default::default())
        });
        Announcer::start(
            pack,
            Box::new(super::sink::AplaySink::new(device)),
            Arc::new(super::clock::SystemClock),
            config,
        )
    }

    /// Queues a call for speaking. `received_at` is when the board received it (by the announcer's
    /// clock): a call still unspoken a minute later is dropped. Returns at once.
    ///
    /// Enqueue live `Called`/`Recalled` events only; the calls in a snapshot after a reconnect are
    /// history, not news.
    pub fn enqueue(&self, call: &CallView, received_at: Timestamp) {
        self.send(Msg::Call(Box::new(call.clone()), received_at));
    }

    /// New voice settings (the manager changed volume or quiet hours); applies from the next call.
    pub fn set_settings(&self, settings: VoiceSettings) {
        self.send(Msg::Settings(settings));
    }

    /// The hall's time zone changed (quiet hours are in the hall's wall-clock time).
    pub fn set_time_zone(&self, time_zone: chrono_tz::Tz) {
        self.send(Msg::TimeZone(time_zone));
    }

    pub fn stats(&self) -> AnnouncerStats {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).stats
    }

    /// The latest calls handled, oldest first.
    pub fn history(&self) -> Vec<Handled> {
        let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.history.iter().cloned().collect()
    }

    /// Handles everything already queued (speaking it, or dropping what has gone stale), then stops.
    pub fn shutdown(mut self) -> AnnouncerStats {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.stats()
    }

    fn send(&self, msg: Msg) {
        // A send fails only when the thread is gone, and the log has said so already.
        if let Some(tx) = &self.tx {
            let _ = tx.send(msg);
        }
    }
}

impl Drop for Announcer {
    /// Stops after the announcement being played; what is still queued is not spoken.
    fn drop(&mut self) {
        self.stop_now.store(true, Ordering::SeqCst);
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    pack: VoicePack,
    english_ok: bool,
    sink: Box<dyn AudioSink>,
    clock: Arc<dyn Clock>,
    config: AnnouncerConfig,
    seen: VecDeque<u64>,
    without_sound: bool,
    shared: Arc<Mutex<Shared>>,
    stop_now: Arc<AtomicBool>,
}

impl Worker {
    fn run(&mut self, rx: Receiver<Msg>) {
        while let Ok(msg) = rx.recv() {
            if self.stop_now.load(Ordering::SeqCst) {
                break;
            }
            match msg {
                Msg::Settings(s) => self.config.settings = s,
                Msg::TimeZone(tz) => self.config.time_zone = tz,
                Msg::Call(call, received_at) => {
                    let at = self.clock.now();
                    let outcome = self.handle(&call, received_at, at);
                    let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
                    shared.stats.count(outcome);
                    if shared.history.len() == REMEMBERED {
                        shared.history.pop_front();
                    }
                    shared.history.push_back(Handled {
                        call_id: call.id,
                        number: call.number.clone(),
                        counter: call.counter,
                        recall: call.recall,
                        at,
                        outcome,
                    });
                }
            }
        }
    }

    fn handle(&mut self, call: &CallView, received_at: Timestamp, now: Timestamp) -> Outcome {
        if self.seen.contains(&call.id) {
            return Outcome::Duplicate;
        }
        if self.seen.len() == REMEMBERED {
            self.seen.pop_front();
        }
        self.seen.push_back(call.id);

        let settings = &self.config.settings;
        if !settings.enabled {
            return Outcome::Disabled;
        }
        let waited = now.signed_duration_since(received_at);
        if waited > chrono::Duration::from_std(self.config.max_age).unwrap_or(chrono::Duration::MAX)
        {
            tracing::info!(number = ?call.number, waited_s = waited.num_seconds(), "call dropped from the voice queue: too late to read");
            return Outcome::Stale;
        }
        if in_quiet_hours(settings, now.with_timezone(&self.config.time_zone).time()) {
            return Outcome::QuietHours;
        }
        let speech = CallSpeech {
            number: &call.number,
            counter: CounterVoice::choose(
                call.counter,
                &call.counter_name.zh,
                self.pack.has(ClipId::CounterName(call.counter)),
            ),
            apology: call.apology,
            recall: call.recall,
            english: settings.english && self.english_ok,
        };
        let mut samples = match sequence(&speech).and_then(|clips| render(&self.pack, &clips)) {
            Ok(s) => s,
            // Missing clips were reported once at start; an odd ticket number is news every time.
            Err(e @ super::VoiceError::MissingClip(_)) => {
                tracing::debug!(number = ?call.number, "call not spoken: {e}");
                return Outcome::Unspeakable;
            }
            Err(e) => {
                tracing::warn!(number = ?call.number, "call not spoken: {e}");
                return Outcome::Unspeakable;
            }
        };
        apply_volume(&mut samples, settings.volume);
        match self.sink.play(&samples, self.pack.sample_rate()) {
            Ok(()) => {
                if self.without_sound {
                    tracing::info!("sound output works again: calls are spoken");
                    self.without_sound = false;
                }
                self.clock.sleep(self.config.pause_between);
                Outcome::Spoken
            }
            Err(e) => {
                if !self.without_sound {
                    tracing::warn!(
                        "{e}; the board keeps running and shows calls without speaking them"
                    );
                    self.without_sound = true;
                    self.shared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .stats
                        .sound_warnings += 1;
                }
                Outcome::NoSound
            }
        }
    }
}

fn join(ids: &[ClipId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::clock::SimClock;
    use crate::voice::sink::{Played, RecordingSink};
    use crate::voice::testing::synthetic_pack;
    use chrono::TimeZone;
    use hallq_shared::hall::Text;

    const RATE: u32 = 8_000;

    fn t0() -> Timestamp {
        // 10:00 in the hall (Asia/Shanghai, UTC+8).
        chrono::Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap()
    }

    fn call(id: u64, number: &str, counter: u32) -> CallView {
        CallView {
            id,
            number: number.into(),
            service: "pay".into(),
            counter,
            counter_name: Text::new(format!("{counter}号窗口"), format!("Counter {counter}")),
            at: t0(),
            apology: false,
            recall: false,
        }
    }

    struct Rig {
        clock: SimClock,
        sink: RecordingSink,
        pack: VoicePack,
    }

    impl Rig {
        fn new() -> Rig {
            let clock = SimClock::new(t0());
            Rig {
                sink: RecordingSink::new(clock.clone()),
                clock,
                pack: synthetic_pack(RATE),
            }
        }

        fn start(&self, settings: VoiceSettings) -> Announcer {
            Announcer::start(
                self.pack.clone(),
                Box::new(self.sink.clone()),
                Arc::new(self.clock.clone()),
                AnnouncerConfig::new(settings, chrono_tz::Asia::Shanghai),
            )
        }

        /// What `c` sounds like at full volume in Mandarin.
        fn sound_of(&self, c: &CallView) -> Vec<i16> {
            let speech = CallSpeech {
                number: &c.number,
                counter: CounterVoice::Numbered(c.counter),
                apology: c.apology,
                recall: c.recall,
                english: false,
            };
            render(&self.pack, &sequence(&speech).unwrap()).unwrap()
        }
    }

    fn full_volume() -> VoiceSettings {
        VoiceSettings {
            volume: 100,
            ..VoiceSettings::default()
        }
    }

    fn outcomes(a: &Announcer) -> Vec<(u64, Outcome)> {
        a.history().iter().map(|h| (h.call_id, h.outcome)).collect()
    }

    fn assert_no_overlap(played: &[Played]) {
        for w in played.windows(2) {
            assert!(
                w[1].started >= w[0].ended + chrono::Duration::from_std(PAUSE_BETWEEN).unwrap(),
                "{} starts before {} has finished",
                w[1].started,
                w[0].ended
            );
        }
    }

    #[test]
    fn a_burst_is_announced_in_order_each_once_without_overlap() {
        let rig = Rig::new();
        let a = rig.start(full_volume());
        let calls: Vec<CallView> = (1..=5)
            .map(|i| call(i, &format!("A{i:03}"), i as u32 * 3))
            .collect();
        for c in &calls {
            a.enqueue(c, t0());
        }
        a.enqueue(&calls[2], t0()); // the same event again, e.g. delivered twice
        let stats = a.shutdown();
        assert_eq!(stats.spoken, 5);
        assert_eq!(stats.duplicate, 1);

        let played = rig.sink.played();
        assert_eq!(played.len(), 5);
        for (p, c) in played.iter().zip(&calls) {
            assert_eq!(
                p.samples,
                rig.sound_of(c),
                "{} spoken out of order",
                c.number
            );
            assert_eq!(p.sample_rate, RATE);
        }
        assert_no_overlap(&played);
    }

    #[test]
    fn a_backlog_older_than_a_minute_is_dropped_not_read_late() {
        let rig = Rig::new();
        let a = rig.start(full_volume());
        let one = rig.sound_of(&call(1, "B001", 1)).len() as f64 / f64::from(RATE);
        assert!(one > 1.0, "synthetic calls last {one} s");
        // Far more than a minute of speech, all received at once.
        let calls: Vec<CallView> = (1..=60).map(|i| call(i, &format!("B{i:03}"), 1)).collect();
        for c in &calls {
            a.enqueue(c, t0());
        }
        // A call received later than the burst is not part of the stale backlog.
        let late = call(99, "C001", 2);
        a.enqueue(&late, t0() + chrono::Duration::seconds(75));
        let stats = a.shutdown();

        let played = rig.sink.played();
        assert_no_overlap(&played);
        let limit = t0() + chrono::Duration::seconds(60);
        let spoken = stats.spoken as usize - 1;
        assert!(spoken > 5 && spoken < 60, "{spoken} of the burst spoken");
        assert_eq!(stats.stale as usize, 60 - spoken);
        // The burst is spoken in order up to the minute, then dropped; nothing starts late.
        for (p, c) in played.iter().zip(&calls[..spoken]) {
            assert_eq!(p.samples, rig.sound_of(c));
            assert!(p.started <= limit, "{} started late", c.number);
        }
        // The next one would have started past the minute.
        let last = &played[spoken - 1];
        assert!(last.ended + chrono::Duration::from_std(PAUSE_BETWEEN).unwrap() > limit);
        assert_eq!(played.last().unwrap().samples, rig.sound_of(&late));
    }

    #[test]
    fn recalls_are_spoken_again_and_apologies_added() {
        let rig = Rig::new();
        let a = rig.start(full_volume());
        let first = call(1, "A007", 3);
        let mut recall = call(2, "A007", 3);
        recall.recall = true;
        let mut sorry = call(3, "A008", 3);
        sorry.apology = true;
        for c in [&first, &recall, &sorry] {
            a.enqueue(c, t0());
        }
        a.shutdown();
        let played = rig.sink.played();
        assert_eq!(played.len(), 3);
        assert_eq!(played[1].samples, rig.sound_of(&recall));
        assert!(
            played[1].samples.len() > played[0].samples.len(),
            "a recall says 再次呼叫 first"
        );
        assert_eq!(played[2].samples, rig.sound_of(&sorry));
    }

    #[test]
    fn volume_and_english_from_the_settings() {
        let rig = Rig::new();
        let a = rig.start(VoiceSettings {
            volume: 50,
            ..VoiceSettings::default()
        });
        let c1 = call(1, "A001", 1);
        a.enqueue(&c1, t0());
        a.set_settings(VoiceSettings {
            volume: 100,
            english: true,
            ..VoiceSettings::default()
        });
        let c2 = call(2, "A002", 2);
        a.enqueue(&c2, t0());
        a.shutdown();
        let played = rig.sink.played();
        let mut half = rig.sound_of(&c1);
        apply_volume(&mut half, 50);
        assert_eq!(played[0].samples, half);
        let english = CallSpeech {
            number: "A002",
            counter: CounterVoice::Numbered(2),
            apology: false,
            recall: false,
            english: true,
        };
        assert_eq!(
            played[1].samples,
            render(&rig.pack, &sequence(&english).unwrap()).unwrap()
        );
    }

    #[test]
    fn quiet_hours_and_switched_off() {
        let rig = Rig::new();
        // 10:00–10:30 in the hall; the clock starts at 10:00.
        let quiet = VoiceSettings {
            quiet_from: NaiveTime::from_hms_opt(10, 0, 0),
            quiet_to: NaiveTime::from_hms_opt(10, 30, 0),
            ..full_volume()
        };
        let a = rig.start(quiet.clone());
        a.enqueue(&call(1, "A001", 1), t0());
        a.set_settings(VoiceSettings {
            enabled: false,
            ..full_volume()
        });
        a.enqueue(&call(2, "A002", 1), t0());
        a.set_settings(quiet);
        let stats = a.shutdown();
        assert_eq!((stats.quiet_hours, stats.disabled, stats.spoken), (1, 1, 0));
        assert!(rig.sink.played().is_empty());

        let rig = Rig::new();
        rig.clock.advance(Duration::from_secs(30 * 60)); // 10:30: quiet hours are over
        let a = rig.start(VoiceSettings {
            quiet_from: NaiveTime::from_hms_opt(10, 0, 0),
            quiet_to: NaiveTime::from_hms_opt(10, 30, 0),
            ..full_volume()
        });
        a.enqueue(&call(1, "A001", 1), rig.clock.now());
        assert_eq!(a.shutdown().spoken, 1);
    }

    #[test]
    fn quiet_hours_may_cross_midnight() {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let s = |from, to| VoiceSettings {
            quiet_from: Some(from),
            quiet_to: Some(to),
            ..VoiceSettings::default()
        };
        let lunch = s(hm(12, 0), hm(13, 30));
        assert!(!in_quiet_hours(&lunch, hm(11, 59)));
        assert!(in_quiet_hours(&lunch, hm(12, 0)));
        assert!(in_quiet_hours(&lunch, hm(13, 29)));
        assert!(!in_quiet_hours(&lunch, hm(13, 30)));
        let night = s(hm(22, 0), hm(7, 0));
        assert!(in_quiet_hours(&night, hm(23, 0)));
        assert!(in_quiet_hours(&night, hm(6, 59)));
        assert!(!in_quiet_hours(&night, hm(7, 0)));
        assert!(!in_quiet_hours(&night, hm(12, 0)));
        assert!(!in_quiet_hours(&s(hm(9, 0), hm(9, 0)), hm(9, 0)));
        assert!(!in_quiet_hours(&VoiceSettings::default(), hm(3, 0)));
    }

    #[test]
    fn without_sound_the_board_says_so_once_and_carries_on() {
        let rig = Rig::new();
        rig.sink.set_unavailable(true);
        let a = rig.start(full_volume());
        for i in 1..=3 {
            a.enqueue(&call(i, &format!("A{i:03}"), 1), t0());
        }
        // Bounded wait for the thread to handle the three calls.
        for _ in 0..2000 {
            if a.history().len() == 3 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            outcomes(&a),
            [
                (1, Outcome::NoSound),
                (2, Outcome::NoSound),
                (3, Outcome::NoSound)
            ]
        );
        assert_eq!(a.stats().sound_warnings, 1);
        // The speakers come back (e.g. the HDMI screen was switched on).
        rig.sink.set_unavailable(false);
        a.enqueue(&call(4, "A004", 1), t0());
        let stats = a.shutdown();
        assert_eq!(
            (stats.spoken, stats.no_sound, stats.sound_warnings),
            (1, 3, 1)
        );
        assert_eq!(rig.sink.played().len(), 1);
    }

    #[test]
    fn an_odd_ticket_number_does_not_stop_the_queue() {
        let rig = Rig::new();
        let a = rig.start(full_volume());
        a.enqueue(&call(1, "A-1", 1), t0());
        a.enqueue(&call(2, "A002", 1), t0());
        a.shutdown();
        assert_eq!(rig.sink.played().len(), 1);
    }

    #[test]
    fn a_board_without_a_voice_pack_keeps_going() {
        let dir = tempfile::tempdir().unwrap();
        let a = Announcer::for_board(
            &dir.path().join("no-pack"),
            None,
            AnnouncerConfig::new(full_volume(), chrono_tz::Asia::Shanghai),
        );
        a.enqueue(&call(1, "A001", 1), chrono::Utc::now());
        let stats = a.shutdown();
        assert_eq!((stats.unspeakable, stats.spoken), (1, 0));
    }

    #[test]
    fn the_board_can_share_the_announcer_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Announcer>();
    }
}
