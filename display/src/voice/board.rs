//! What the board's hub link hands the announcer: each live call once, and the hall's voice settings
//! and time zone from every snapshot and update. The calls inside a snapshot are history and are
//! never spoken (a reconnection must not read old calls again).

use std::sync::Arc;

use hallq_shared::config::VoiceSettings;

use super::announcer::Announcer;
use super::clock::Clock;
use crate::link::LinkEvent;

/// The announcer as the board's link sees it. Lives on the link thread.
pub struct BoardVoice {
    announcer: Announcer,
    clock: Arc<dyn Clock>,
    settings: Option<VoiceSettings>,
    time_zone: Option<String>,
}

impl std::fmt::Debug for BoardVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardVoice")
            .field("announcer", &self.announcer)
            .finish_non_exhaustive()
    }
}

impl BoardVoice {
    /// `clock` must be the announcer's: it stamps when each call was received.
    pub fn new(announcer: Announcer, clock: Arc<dyn Clock>) -> BoardVoice {
        BoardVoice {
            announcer,
            clock,
            settings: None,
            time_zone: None,
        }
    }

    pub fn announcer(&self) -> &Announcer {
        &self.announcer
    }

    /// Follows one link event: settings from any board, and the new calls of an update, oldest first.
    pub fn hear(&mut self, event: &LinkEvent) {
        let board = match event {
            LinkEvent::Snapshot(board) | LinkEvent::Update { board, .. } => board,
            LinkEvent::Lost { .. } => return,
        };
        let notices = &board.notices;
        if self.time_zone.as_deref() != Some(notices.time_zone.as_str()) {
            match notices.time_zone.parse::<chrono_tz::Tz>() {
                Ok(tz) => self.announcer.set_time_zone(tz),
                Err(_) => tracing::warn!(
                    time_zone = %notices.time_zone,
                    "the hub's time zone is unknown here; quiet hours keep the previous one"
                ),
            }
            self.time_zone = Some(notices.time_zone.clone());
        }
        if self.settings.as_ref() != Some(&notices.voice) {
            self.announcer.set_settings(notices.voice.clone());
            self.settings = Some(notices.voice.clone());
        }
        if let LinkEvent::Update { new_calls, .. } = event {
            let now = self.clock.now();
            for call in new_calls.iter().rev() {
                self.announcer.enqueue(call, now);
            }
        }
    }

    /// Speaks what is queued, then stops.
    pub fn shutdown(self) -> crate::voice::AnnouncerStats {
        self.announcer.shutdown()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Scenario;
    use crate::voice::SimClock;
    use crate::voice::announcer::AnnouncerConfig;
    use crate::voice::sink::RecordingSink;
    use crate::voice::testing::synthetic_pack;
    use chrono::TimeZone;
    use hallq_shared::protocol::{CallView, PublicEvent};

    fn rig(settings: VoiceSettings) -> (BoardVoice, RecordingSink) {
        let clock = SimClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap());
        let sink = RecordingSink::new(clock.clone());
        let announcer = Announcer::start(
            synthetic_pack(8_000),
            Box::new(sink.clone()),
            Arc::new(clock.clone()),
            AnnouncerConfig::new(settings, chrono_tz::Asia::Shanghai),
        );
        (BoardVoice::new(announcer, Arc::new(clock)), sink)
    }

    fn fresh_call(board: &hallq_shared::protocol::BoardSnapshot) -> CallView {
        let mut call = board.live.calls[0].clone();
        call.id = 9_001;
        call.number = "A123".into();
        call.counter = 2;
        call.recall = false;
        call
    }

    #[test]
    fn a_live_call_is_spoken_once_and_snapshot_calls_never() {
        let mut board = Scenario::Normal.snapshot();
        assert!(!board.live.calls.is_empty(), "the demo hall has calls");
        board.notices.voice.enabled = true;
        board.notices.voice.quiet_from = None;
        board.notices.voice.quiet_to = None;
        // Disabled until the hub's settings arrive: proves the snapshot's settings are applied.
        let (mut voice, sink) = rig(VoiceSettings {
            enabled: false,
            ..VoiceSettings::default()
        });
        voice.hear(&LinkEvent::Snapshot(Box::new(board.clone())));

        let call = fresh_call(&board);
        let new_calls = crate::link::calls_in(&[PublicEvent::Called { call: call.clone() }]);
        let event = LinkEvent::Update {
            board: Box::new(board.clone()),
            new_calls,
        };
        voice.hear(&event);
        // A reconnection: the same call comes back as snapshot history, and the update is repeated.
        let mut after = board.clone();
        after.live.calls.insert(0, call.clone());
        voice.hear(&LinkEvent::Lost {
            reason: "test".into(),
        });
        voice.hear(&LinkEvent::Snapshot(Box::new(after)));
        voice.hear(&event);

        let stats = voice.shutdown();
        assert_eq!((stats.spoken, stats.duplicate), (1, 1), "{stats:?}");
        assert_eq!(
            stats.stale + stats.quiet_hours + stats.disabled + stats.unspeakable,
            0
        );
        assert_eq!(sink.played().len(), 1);
    }

    #[test]
    fn the_hubs_settings_switch_the_voice_off() {
        let mut board = Scenario::Normal.snapshot();
        board.notices.voice.enabled = false;
        let (mut voice, sink) = rig(VoiceSettings::default());
        voice.hear(&LinkEvent::Snapshot(Box::new(board.clone())));
        let call = fresh_call(&board);
        voice.hear(&LinkEvent::Update {
            board: Box::new(board),
            new_calls: vec![call],
        });
        let stats = voice.shutdown();
        assert_eq!((stats.disabled, stats.spoken), (1, 0), "{stats:?}");
        assert!(sink.played().is_empty());
    }
}
