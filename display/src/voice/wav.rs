//! Joining clips into one announcement (with fixed, defined pauses), volume, and the WAV writer.

use std::io::{self, Write};

use super::VoiceError;
use super::clip::ClipId;
use super::pack::VoicePack;

/// Pause between two words: clips are trimmed tight, and without a breath the digits run together.
pub const GAP_MS: u32 = 60;
/// Pause after the chime, so the first word is not lost under its ring.
pub const AFTER_CHIME_MS: u32 = 300;
/// Pause between the Mandarin sentence and the English one.
pub const BEFORE_ENGLISH_MS: u32 = 500;

/// The pause between `prev` and `next`, in milliseconds.
pub fn gap_ms(prev: ClipId, next: ClipId) -> u32 {
    if prev == ClipId::Chime {
        AFTER_CHIME_MS
    } else if prev.is_mandarin() && next.is_english() {
        BEFORE_ENGLISH_MS
    } else {
        GAP_MS
    }
}

fn gap_samples(rate: u32, prev: ClipId, next: ClipId) -> usize {
    (u64::from(rate) * u64::from(gap_ms(prev, next)) / 1000) as usize
}

/// The number of samples [`render`] produces: the clips plus the pauses between them.
pub fn rendered_len(pack: &VoicePack, clips: &[ClipId]) -> Result<usize, VoiceError> {
    let mut n = 0;
    for (i, id) in clips.iter().enumerate() {
        n += pack
            .clip(*id)
            .ok_or_else(|| VoiceError::MissingClip(id.to_string()))?
            .len();
        if let Some(next) = clips.get(i + 1) {
            n += gap_samples(pack.sample_rate(), *id, *next);
        }
    }
    Ok(n)
}

/// One announcement at the pack's sample rate: the clips in order with [`gap_ms`] of silence between.
pub fn render(pack: &VoicePack, clips: &[ClipId]) -> Result<Vec<i16>, VoiceError> {
    let mut out = Vec::with_capacity(rendered_len(pack, clips)?);
    for (i, id) in clips.iter().enumerate() {
        // rendered_len above has already checked that every clip is there.
        out.extend_from_slice(pack.clip(*id).unwrap_or_default());
        if let Some(next) = clips.get(i + 1) {
            out.resize(out.len() + gap_samples(pack.sample_rate(), *id, *next), 0);
        }
    }
    Ok(out)
}

/// Scales the samples for a volume of 0–100 (100 = as recorded, 50 = half the amplitude, 0 = silent).
pub fn apply_volume(samples: &mut [i16], volume: u8) {
    let v = i32::from(volume.min(100));
    if v == 100 {
        return;
    }
    for s in samples {
        *s = (i32::from(*s) * v / 100) as i16;
    }
}

/// Root mean square of the samples, 0.0 (silence) to 1.0 (full scale).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples
        .iter()
        .map(|s| {
            let x = f64::from(*s) / 32768.0;
            x * x
        })
        .sum();
    (sum / samples.len() as f64).sqrt()
}

