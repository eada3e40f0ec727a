// One call: one simple-peer (one RTCPeerConnection) with one remote user.

import SimplePeer from 'simple-peer/simplepeer.min.js';
import { errorMessage, logError, logInfo } from './log';
import type { SignalData, UserInfo } from './protocol';
import type { Timers } from './timers';

/**
 * calling: our offer is out, the callee has not answered yet.
 * connecting: offer and answer exchanged, ICE and DTLS under way.
 * connected: simple-peer's 'connect' (the data channel is open).
 * ended: over; the object is not used again.
 */
export type CallState = 'calling' | 'connecting' | 'connected' | 'ended';

export type EndReason =
  | 'hangup' // we hung up
  | 'remote-hangup' // the peer connection was closed by the other side
  | 'no-answer' // our offer got no answer in time (the protocol has no "decline")
  | 'connect-timeout' // answered, but never connected
  | 'failed' // simple-peer reported an error
  | 'user-left' // the hub said UserDisconnect
  | 'superseded'; // dropped in favour of the other side's simultaneous call

export interface CallEvents {
  stateChanged(call: Call): void;
  /** A signal for the remote side: relay it with SendSignal. */
  signal(call: Call, signal: SignalData): void;
  remoteStream(call: Call, stream: MediaStream): void;
  message(call: Call, text: string): void;
  ended(call: Call, reason: EndReason, detail: string): void;
}

export interface CallOptions {
  remote: UserInfo;
  /** true for the caller, which makes the offer. */
  initiator: boolean;
  localStream: MediaStream | null;
  iceServers: RTCIceServer[];
  /** Only TURN relay candidates (iceTransportPolicy 'relay'). */
  relayOnly?: boolean;
  /** How long the call may take to reach 'connected'. */
  connectTimeoutMs: number;
  timers: Timers;
  events: CallEvents;
}

/** simple-peer keeps its RTCPeerConnection in an undocumented field. */
interface PeerInternals {
  _pc?: RTCPeerConnection | null;
}

const decoder = new TextDecoder();

/** simple-peer hands data-channel messages over as strings or Uint8Arrays (Buffers). */
function decodeMessage(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return decoder.decode(chunk);
  if (chunk instanceof ArrayBuffer) return decoder.decode(new Uint8Array(chunk));
  return String(chunk);
}

export class Call {
  readonly remote: UserInfo;
  readonly initiator: boolean;
  private currentState: CallState;
  private readonly peer: SimplePeer.Instance;
  private readonly events: CallEvents;
  private readonly timers: Timers;
  private timer: number | undefined;
  private lastError: Error | null = null;
  private orphanTracks: MediaStream | null = null;
  private ignoreCandidatesUntilAnswer = false;

  constructor(options: CallOptions) {
    this.remote = options.remote;
    this.initiator = options.initiator;
    this.events = options.events;
    this.timers = options.timers;
    this.currentState = options.initiator ? 'calling' : 'connecting';
    this.peer = new SimplePeer({
      initiator: options.initiator,
      trickle: true,
      stream: options.localStream ?? undefined,
      config: { iceServers: options.iceServers, iceTransportPolicy: options.relayOnly ? 'relay' : 'all' },
      // Ask for the callee's audio and video even when we send none (a
      // receive-only caller would otherwise offer a data channel only).
      offerOptions: { offerToReceiveAudio: true, offerToReceiveVideo: true },
    });
    this.listen();
    this.timer = this.timers.setTimeout(() => this.onTimeout(), options.connectTimeoutMs);
  }

  get state(): CallState {
    return this.currentState;
  }

  /** The simple-peer instance, for the test hook (e.g. to add a track). */
  get simplePeer(): SimplePeer.Instance {
    return this.peer;
  }

  get peerConnection(): RTCPeerConnection | null {
    return (this.peer as unknown as PeerInternals)._pc ?? null;
  }

