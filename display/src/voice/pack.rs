//! A voice pack: a folder with `manifest.toml` and one WAV file per clip, all mono 16-bit PCM at the
//! manifest's sample rate. The default pack is made by `deploy/voice/make-voice-pack.sh`; a hall may drop
//! in its own recordings in the same shape.
//!
//! ```toml
//! name = "Yingshan hall, recorded 2026"
//! sample_rate = 22050
//! [clips]
//! chime = "chime.wav"
//! zh_0 = "zh_0.wav"
//! counter_7 = "vip.wav"   # optional: this counter's own name
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::VoiceError;
use super::clip::ClipId;

/// Where the board looks for its pack unless told otherwise.
pub const DEFAULT_PACK_DIR: &str = "/usr/share/hallq/voice";
/// Environment variable that overrides [`DEFAULT_PACK_DIR`].
pub const PACK_DIR_ENV: &str = "HALLQ_VOICE_PACK";
/// The file name of a pack's manifest.
pub const MANIFEST: &str = "manifest.toml";
/// A clip longer than this is a mistake (a whole recording session dropped in as one clip).
pub const MAX_CLIP_SECONDS: u32 = 10;

/// The pack folder from the environment, else the installed default.
pub fn default_pack_dir() -> PathBuf {
    std::env::var_os(PACK_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PACK_DIR))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    name: String,
    sample_rate: u32,
    clips: BTreeMap<String, PathBuf>,
}

/// Clips in memory, ready to join.
#[derive(Clone, Debug)]
pub struct VoicePack {
    name: String,
    sample_rate: u32,
    clips: BTreeMap<ClipId, Vec<i16>>,
}

