// The local camera and microphone.

import { logError, logInfo } from './log';

export interface LocalMedia {
  /** null when no device could be opened: the app then only receives. */
  stream: MediaStream | null;
  /** What we got, for a notice when it is less than camera + microphone. */
  description: 'camera and microphone' | 'camera only' | 'microphone only' | 'no camera or microphone';
}

const ATTEMPTS: Array<{ constraints: MediaStreamConstraints; description: LocalMedia['description'] }> = [
  { constraints: { video: true, audio: true }, description: 'camera and microphone' },
  { constraints: { video: true }, description: 'camera only' },
  { constraints: { audio: true }, description: 'microphone only' },
];

/** Camera and microphone, else camera alone, else microphone alone, else nothing. */
export async function openLocalMedia(): Promise<LocalMedia> {
  if (!navigator.mediaDevices?.getUserMedia) {
    logError('media', 'getUserMedia is not available (is the page served over http from a non-local host?)');
    return { stream: null, description: 'no camera or microphone' };
  }
  for (const { constraints, description } of ATTEMPTS) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      logInfo('media', description);
      return { stream, description };
    } catch (err) {
      logError('media', `getUserMedia(${JSON.stringify(constraints)})`, err);
    }
  }
  return { stream: null, description: 'no camera or microphone' };
}

function tracksOf(stream: MediaStream | null, kind: 'audio' | 'video'): MediaStreamTrack[] {
  if (!stream) return [];
  return kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
}

/**
 * Mutes or unmutes every track of one kind. A disabled track still flows
 * (black video, silence), so every call is affected at once and no
 * renegotiation is needed.
 */
export function setMuted(stream: MediaStream | null, kind: 'audio' | 'video', muted: boolean): void {
  for (const track of tracksOf(stream, kind)) track.enabled = !muted;
}

export function hasTrack(stream: MediaStream | null, kind: 'audio' | 'video'): boolean {
  return tracksOf(stream, kind).length > 0;
}
