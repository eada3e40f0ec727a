// RTP statistics of one call, summarised for the browser tests (and for
// anyone curious, from the console: `await signalrtcApp.inboundStats(id)`).

export interface InboundStats {
  video: { framesDecoded: number; frameWidth: number; frameHeight: number; bytesReceived: number } | null;
  audio: { packetsReceived: number; bytesReceived: number; totalSamplesReceived: number; audioLevel: number } | null;
}

export interface OutboundStats {
  video: { framesEncoded: number; bytesSent: number } | null;
  audio: { packetsSent: number; bytesSent: number } | null;
}

type Stat = Record<string, unknown>;

function num(stat: Stat, key: string): number {
  const value = stat[key];
  return typeof value === 'number' ? value : 0;
}

/** The entries of one type and kind; with several (renegotiation), the busiest first. */
async function rtpEntries(pc: RTCPeerConnection | null, type: string): Promise<Map<string, Stat>> {
  const byKind = new Map<string, Stat>();
  if (!pc) return byKind;
  let report: RTCStatsReport;
  try {
    report = await pc.getStats();
  } catch {
    return byKind; // a closed connection may refuse
  }
  const bytesKey = type === 'inbound-rtp' ? 'bytesReceived' : 'bytesSent';
  report.forEach((stat: Stat) => {
    if (stat.type !== type) return;
    const kind = typeof stat.kind === 'string' ? stat.kind : stat.mediaType;
    if (typeof kind !== 'string') return;
    const best = byKind.get(kind);
    if (!best || num(stat, bytesKey) > num(best, bytesKey)) byKind.set(kind, stat);
  });
  return byKind;
}

export async function inboundStats(pc: RTCPeerConnection | null): Promise<InboundStats> {
  const entries = await rtpEntries(pc, 'inbound-rtp');
  const video = entries.get('video');
  const audio = entries.get('audio');
  return {
    video: video
      ? {
          framesDecoded: num(video, 'framesDecoded'),
          frameWidth: num(video, 'frameWidth'),
          frameHeight: num(video, 'frameHeight'),
          bytesReceived: num(video, 'bytesReceived'),
        }
      : null,
    audio: audio
      ? {
          packetsReceived: num(audio, 'packetsReceived'),
          bytesReceived: num(audio, 'bytesReceived'),
          totalSamplesReceived: num(audio, 'totalSamplesReceived'),
          audioLevel: num(audio, 'audioLevel'),
        }
      : null,
  };
}

export async function outboundStats(pc: RTCPeerConnection | null): Promise<OutboundStats> {
  const entries = await rtpEntries(pc, 'outbound-rtp');
  const video = entries.get('video');
  const audio = entries.get('audio');
  return {
    video: video ? { framesEncoded: num(video, 'framesEncoded'), bytesSent: num(video, 'bytesSent') } : null,
    audio: audio ? { packetsSent: num(audio, 'packetsSent'), bytesSent: num(audio, 'bytesSent') } : null,
  };
}
