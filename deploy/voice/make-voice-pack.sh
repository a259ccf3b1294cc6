#!/usr/bin/env bash
# Makes hallq's default voice pack: every clip the board's voice calling can ask for, spoken by
# espeak-ng (Mandarin from tone-marked pinyin, English for the optional English call) and a chime made by
# sox, each trimmed, normalised and stored as mono 16-bit PCM WAV, plus manifest.toml.
# The output depends only on the espeak-ng and sox versions, so the pack is made at install or build time
# instead of being kept in the repository.
#
# Usage: deploy/voice/make-voice-pack.sh OUT_DIR
# Needs the Debian packages espeak-ng and sox.
set -euo pipefail

out=${1:?usage: make-voice-pack.sh OUT_DIR}
rate=${RATE:-22050}
# Slower than espeak-ng's default: a hall is noisy and people listen for one number.
zh_speed=${ZH_SPEED:-150}
en_speed=${EN_SPEED:-145}

for tool in espeak-ng sox; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "make-voice-pack: $tool is missing (apt-get install espeak-ng sox)" >&2
        exit 1
    fi
done
# Debian's espeak-ng reads Chinese characters poorly but tone-marked pinyin well.
if ! espeak-ng --voices=cmn | grep -q 'cmn-latn-pinyin'; then
    echo "make-voice-pack: espeak-ng has no cmn-latn-pinyin voice" >&2
    exit 1
fi

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest="$work/manifest.toml"
{
    echo "# Made by deploy/voice/make-voice-pack.sh with $(espeak-ng --version | head -n1 | cut -d' ' -f1-4) and sox."
    echo "name = \"hallq default (espeak-ng)\""
    echo "sample_rate = $rate"
    echo
    echo "[clips]"
} >"$manifest"

# Trim silence at both ends, level to -1 dBFS, soften the edges against clicks, store at the pack rate.
# -D (no dither) keeps the output the same on every run.
finish() {
    local in=$1 key=$2 level=${3:--1}
    sox -D "$in" "$work/trimmed.wav" silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
    # A second pass: the fade-out needs the trimmed length.
    sox -D "$work/trimmed.wav" -r "$rate" -c 1 -b 16 -e signed-integer "$out/$key.wav" \
        norm "$level" fade t 0.005 0 0.015
    echo "$key = \"$key.wav\"" >>"$manifest"
}

say() {
    local key=$1 voice=$2 speed=$3 text=$4
    espeak-ng -v "$voice" -s "$speed" -w "$work/raw.wav" "$text"
    finish "$work/raw.wav" "$key"
}

zh() { say "$1" cmn-latn-pinyin "$zh_speed" "$2"; }
en() { say "$1" en-us "$en_speed" "$2"; }

# The chime: a soft two-tone "ding-dong" (E5, C5), quieter than the voice.
sox -D -n -r "$rate" -c 1 -b 16 "$work/ding.wav" synth 0.45 sine 659.26 fade q 0.01 0.45 0.4
sox -D -n -r "$rate" -c 1 -b 16 "$work/dong.wav" synth 0.7 sine 523.25 fade q 0.01 0.7 0.65
sox -D "$work/ding.wav" "$work/dong.wav" "$work/chime_raw.wav"
sox -D "$work/chime_raw.wav" -r "$rate" -c 1 -b 16 -e signed-integer "$out/chime.wav" norm -6
echo 'chime = "chime.wav"' >>"$manifest"

digits=(ling2 yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3)
for d in "${!digits[@]}"; do
    zh "zh_$d" "${digits[$d]}"
done
zh zh_ten shi2
zh zh_hundred bai3

# Letters as Mandarin speakers say them on tickets (A = "ei", W = "da-bu-liu").
for letter in {A..Z}; do
    say "letter_${letter,,}" cmn "$zh_speed" "$letter"
done

zh zh_please qing3
zh zh_hao hao4
zh zh_to dao4
zh zh_window "chuang1 kou3"
zh zh_handle "ban4 li3"
zh zh_apology "rang4 nin2 jiu3 deng3 le5"
zh zh_recall "zai4 ci4 hu1 jiao4"

en_words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen)
for n in "${!en_words[@]}"; do
    en "en_$n" "${en_words[$n]}"
done
tens=([2]=twenty [3]=thirty [4]=forty [5]=fifty [6]=sixty [7]=seventy [8]=eighty [9]=ninety)
for t in "${!tens[@]}"; do
    en "en_${t}0" "${tens[$t]}"
done
en en_hundred hundred
en en_number "Number"
en en_go_to_counter "please go to counter"
en en_apology "Sorry to keep you waiting."
en en_recall "Calling again."

mv "$manifest" "$out/manifest.toml"
echo "make-voice-pack: $(grep -c '\.wav"' "$out/manifest.toml") clips in $out"