/// Writes a mono 16-bit PCM WAV file (the canonical 44-byte header, then little-endian samples).
/// Needs no `Seek`: the length is known before the first byte is written.
pub fn write_wav<W: Write>(mut w: W, sample_rate: u32, samples: &[i16]) -> io::Result<()> {
    let data_len = u32::try_from(samples.len() * 2)
        .ok()
        .filter(|n| *n <= u32::MAX - 36)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "too long for a WAV file"))?;
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data_len).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&1u16.to_le_bytes()); // mono
    header.extend_from_slice(&sample_rate.to_le_bytes());
    header.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // bytes per second
    header.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    header.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_len.to_le_bytes());
    w.write_all(&header)?;
    let mut body = Vec::with_capacity(samples.len() * 2);
    for s in samples {
        body.extend_from_slice(&s.to_le_bytes());
    }
    w.write_all(&body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::sequence::{CallSpeech, CounterVoice, sequence};
    use std::collections::BTreeMap;

    /// A pack whose clips have distinct lengths and a distinct constant value, so joins can be checked.
    fn synthetic_pack(rate: u32) -> VoicePack {
        let clips: BTreeMap<ClipId, Vec<i16>> = ClipId::required(true)
            .into_iter()
            .enumerate()
            .map(|(i, id)| (id, vec![(i as i16 + 1) * 100; 1000 + 37 * i]))
            .collect();
        VoicePack::from_clips("synthetic", rate, clips)
    }

    #[test]
    fn an_announcement_is_the_clips_in_order_with_defined_pauses() {
        let pack = synthetic_pack(16_000);
        let call = CallSpeech {
            number: "A007",
            counter: CounterVoice::Numbered(3),
            apology: true,
            recall: false,
            english: true,
        };
        let clips = sequence(&call).unwrap();
        let samples = render(&pack, &clips).unwrap();
        let clip_sum: usize = clips.iter().map(|c| pack.clip(*c).unwrap().len()).sum();
        let gaps: Vec<u32> = clips.windows(2).map(|w| gap_ms(w[0], w[1])).collect();
        assert_eq!(gaps[0], AFTER_CHIME_MS);
        assert_eq!(gaps.iter().filter(|g| **g == BEFORE_ENGLISH_MS).count(), 1);
        let gap_sum: usize = gaps.iter().map(|ms| 16 * *ms as usize).sum();
        assert_eq!(samples.len(), clip_sum + gap_sum);
        assert_eq!(rendered_len(&pack, &clips).unwrap(), samples.len());

        // Walk the result: each clip's samples, then exactly its pause of silence.
        let mut at = 0;
        for (i, id) in clips.iter().enumerate() {
            let clip = pack.clip(*id).unwrap();
            assert_eq!(&samples[at..at + clip.len()], clip, "clip {i} ({id})");
            at += clip.len();
            if i + 1 < clips.len() {
                let gap = 16 * gaps[i] as usize;
                assert!(samples[at..at + gap].iter().all(|s| *s == 0));
                at += gap;
            }
        }
        assert_eq!(at, samples.len());
    }

    #[test]
    fn a_missing_clip_is_named() {
        let mut clips = BTreeMap::new();
        clips.insert(ClipId::Chime, vec![1; 10]);
        let pack = VoicePack::from_clips("tiny", 8000, clips);
        let err = render(&pack, &[ClipId::Chime, ClipId::ZhPlease]).unwrap_err();
        assert_eq!(err.to_string(), "the voice pack has no clip \"zh_please\"");
    }

    #[test]
    fn the_wav_file_is_mono_16_bit_pcm_of_the_right_length() {
        let samples: Vec<i16> = (0..22_050).map(|i| (i % 200 - 100) as i16 * 300).collect();
        let mut bytes = Vec::new();
        write_wav(&mut bytes, 22_050, &samples).unwrap();
        assert_eq!(bytes.len(), 44 + 2 * samples.len());
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
            bytes.len() - 8
        );
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(&bytes[36..40], b"data");

        let reader = hound::WavReader::new(std::io::Cursor::new(&bytes)).unwrap();
        let spec = reader.spec();
        assert_eq!(spec.channels, 1);
        assert_eq!(spec.sample_rate, 22_050);
        assert_eq!(spec.bits_per_sample, 16);
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        assert_eq!(reader.duration(), 22_050, "one second");
        let back: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
        assert_eq!(back, samples);
    }

    #[test]
    fn volume_scales_amplitude() {
        let mut s = vec![10_000, -10_000, 32_767, -32_768];
        apply_volume(&mut s, 100);
        assert_eq!(s, [10_000, -10_000, 32_767, -32_768]);
        apply_volume(&mut s, 50);
        assert_eq!(s, [5_000, -5_000, 16_383, -16_384]);
        apply_volume(&mut s, 0);
        assert_eq!(s, [0, 0, 0, 0]);
        assert!((rms(&[16_384, -16_384]) - 0.5).abs() < 1e-9);
        assert_eq!(rms(&[]), 0.0);
    }
}
