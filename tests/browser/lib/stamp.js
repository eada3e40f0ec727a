// Stamped video, to tell a good frame of a recording from a broken one.
//
// stampedMedia (run in the page, before the app: openApp's `init`) makes
// getUserMedia return a 640x480 canvas stream at 30 frames/s, and a tone.
// Every frame is a grid of 16x16 blocks, black or white, 40 to a row, 30
// rows: row r carries 40 bits, most significant first: the frame number
// (24 bits), r (8 bits) and a CRC-8 (polynomial 0x07) of those 32 bits.
// The blocks sit on the codec's 16x16 macroblock grid, so lossy coding
// keeps them; a frame decoded from a broken reference (a packet lost and
// not repaired) shows wrong blocks somewhere, and some row fails its CRC
// or names another frame.
//
// checkStamps (node) decodes a recording to the end and reads every frame
// back.

import { spawn } from 'node:child_process';

export const STAMP = { width: 640, height: 480, block: 16, fps: 30 };

export function stampedMedia () {
  const W = 640;
  const H = 480;
  const B = 16;
  const crc8 = (value) => {
    let crc = 0;
    for (let i = 3; i >= 0; i--) {
      crc ^= (value >>> (8 * i)) & 0xff;
      for (let b = 0; b < 8; b++) crc = (crc & 0x80) ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  };
  const open = () => {
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    let frame = 0;
    const draw = () => {
      for (let r = 0; r < H / B; r++) {
        const value = (((frame & 0xffffff) << 8) | r) >>> 0;
        const crc = crc8(value);
        for (let i = 0; i < W / B; i++) {
          const one = i < 32 ? (value >>> (31 - i)) & 1 : (crc >>> (39 - i)) & 1;
          ctx.fillStyle = one ? '#ffffff' : '#000000';
          ctx.fillRect(i * B, r * B, B, B);
        }
      }
      frame++;
    };
    draw();
    setInterval(draw, 1000 / 30);
    const stream = canvas.captureStream(30);
    // Keep the resolution (the blocks) and give up frame rate instead.
    for (const track of stream.getVideoTracks()) track.contentHint = 'text';
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const out = audio.createMediaStreamDestination();
    tone.connect(out);
    tone.start();
    for (const track of out.stream.getAudioTracks()) stream.addTrack(track);
    return stream;
  };
  navigator.mediaDevices.getUserMedia = async () => open();
}

function crc8 (value) {
  let crc = 0;
  for (let i = 3; i >= 0; i--) {
    crc ^= (value >>> (8 * i)) & 0xff;
    for (let b = 0; b < 8; b++) crc = (crc & 0x80) ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

// The frame number an I420 `frame` (640x480) carries, or null when any row
// fails its CRC, its row number, or names another frame.
export function readStamp (frame) {
  const { width: W, height: H, block: B } = STAMP;
  let number = null;
  for (let r = 0; r < H / B; r++) {
    let value = 0;
    let crc = 0;
    for (let i = 0; i < W / B; i++) {
      let sum = 0;
      for (let y = r * B + B / 4; y < r * B + 3 * B / 4; y++) {
        for (let x = i * B + B / 4; x < i * B + 3 * B / 4; x++) sum += frame[y * W + x];
      }
      const one = sum / ((B / 2) * (B / 2)) > (16 + 235) / 2 ? 1 : 0;
      if (i < 32) value = ((value << 1) | one) >>> 0;
      else crc = (crc << 1) | one;
    }
    if (crc8(value) !== crc || (value & 0xff) !== r) return null;
    const n = value >>> 8;
    if (number === null) number = n;
    else if (n !== number) return null;
  }
  return number;
}

// Decodes `file` to the end (decodebin, scaled to 640x480 I420 in case the
// sender lowered its resolution) and reads every frame's stamp:
// { frames, good, bad, firstBad (its index), numbers (distinct good ones),
//   sequence (each frame's number in order, null for a bad one),
//   error (GStreamer's, or null) }.
export function checkStamps (file) {
  const { width: W, height: H } = STAMP;
  const size = W * H * 3 / 2;
  return new Promise((resolve) => {
    const proc = spawn('gst-launch-1.0', ['-q', 'filesrc', `location=${file}`, '!', 'decodebin', '!',
      'videoconvert', '!', 'videoscale', '!', `video/x-raw,format=I420,width=${W},height=${H}`, '!',
      'fdsink', 'fd=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result = { frames: 0, good: 0, bad: 0, firstBad: null, numbers: 0, sequence: [], error: null };
    const seen = new Set();
    let pending = Buffer.alloc(0);
    let stderr = '';
    proc.stdout.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= size) {
        const n = readStamp(pending.subarray(0, W * H));
        result.sequence.push(n);
        if (n === null) {
          if (result.firstBad === null) result.firstBad = result.frames;
          result.bad++;
        } else {
          result.good++;
          seen.add(n);
        }
        result.frames++;
        pending = pending.subarray(size);
      }
    });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('close', (code) => {
      result.numbers = seen.size;
      if (code !== 0 || /ERROR/.test(stderr)) result.error = stderr.trim() || `exit ${code}`;
      resolve(result);
    });
  });
}

// Freeze time of a sequence of stamp numbers (frames drawn at STAMP.fps),
// in seconds, as WebRTC's getStats counts it: a gap between two whole
// frames longer than three times the median gap, or than the median plus
// 150 ms, counts whole.
export function freezeSeconds (sequence) {
  const numbers = sequence.filter((n) => n !== null);
  const gaps = [];
  for (let i = 1; i < numbers.length; i++) {
    if (numbers[i] > numbers[i - 1]) gaps.push((numbers[i] - numbers[i - 1]) / STAMP.fps);
  }
  if (!gaps.length) return 0;
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const bound = Math.max(3 * median, median + 0.15);
  return gaps.filter((g) => g > bound).reduce((a, b) => a + b, 0);
}
