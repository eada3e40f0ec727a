// The SignalRtc hub protocol, exactly as the original ASP.NET Core app and
// signalrtc-hub speak it. Everything that crosses the hub is a string:
//
//   client invokes                      hub sends                          to
//   NewUser(userName)                   NewUserArrived(userInfoJson)       everyone but the caller
//   HelloUser(userName, connectionId)   UserSaidHello(userInfoJson)        that connection
//   SendSignal(signal, connectionId)    SendSignal(fromConnectionId, signal)  that connection
//   (disconnects)                       UserDisconnect(connectionId)       everyone
//
// `userInfoJson` is a JSON text inside a JSON string argument:
// "{\"userName\":\"bob\",\"connectionId\":\"abc\"}". `signal` is the
// JSON.stringify of one simple-peer 'signal' event; the hub relays it as is.
// `UserDisconnect` carries the bare connection id, not JSON.

import type SimplePeer from 'simple-peer/simplepeer.min.js';

export type SignalData = SimplePeer.SignalData;

/** Hub methods the client invokes. */
export const Invoke = {
  newUser: 'NewUser',
  helloUser: 'HelloUser',
  sendSignal: 'SendSignal',
} as const;

/** Hub methods the server calls on the client. */
export const Receive = {
  newUserArrived: 'NewUserArrived',
  userSaidHello: 'UserSaidHello',
  sendSignal: 'SendSignal',
  userDisconnect: 'UserDisconnect',
} as const;

/** A user on the hub. Users are keyed by connectionId: names may repeat. */
export interface UserInfo {
  userName: string;
  connectionId: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A hub argument that must be a string holding a JSON object, or null. */
function parseJsonObject(arg: unknown): Record<string, unknown> | null {
  if (typeof arg !== 'string') return null;
  try {
    const value: unknown = JSON.parse(arg);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** Decodes the `userInfoJson` argument of NewUserArrived / UserSaidHello. */
export function parseUserInfo(arg: unknown): UserInfo | null {
  const value = parseJsonObject(arg);
  if (!value) return null;
  const { userName, connectionId } = value;
  if (typeof userName !== 'string' || typeof connectionId !== 'string' || connectionId === '') {
    return null;
  }
  return { userName, connectionId };
}

/** Encodes one simple-peer signal for SendSignal. */
export function encodeSignal(signal: SignalData): string {
  return JSON.stringify(signal);
}

/**
 * Decodes the `signal` argument of SendSignal. Returns null for anything that
 * is not a simple-peer signal object: simple-peer destroys the peer when
 * handed garbage, so nothing unchecked may reach `peer.signal()`.
 */
export function decodeSignal(arg: unknown): SignalData | null {
  const value = parseJsonObject(arg);
  if (!value) return null;
  const known =
    typeof value.sdp === 'string' ||
    isRecord(value.candidate) ||
    value.renegotiate === true ||
    isRecord(value.transceiverRequest);
  return known ? (value as SignalData) : null;
}

/** An offer starts a call: only an offer may ring the phone. */
export function isOffer(signal: SignalData): boolean {
  return signal.type === 'offer' && 'sdp' in signal && typeof signal.sdp === 'string';
}

export function isAnswer(signal: SignalData): boolean {
  return signal.type === 'answer';
}
