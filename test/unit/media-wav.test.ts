/**
 * WAV files: header building, parsing (PCM16, PCM8, u-law, A-law, extensible), and the incremental writer.
 *
 * Covers: the canonical PCM header byte by byte, a G.711 header identical to what SoX writes, reading
 * SoX-made fixtures in each encoding (a 1 kHz tone: length, level, frequency), stereo averaged to mono,
 * odd-sized chunks skipped with their pad byte, a data size of 0 (writer killed before its first update)
 * or larger than the file, every malformed or unsupported file rejected with WavFormatError; the writer's
 * round trip, header sizes after close, header updated after each flush while still open, the time-based
 * flush, close idempotent and later writes ignored, an open in a missing directory rejected, writes accepted
 * before the file is open, close(length) cutting buffered audio and audio already on disk, and a writer
 * process killed with SIGKILL leaving a playable file that misses at most the buffer being filled (WAV_FLUSH_MS).
 * Does not cover: the recorder that drives the writer, resampling, files over 4 GB.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PCM_HEADER_LENGTH, WAV_EARLY_FLUSH_MS, WAV_EARLY_MS, WAV_FLUSH_MS, WavFormatError, WavWriter, buildWavHeader, parseWav, parseWavHeader, readWavFile } from '../../src/media/wav.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/audio/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vmpilot-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Zero crossings per second / 2: the frequency of a clean tone. */
function frequency(samples: Int16Array, rate = 8000): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return (crossings / 2) * (rate / samples.length);
}
const peak = (samples: Int16Array): number => samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function ramp(n: number, start = 0): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => ((start + i) * 37) % 65536 - 32768);
}

describe('buildWavHeader', () => {
  it('writes the canonical 44-byte PCM header', () => {
    const h = buildWavHeader({ encoding: 'pcm16', dataBytes: 16000 });
    expect(h.length).toBe(PCM_HEADER_LENGTH);
    expect(h.toString('hex')).toBe(
      '52494646' + 'a43e0000' + '57415645' + // RIFF, 36 + 16000, WAVE
        '666d7420' + '10000000' + '0100' + '0100' + '401f0000' + '803e0000' + '0200' + '1000' + // fmt: PCM mono 8000 Hz 16000 B/s
        '64617461' + '803e0000', // data 16000
    );
  });

  it('writes a G.711 header identical to the one SoX writes (fmt 18 bytes + fact chunk)', () => {
    const sox = readFileSync(fixture('tone-1k-ulaw.wav'));
    const ours = buildWavHeader({ encoding: 'ulaw', dataBytes: 2000 });
    expect(ours.length).toBe(58);
    expect(ours.equals(sox.subarray(0, 58))).toBe(true);
    const alaw = buildWavHeader({ encoding: 'alaw', dataBytes: 2000 });
    expect(alaw.equals(readFileSync(fixture('tone-1k-alaw.wav')).subarray(0, 58))).toBe(true);
  });
});

