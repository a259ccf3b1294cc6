//! What a call costs before it is heard: choosing the clips, joining them, applying the volume; and
//! loading the default pack at start-up. Uses the pack made by `deploy/voice/make-voice-pack.sh`
//! (`HALLQ_VOICE_PACK=DIR`), or synthetic clips of the same size when none is given.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hallq_board::voice::wav::{apply_volume, write_wav};
use hallq_board::voice::{CallSpeech, ClipId, CounterVoice, VoicePack, render, sequence};

fn pack() -> VoicePack {
    if let Some(dir) = std::env::var_os("HALLQ_VOICE_PACK") {
        return VoicePack::load(dir.as_ref()).expect("load HALLQ_VOICE_PACK");
    }
    // About the default pack's size: half a second per clip at 22 050 Hz.
    let clips: BTreeMap<ClipId, Vec<i16>> = ClipId::required(true)
        .into_iter()
        .map(|id| (id, vec![1000; 11_025]))
        .collect();
    VoicePack::from_clips("synthetic", 22_050, clips)
}

fn bench(c: &mut Criterion) {
    let pack = pack();
    let call = CallSpeech {
        number: "A007",
        counter: CounterVoice::Numbered(12),
        apology: true,
        recall: false,
        english: true,
    };
    c.bench_function("sequence A007 counter 12, apology, English", |b| {
        b.iter(|| sequence(black_box(&call)).unwrap())
    });
    let clips = sequence(&call).unwrap();
    c.bench_function("render + volume A007 counter 12, apology, English", |b| {
        b.iter(|| {
            let mut s = render(black_box(&pack), black_box(&clips)).unwrap();
            apply_volume(&mut s, 80);
            s
        })
    });
    let samples = render(&pack, &clips).unwrap();
    c.bench_function("write_wav A007 to memory", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(samples.len() * 2 + 44);
            write_wav(&mut out, pack.sample_rate(), black_box(&samples)).unwrap();
            out
        })
    });
    if let Some(dir) = std::env::var_os("HALLQ_VOICE_PACK") {
        c.bench_function("load the voice pack", |b| {
            b.iter(|| VoicePack::load(black_box(dir.as_ref())).unwrap())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
