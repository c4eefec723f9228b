/**
 * Per-packet cost of the pure media building blocks, in packets (20 ms, 160 samples) per second on one
 * core: RTP header parse, G.711 decode and encode (64K table vs segment method), the receive buffer, and
 * in-band DTMF detection on speech, on a key, and on silence. 500 calls need 25,000 packets/s each way.
 *
 * Run: npx tsx bench/media.bench.ts        (prints figures; never part of the test run)
 */
import { readFileSync } from 'node:fs';
import { DtmfToneDetector } from '../src/media/dtmf/goertzel.js';
import {
  LINEAR_TO_ULAW, ULAW_TO_LINEAR, decodeG711, decodeTable, encodeG711, encodeTable, linearToUlaw,
} from '../src/media/g711.js';
import { ReceiveBuffer } from '../src/media/receive-buffer.js';
import { RtpPacketView, allocRtpPacket, parseRtp, writeRtpHeader } from '../src/media/rtp-packet.js';

const FRAME = 160;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

/** Runs `body` (which processes `perCall` packets) for about SECONDS and returns packets per second. */
function measure(name: string, perCall: number, body: () => void): void {
  for (let i = 0; i < 2000; i++) body(); // warm-up for the JIT
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 1000; i++) body();
    calls += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = (calls * perCall) / (Number(elapsed) / 1e9);
  const calls500 = (500 * 50) / perSecond;
  process.stdout.write(
    `${name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} packets/s` +
      `   (500 calls: ${(calls500 * 100).toFixed(2)}% of a core)\n`,
  );
}

// Speech from the test fixture, as 20 ms frames.
const speechBytes = readFileSync(new URL('../test/fixtures/audio/speech-8k-ulaw.raw', import.meta.url));
const speech = new Int16Array(speechBytes.length);
decodeG711(decodeTable('PCMU'), speechBytes, 0, speechBytes.length, speech, 0);
const frames = Math.floor(speech.length / FRAME);

// A DTMF key (5: 770 + 1336 Hz at -7/-5 dBm0) and silence.
const key = new Int16Array(FRAME * 50);
for (let i = 0; i < key.length; i++) {
  const v = 7600 * Math.sin((2 * Math.PI * 770 * i) / 8000) + 9600 * Math.sin((2 * Math.PI * 1336 * i) / 8000);
  key[i] = ULAW_TO_LINEAR[LINEAR_TO_ULAW[Math.round(v) & 0xffff]!]!;
}
const silent = new Int16Array(FRAME * 50);

const packet = allocRtpPacket();
writeRtpHeader(packet, 0, false, 1234, 567_890, 0x1234abcd);
packet.set(speechBytes.subarray(0, FRAME), 12);
const view = new RtpPacketView();
const pcm = new Int16Array(FRAME);
const ulawOut = new Uint8Array(FRAME);
const ulaw = decodeTable('PCMU');
const toUlaw = encodeTable('PCMU');
let sink = 0;

process.stdout.write(`node ${process.version}, ${SECONDS} s per figure\n`);

measure('RTP parse (12-byte header, 160-byte payload)', 1, () => {
  if (parseRtp(packet, view)) sink += view.payloadLength;
});

measure('u-law decode, 160 bytes (256-entry table)', 1, () => {
  decodeG711(ulaw, packet, 12, FRAME, pcm, 0);
});

let frameAt = 0;
measure('u-law encode, 160 samples (64K table)', 1, () => {
  encodeG711(toUlaw, speech, frameAt, FRAME, ulawOut, 0);
  frameAt = frameAt + FRAME >= speech.length - FRAME ? 0 : frameAt + FRAME;
});

measure('u-law encode, 160 samples (segment method)', 1, () => {
  for (let i = 0; i < FRAME; i++) ulawOut[i] = linearToUlaw(speech[frameAt + i]!);
  frameAt = frameAt + FRAME >= speech.length - FRAME ? 0 : frameAt + FRAME;
});

const rb = new ReceiveBuffer((s, n) => (sink += n > 0 ? s[0]! : 0));
let seq = 0;
let ts = 0;
measure('receive buffer push (in order, parse + decode)', 1, () => {
  writeRtpHeader(packet, 0, false, seq, ts, 0x1234abcd);
  seq = (seq + 1) & 0xffff;
  ts = (ts + FRAME) >>> 0;
  parseRtp(packet, view);
  rb.push(view, packet);
});

const detectors = [new DtmfToneDetector(() => sink++), new DtmfToneDetector(() => sink++), new DtmfToneDetector(() => sink++)];
let speechFrame = 0;
measure('Goertzel DTMF detect, 20 ms of speech', 1, () => {
  detectors[0]!.process(speech, speechFrame * FRAME, FRAME);
  speechFrame = speechFrame + 1 >= frames ? 0 : speechFrame + 1;
});

let keyFrame = 0;
measure('Goertzel DTMF detect, 20 ms of a key', 1, () => {
  detectors[1]!.process(key, keyFrame * FRAME, FRAME);
  keyFrame = keyFrame + 1 >= 50 ? 0 : keyFrame + 1;
});

measure('Goertzel DTMF detect, 20 ms of silence', 1, () => {
  detectors[2]!.process(silent, 0, FRAME);
});

if (sink === 42) process.stdout.write('\n'); // keep `sink` alive