describe('parseWav', () => {
  for (const [name, encoding] of [['tone-1k-pcm16.wav', 'pcm16'], ['tone-1k-ulaw.wav', 'ulaw'], ['tone-1k-alaw.wav', 'alaw']] as const) {
    it(`reads a SoX ${encoding} file: 0.25 s of 1 kHz at half scale`, async () => {
      const audio = await readWavFile(fixture(name));
      expect(audio).toMatchObject({ encoding, sampleRate: 8000, channels: 1 });
      expect(audio.samples.length).toBe(2000);
      expect(frequency(audio.samples)).toBeCloseTo(1000, -1);
      expect(Math.abs(peak(audio.samples) - 16384)).toBeLessThan(600);
    });
  }

  it('averages a stereo file to mono', () => {
    const audio = parseWav(readFileSync(fixture('tone-stereo-pcm16.wav')));
    expect(audio.channels).toBe(2);
    expect(audio.samples.length).toBe(800);
    const raw = readFileSync(fixture('tone-stereo-pcm16.wav'));
    const info = parseWavHeader(raw);
    const left = raw.readInt16LE(info.dataOffset + 40);
    const right = raw.readInt16LE(info.dataOffset + 42);
    expect(audio.samples[10]).toBe(Math.round((left + right) / 2));
  });

  it('decodes 8-bit PCM as unsigned', () => {
    const file = Buffer.concat([buildWavHeader({ encoding: 'pcm8', dataBytes: 3 }), Buffer.from([0x80, 0xff, 0x00]), Buffer.alloc(1)]);
    expect([...parseWav(file).samples]).toEqual([0, 127 << 8, -32768]);
  });

  it('skips other chunks, including an odd-sized one and its pad byte', () => {
    const header = buildWavHeader({ encoding: 'pcm16', dataBytes: 4 });
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    const file = Buffer.concat([header.subarray(0, 36), list, header.subarray(36), Buffer.from([1, 0, 2, 0])]);
    expect([...parseWav(file).samples]).toEqual([1, 2]);
  });

  it('reads the whole file when the data size is 0 (a writer killed before its first update)', () => {
    const file = Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: 0 }), Buffer.from([1, 0, 2, 0, 3, 0])]);
    expect([...parseWav(file).samples]).toEqual([1, 2, 3]);
  });

  it('reads what is there when the data size is larger than the file (a truncated copy)', () => {
    const file = Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: 1000 }), Buffer.from([1, 0, 2, 0, 3])]);
    expect([...parseWav(file).samples]).toEqual([1, 2]);
  });

  describe('rejects with WavFormatError', () => {
    const pcm = buildWavHeader({ encoding: 'pcm16', dataBytes: 2 });
    const cases: Array<[string, Buffer, RegExp]> = [
      ['a file that is not RIFF/WAVE', Buffer.from('ID3\x04 not a wav at all'), /not a RIFF/],
      ['an empty file', Buffer.alloc(0), /not a RIFF/],
      ['a file without fmt', Buffer.concat([pcm.subarray(0, 12), pcm.subarray(36), Buffer.alloc(2)]), /data chunk before fmt/],
      ['a truncated fmt chunk', pcm.subarray(0, 30), /truncated fmt/],
      ['a file without data', pcm.subarray(0, 36), /no data chunk/],
      ['24-bit PCM (WAVE_FORMAT_EXTENSIBLE from SoX)', readFileSync(fixture('tone-1k-pcm24.wav')), /format 1 with 24 bits/],
    ];
    for (const [name, file, message] of cases) {
      it(name, () => {
        expect(() => parseWav(file)).toThrow(WavFormatError);
        expect(() => parseWav(file)).toThrow(message);
      });
    }
  });
});