  /** Feeds one signal from the remote side to simple-peer. */
  signal(data: SignalData): void {
    if (this.currentState === 'ended') return;
    if (this.ignoreCandidatesUntilAnswer) {
      if (data.type === 'candidate') return;
      if (data.type === 'answer') this.ignoreCandidatesUntilAnswer = false;
    }
    // The first thing a callee sends back is its answer.
    if (this.currentState === 'calling') this.setState('connecting');
    try {
      this.peer.signal(data);
    } catch (err) {
      // simple-peer throws only when signalled after destroy(); log and go on.
      logError('signal', this.describe(), err);
    }
  }

  /**
   * Both sides called each other at once and we keep our own offer: the
   * other side drops its call and answers ours. The candidates it had
   * already trickled for its abandoned offer come before its answer and
   * belong to nothing here, so they are skipped.
   */
  ignoreCrossedOffer(): void {
    this.ignoreCandidatesUntilAnswer = true;
  }

  /** Sends a chat message over the data channel; false if it is not open. */
  send(text: string): boolean {
    if (this.currentState !== 'connected') return false;
    try {
      this.peer.send(text);
      return true;
    } catch (err) {
      logError('chat-send', this.describe(), err);
      return false;
    }
  }

  /**
   * Ends the call. Destroying the peer closes the data channel, which the
   * other side sees and takes as a hang-up: the protocol has no message for it.
   */
  end(reason: EndReason, detail = ''): void {
    if (this.currentState === 'ended') return;
    this.finish(reason, detail);
    this.peer.destroy();
  }

  describe(): string {
    return `${this.remote.userName} (${this.remote.connectionId})`;
  }

  private listen(): void {
    const peer = this.peer;
    peer.on('signal', (data: SignalData) => {
      if (this.currentState !== 'ended') this.events.signal(this, data);
    });
    peer.on('connect', () => {
      this.timers.clearTimeout(this.timer);
      this.setState('connected');
    });
    peer.on('stream', (stream: MediaStream) => this.events.remoteStream(this, stream));
    peer.on('data', (chunk: unknown) => this.events.message(this, decodeMessage(chunk)));
    // An 'error' is always followed by 'close'. Without a listener the
    // emitter would throw, so one must be there from the start.
    peer.on('error', (err: Error) => {
      this.lastError = err;
      logError('peer', this.describe(), err);
    });
    peer.on('close', () => this.onClose());
    this.listenForOrphanTracks();
  }

  /**
   * simple-peer only reports tracks that belong to a MediaStream (an `msid`
   * in the SDP). A sender that announces none (some non-browser peers) would
   * go unseen, so such tracks are gathered into a stream of our own.
   */
  private listenForOrphanTracks(): void {
    this.peerConnection?.addEventListener('track', (event: RTCTrackEvent) => {
      if (event.streams.length > 0) return; // simple-peer emits 'stream' for it
      const isFirst = this.orphanTracks === null;
      this.orphanTracks ??= new MediaStream();
      this.orphanTracks.addTrack(event.track);
      if (isFirst) this.events.remoteStream(this, this.orphanTracks);
    });
  }

  private onClose(): void {
    if (this.currentState === 'ended') return; // we ended it ourselves
    if (this.lastError) this.finish('failed', errorMessage(this.lastError));
    else this.finish('remote-hangup', '');
  }

  private onTimeout(): void {
    if (this.currentState === 'connected' || this.currentState === 'ended') return;
    this.end(this.currentState === 'calling' ? 'no-answer' : 'connect-timeout');
  }

  private finish(reason: EndReason, detail: string): void {
    this.timers.clearTimeout(this.timer);
    this.setState('ended');
    logInfo('call-ended', `${this.describe()} ${reason}${detail ? `: ${detail}` : ''}`);
    this.events.ended(this, reason, detail);
  }

  private setState(state: CallState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    logInfo('call-state', `${this.describe()} ${state}`);
    this.events.stateChanged(this);
  }
}
