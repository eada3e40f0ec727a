// `window.signalrtcApp`: what the project's browser tests (and a curious
// developer at the console) can ask the running app. See README.md.
// `window.signalrtcTimers`, when a page has it before the app starts: the
// timers the app uses instead of the browser's (the unit tests' hand-moved
// clock).

import type SimplePeer from 'simple-peer/simplepeer.min.js';
import type { CallState } from './call';
import { eventLog } from './log';
import { inboundStats, outboundStats, type InboundStats, type OutboundStats } from './stats';
import type { Timers } from './timers';

/** Timing marks in performance.now() milliseconds, keyed by remote connection id. */
export interface Marks {
  /** We clicked a user to call them. */
  callClicked: Record<string, number>;
  /** We accepted their incoming call. */
  accepted: Record<string, number>;
  /** simple-peer said 'connect'. */
  connected: Record<string, number>;
  /** The first remote video frame was rendered. */
  firstFrame: Record<string, number>;
  /** The first offer of a call went to the hub. */
  offerSent: Record<string, number>;
}

export function emptyMarks(): Marks {
  return { callClicked: {}, accepted: {}, connected: {}, firstFrame: {}, offerSent: {} };
}

export interface CallSummary {
  userName: string;
  connectionId: string;
  state: CallState;
}

/** What the app must provide for the hook. */
export interface TestHookSource {
  calls(): CallSummary[];
  peerConnection(connectionId: string): RTCPeerConnection | null;
  /** The live call's simple-peer instance. */
  peer(connectionId: string): SimplePeer.Instance | null;
  /** Our own connection id on the hub, when the client library tells it. */
  myConnectionId(): string | null;
  marks: Marks;
}

export interface SignalrtcTestHook extends TestHookSource {
  inboundStats(connectionId: string): Promise<InboundStats>;
  outboundStats(connectionId: string): Promise<OutboundStats>;
  log: string[];
}

declare global {
  interface Window {
    signalrtcApp?: SignalrtcTestHook;
    signalrtcTimers?: Timers;
  }
}

export function installTestHook(source: TestHookSource): void {
  window.signalrtcApp = {
    calls: () => source.calls(),
    peerConnection: (id) => source.peerConnection(id),
    peer: (id) => source.peer(id),
    myConnectionId: () => source.myConnectionId(),
    inboundStats: (id) => inboundStats(source.peerConnection(id)),
    outboundStats: (id) => outboundStats(source.peerConnection(id)),
    marks: source.marks,
    log: eventLog,
  };
}