describe('WavWriter', () => {
  it('writes what it was given, in 20 ms frames, to a file any player reads', async () => {
    const path = join(dir, 'roundtrip.wav');
    const writer = await WavWriter.open(path);
    const all = ramp(8000 * 2.5);
    const frame = new Int16Array(160);
    for (let at = 0; at < all.length; at += 160) {
      frame.set(all.subarray(at, at + 160));
      writer.write(frame); // the caller reuses its frame at once
    }
    await writer.close();
    const bytes = await readFile(path);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8); // RIFF size
    expect(bytes.readUInt32LE(40)).toBe(all.length * 2); // data size
    const audio = parseWav(bytes);
    expect(audio).toMatchObject({ encoding: 'pcm16', sampleRate: 8000, channels: 1 });
    expect(Buffer.from(audio.samples.buffer).equals(Buffer.from(all.buffer))).toBe(true);
  });

  it('updates the header sizes after each flush, while the file is still open', async () => {
    const path = join(dir, 'open.wav');
    const writer = await WavWriter.open(path);
    writer.write(ramp(9600)); // 1.2 s: one second is written by itself
    writer.write(ramp(100));
    await writer.flush();
    expect(parseWav(await readFile(path)).samples.length).toBe(9700);
    expect(writer.samplesOnDisk).toBe(9700);
    writer.write(ramp(500)); // buffered, not yet on disk: the header still says 9700
    const bytes = await readFile(path);
    expect(bytes.readUInt32LE(40)).toBe(9700 * 2);
    await writer.close();
    expect(parseWav(await readFile(path)).samples.length).toBe(10_200);
  });

  it('flushes when the interval has passed even if less than flushMs of audio is buffered: WAV_EARLY_FLUSH_MS in the first WAV_EARLY_MS, WAV_FLUSH_MS after', async () => {
    let now = 0;
    const writer = await WavWriter.open(join(dir, 'slow.wav'), { now: () => now });
    writer.write(ramp(800));
    now = WAV_EARLY_FLUSH_MS - 1;
    writer.write(ramp(160));
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.samplesOnDisk).toBe(0);
    now = WAV_EARLY_FLUSH_MS;
    writer.write(ramp(160));
    await writer.flush();
    expect(writer.samplesOnDisk).toBe(1120);
    // Past the first WAV_EARLY_MS of audio: the longer interval.
    writer.write(ramp((WAV_EARLY_MS * 8) - 1120));
    await writer.flush();
    const early = writer.samplesOnDisk;
    const at = now;
    writer.write(ramp(160));
    now = at + WAV_FLUSH_MS - 1;
    writer.write(ramp(160));
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.samplesOnDisk).toBe(early);
    now = at + WAV_FLUSH_MS;
    writer.write(ramp(160));
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.samplesOnDisk).toBe(early + 480);
    await writer.close();
  });

  it('accepts audio before its file is open, and keeps it', async () => {
    const path = join(dir, 'early.wav');
    const writer = new WavWriter(path);
    writer.write(ramp(300));
    await writer.close();
    expect(parseWav(await readFile(path)).samples).toEqual(ramp(300));
  });

  it('close(length) MUST end the file at length: buffered audio past it dropped, written audio past it cut off', async () => {
    const buffered = join(dir, 'cut-buffered.wav');
    const a = await WavWriter.open(buffered);
    a.write(ramp(1000));
    await a.close(600);
    expect(a.samplesWritten).toBe(600);
    expect(parseWav(await readFile(buffered)).samples).toEqual(ramp(600));

    const written = join(dir, 'cut-written.wav');
    const b = await WavWriter.open(written);
    b.write(ramp(12_000));
    await b.flush();
    expect(b.samplesOnDisk).toBe(12_000);
    b.write(ramp(100, 12_000));
    await b.close(5000);
    const bytes = await readFile(written);
    expect(bytes.length).toBe(PCM_HEADER_LENGTH + 10_000);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    expect(bytes.readUInt32LE(40)).toBe(10_000);
    expect(parseWav(bytes).samples).toEqual(ramp(5000));
  });

  it('closes once however often close() is called, and ignores writes after it', async () => {
    const path = join(dir, 'closed.wav');
    const writer = await WavWriter.open(path);
    writer.write(ramp(160));
    const first = writer.close();
    expect(writer.close()).toBe(first);
    await first;
    writer.write(ramp(160));
    await writer.close();
    expect(statSync(path).size).toBe(PCM_HEADER_LENGTH + 320);
  });

  it('rejects open() in a directory that does not exist', async () => {
    await expect(WavWriter.open(join(dir, 'missing', 'x.wav'))).rejects.toThrow(/ENOENT/);
  });

  it('leaves a playable file missing at most the buffer being filled when its process is killed', async () => {
    const path = join(dir, 'killed.wav');
    const module = fileURLToPath(new URL('../../src/media/wav.ts', import.meta.url));
    // The child records 3.5 s, waits until it is on disk, buffers less than one flush more, says READY and hangs.
    const script = `
      import { WavWriter } from ${JSON.stringify(module)};
      const ramp = (n, s) => Int16Array.from({ length: n }, (_, i) => ((s + i) * 37) % 65536 - 32768);
      const w = await WavWriter.open(${JSON.stringify(path)}, { now: () => 0 });
      for (let at = 0; at < 28000; at += 160) w.write(ramp(160, at));
      await w.flush();
      for (let at = 28000; at < 29600; at += 160) w.write(ramp(160, at));
      process.stdout.write('READY\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('READY') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const audio = parseWav(await readFile(path));
    expect(29600 - audio.samples.length).toBeLessThanOrEqual(WAV_FLUSH_MS * 8);
    expect(audio.samples.length).toBe(28000);
    expect(Buffer.from(audio.samples.buffer).equals(Buffer.from(ramp(28000).buffer))).toBe(true);
  });
});
