#!/usr/bin/env bash
# Regenerates the audio fixtures that integration tests stream with SIPp and that
# test/helpers/audio-analysis.ts checks recordings against (test/fixtures/audio/README.md says what each is).
#
#   bash scripts/make-test-audio.sh [OUTDIR]      # default OUTDIR: test/fixtures/audio
#
# Needs sox, awk, and festival (text2wave, voice cmu_us_slt_arctic_hts) or espeak-ng for the speech file.
# Output is deterministic (sox -D: no dither) except speech-8s, which depends on the synthesizer's version.
#
# SIPp's rtp_stream action sends a file's bytes as they are, 160 per 20 ms packet, so the .ulaw files are
# headerless 8 kHz mono G.711 u-law. The .wav twins are 8 kHz mono 16-bit PCM of the same audio.
#
# Levels are in the repository's dBFS (src/media/energy.ts): RMS relative to a full-scale square wave, so
# a sine of peak P (fraction of full scale) is 20 log10(P) - 3.01 dBFS. sox's `gain` sets the peak.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/test/fixtures/audio}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

RAW=(-t raw -e signed -b 16 -r 8000 -c 1)   # the intermediate format: headerless PCM16, 8 kHz mono

# silence MS FILE: MS milliseconds of digital silence appended to FILE.
silence() { sox -D -r 8000 -n "${RAW[@]}" - trim 0 "$(($1 * 8))s" >>"$2"; }
# tone MS HZ PEAK_DB FILE: a sine of peak PEAK_DB dB below full scale, appended to FILE.
tone() { sox -D -r 8000 -n "${RAW[@]}" - synth "$(($1 * 8))s" sine "$2" gain "$3" >>"$4"; }
# pair MS LOW HIGH PEAK_DB FILE: two sines, each of peak PEAK_DB, summed without scaling (remix -m).
pair() { sox -D -r 8000 -c 2 -n "${RAW[@]}" - synth "$(($1 * 8))s" sine "$2" sine "$3" gain "$4" remix -m 1,2 >>"$5"; }
# finish NAME [wav]: encodes $tmp/NAME.pcm as NAME.ulaw (and NAME.wav).
finish() {
  sox -D "${RAW[@]}" "$tmp/$1.pcm" -t raw -e u-law -r 8000 -c 1 "$out/$1.ulaw"
  if [ "${2:-}" = wav ]; then sox -D "${RAW[@]}" "$tmp/$1.pcm" -e signed -b 16 "$out/$1.wav"; fi
}

# tones-3s: 200 ms silence, then 400/700/1000/1300/1600 Hz, 400 ms each, 200 ms apart, at -12 dBFS
# (peak -9 dB). 200 + 5 x 400 + 4 x 200 = 3000 ms: the last tone ends at exactly 3.000 s.
f=$tmp/tones-3s.pcm
silence 200 "$f"
first=1
for hz in 400 700 1000 1300 1600; do
  [ $first = 1 ] || silence 200 "$f"
  first=0
  tone 400 "$hz" -9 "$f"
done
finish tones-3s wav

# dtmf-inband: 300 ms silence, then keys 1234567890*# as 100 ms tone pairs with 100 ms gaps, each tone at
# -10 dBm0 (G.711: full-scale peak is +3.14 dBm0, so peak -13.14 dB). Ends after the last gap: 2.700 s.
f=$tmp/dtmf-inband.pcm
silence 300 "$f"
declare -A low=([1]=697 [2]=697 [3]=697 [4]=770 [5]=770 [6]=770 [7]=852 [8]=852 [9]=852 ['*']=941 [0]=941 ['#']=941)
declare -A high=([1]=1209 [2]=1336 [3]=1477 [4]=1209 [5]=1336 [6]=1477 [7]=1209 [8]=1336 [9]=1477 ['*']=1209 [0]=1336 ['#']=1477)
for key in 1 2 3 4 5 6 7 8 9 0 '*' '#'; do
  pair 100 "${low[$key]}" "${high[$key]}" -13.14 "$f"
  silence 100 "$f"
done
finish dtmf-inband wav

# long-25s: 440 Hz at -20 dBFS (peak -17 dB), 1 s on / 1 s off, starting on: on at 0-1 s, 2-3 s, ... 24-25 s.
f=$tmp/long-25s.pcm
for i in $(seq 0 24); do
  if [ $((i % 2)) = 0 ]; then tone 1000 440 -17 "$f"; else silence 1000 "$f"; fi
done
finish long-25s

# melody-4s: eight sung-like notes of 500 ms (G4 C5 E5 G5 F5 D5 B4 C5), each with 5.5 Hz vibrato of
# +-1.5 %, second and third harmonics at -8 and -14 dB, 30 ms attack and 60 ms release, about -23 dBFS.
# sox's synth fmod does not give a clean vibrato, so awk writes the samples as sox's text (.dat) format.
awk 'BEGIN {
  rate = 8000; n = split("392.00 523.25 659.26 783.99 698.46 587.33 493.88 523.25", notes, " ");
  printf "; Sample Rate %d\n; Channels 1\n", rate;
  pi = atan2(0, -1); per = rate / 2; t = 0;
  for (k = 1; k <= n; k++) {
    phase = 0;
    for (i = 0; i < per; i++) {
      hz = notes[k] * (1 + 0.015 * sin(2 * pi * 5.5 * i / rate));
      phase += 2 * pi * hz / rate;
      env = 1;
      if (i < 240) env = i / 240;
      if (i > per - 480) env = (per - i) / 480;
      v = env * 0.1 * (sin(phase) + 0.398 * sin(2 * phase) + 0.2 * sin(3 * phase));
      printf "%.8f %.8f\n", t / rate, v; t++;
    }
  }
}' >"$tmp/melody.dat"
sox -D "$tmp/melody.dat" "${RAW[@]}" "$tmp/melody-4s.pcm"
finish melody-4s

# speech-8s: a voicemail-like sentence (two names, a phone number, a time, a question), trimmed of silence,
# resampled to 8 kHz, peak -6 dB, placed after 300 ms of silence and padded with silence to 8.000 s.
text="Hi Daniel, it's Maria Lopez. Can you call me back on 555 0142 by four thirty?"
echo "$text" >"$tmp/speech.txt"
if text2wave -eval '(voice_cmu_us_slt_arctic_hts)' "$tmp/speech.txt" -o "$tmp/speech.wav" 2>/dev/null; then
  echo "make-test-audio: speech from festival (cmu_us_slt_arctic_hts)"
else
  espeak-ng -v en-us -w "$tmp/speech.wav" "$text"
  echo "make-test-audio: festival failed; speech from espeak-ng"
fi
sox -D "$tmp/speech.wav" "${RAW[@]}" "$tmp/speech-8s.pcm" \
  silence 1 0.02 1% reverse silence 1 0.02 1% reverse rate -v 8000 gain -n -6 pad 0.3 1 trim 0 64000s
finish speech-8s

ls -l "$out"/tones-3s.* "$out"/dtmf-inband.* "$out"/long-25s.ulaw "$out"/melody-4s.ulaw "$out"/speech-8s.ulaw