impl VoicePack {
    /// Reads and checks a pack folder. A pack may lack clips (see [`VoicePack::missing`]); anything it
    /// has must be right: known clip names, files present, mono 16-bit at the pack's rate.
    pub fn load(dir: &Path) -> Result<VoicePack, VoiceError> {
        let manifest_path = dir.join(MANIFEST);
        let shown = manifest_path.display().to_string();
        let text = std::fs::read_to_string(&manifest_path).map_err(|source| VoiceError::Io {
            path: shown.clone(),
            source,
        })?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| VoiceError::Manifest {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        if !(8_000..=96_000).contains(&manifest.sample_rate) {
            return Err(VoiceError::Manifest {
                path: shown,
                message: format!("sample_rate {} is not 8000–96000", manifest.sample_rate),
            });
        }
        let mut clips = BTreeMap::new();
        for (key, file) in &manifest.clips {
            let id: ClipId =
                key.parse()
                    .map_err(|e: super::clip::UnknownClip| VoiceError::Manifest {
                        path: shown.clone(),
                        message: e.to_string(),
                    })?;
            let samples = read_clip(&dir.join(file), manifest.sample_rate)?;
            clips.insert(id, samples);
        }
        Ok(VoicePack {
            name: manifest.name,
            sample_rate: manifest.sample_rate,
            clips,
        })
    }

    /// A pack built in memory (synthetic clips for tests and tools).
    pub fn from_clips(
        name: impl Into<String>,
        sample_rate: u32,
        clips: BTreeMap<ClipId, Vec<i16>>,
    ) -> VoicePack {
        VoicePack {
            name: name.into(),
            sample_rate,
            clips,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn clip(&self, id: ClipId) -> Option<&[i16]> {
        self.clips.get(&id).map(Vec::as_slice)
    }

    pub fn has(&self, id: ClipId) -> bool {
        self.clips.contains_key(&id)
    }

    pub fn clips(&self) -> impl Iterator<Item = (ClipId, &[i16])> {
        self.clips.iter().map(|(id, s)| (*id, s.as_slice()))
    }

    /// The clips a call may need that this pack lacks.
    pub fn missing(&self, english: bool) -> Vec<ClipId> {
        ClipId::required(english)
            .into_iter()
            .filter(|id| !self.has(*id))
            .collect()
    }

    /// Fails with the list of missing clips, so a hall sees everything to record in one go.
    pub fn check_complete(&self, english: bool) -> Result<(), VoiceError> {
        let missing = self.missing(english);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(VoiceError::Incomplete(
                missing.iter().map(ToString::to_string).collect(),
            ))
        }
    }
}

fn read_clip(path: &Path, rate: u32) -> Result<Vec<i16>, VoiceError> {
    let shown = path.display().to_string();
    let clip_err = |message: String| VoiceError::Clip {
        path: shown.clone(),
        message,
    };
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => VoiceError::Io {
            path: shown.clone(),
            source,
        },
        other => clip_err(format!("is not a WAV file we can read ({other})")),
    })?;
    let spec = reader.spec();
    if spec.channels != 1 {
        return Err(clip_err(format!(
            "has {} channels; clips are mono (e.g. `sox in.wav -c 1 out.wav`)",
            spec.channels
        )));
    }
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(clip_err(format!(
            "is {}-bit {:?}; clips are 16-bit PCM (e.g. `sox in.wav -b 16 -e signed-integer out.wav`)",
            spec.bits_per_sample, spec.sample_format
        )));
    }
    if spec.sample_rate != rate {
        return Err(VoiceError::RateMismatch {
            path: shown,
            expected: rate,
            found: spec.sample_rate,
        });
    }
    let samples = reader
        .into_samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| clip_err(format!("is damaged ({e})")))?;
    if samples.is_empty() {
        return Err(clip_err("is empty".into()));
    }
    if samples.len() as u64 > u64::from(rate) * u64::from(MAX_CLIP_SECONDS) {
        return Err(clip_err(format!(
            "lasts {:.1} s; a clip is at most {MAX_CLIP_SECONDS} s",
            samples.len() as f64 / f64::from(rate)
        )));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::wav::write_wav;

    fn tone(n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| ((i as f64 * 0.2).sin() * 8000.0) as i16)
            .collect()
    }

    fn write_pack(dir: &Path, rate: u32, ids: &[ClipId]) {
        let mut manifest = format!("name = \"test\"\nsample_rate = {rate}\n[clips]\n");
        for id in ids {
            let file = format!("{id}.wav");
            let mut f = std::fs::File::create(dir.join(&file)).unwrap();
            write_wav(&mut f, rate, &tone(rate as usize / 10)).unwrap();
            manifest.push_str(&format!("{id} = \"{file}\"\n"));
        }
        std::fs::write(dir.join(MANIFEST), manifest).unwrap();
    }

    #[test]
    fn a_complete_pack_loads() {
        let dir = tempfile::tempdir().unwrap();
        write_pack(dir.path(), 16_000, &ClipId::required(true));
        let pack = VoicePack::load(dir.path()).unwrap();
        assert_eq!(pack.name(), "test");
        assert_eq!(pack.sample_rate(), 16_000);
        assert!(pack.missing(true).is_empty());
        pack.check_complete(true).unwrap();
        assert_eq!(
            pack.clip(ClipId::ZhDigit(7)).unwrap(),
            tone(1600).as_slice()
        );
    }

    #[test]
    fn a_mandarin_only_pack_says_what_is_missing_for_english() {
        let dir = tempfile::tempdir().unwrap();
        write_pack(dir.path(), 22_050, &ClipId::required(false));
        let pack = VoicePack::load(dir.path()).unwrap();
        pack.check_complete(false).unwrap();
        let err = pack.check_complete(true).unwrap_err().to_string();
        assert!(err.contains("lacks 33 clip(s)"), "{err}");
        assert!(err.contains("en_go_to_counter"), "{err}");
    }

    #[test]
    fn wrong_clips_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        write_pack(dir.path(), 22_050, &[ClipId::Chime, ClipId::ZhPlease]);
        // A clip recorded at another rate.
        let mut f = std::fs::File::create(dir.path().join("zh_please.wav")).unwrap();
        write_wav(&mut f, 44_100, &tone(4410)).unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("zh_please.wav is at 44100 Hz but the pack is at 22050 Hz"),
            "{err}"
        );

        // A stereo clip.
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 22_050,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.path().join("zh_please.wav"), spec).unwrap();
        for s in tone(200) {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("zh_please.wav has 2 channels"), "{err}");

        // Not a WAV at all.
        std::fs::write(dir.path().join("zh_please.wav"), b"ID3 an mp3").unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a WAV file"), "{err}");

        // A missing file, a misspelt clip name, a missing manifest.
        std::fs::remove_file(dir.path().join("zh_please.wav")).unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("zh_please.wav"), "{err}");
        std::fs::write(
            dir.path().join(MANIFEST),
            "sample_rate = 22050\n[clips]\nzh_windw = \"chime.wav\"\n",
        )
        .unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown clip name \"zh_windw\""), "{err}");
        let err = VoicePack::load(&dir.path().join("nowhere"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("manifest.toml"), "{err}");
    }

    #[test]
    fn over_long_and_empty_clips_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_pack(dir.path(), 8_000, &[ClipId::Chime]);
        let mut f = std::fs::File::create(dir.path().join("chime.wav")).unwrap();
        write_wav(&mut f, 8_000, &tone(8_000 * 11)).unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("at most 10 s"), "{err}");
        let mut f = std::fs::File::create(dir.path().join("chime.wav")).unwrap();
        write_wav(&mut f, 8_000, &[]).unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
    }
}
