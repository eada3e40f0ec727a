// Settings from the page URL and from localStorage.
//
//   ?name=alice          prefill the name field
//   &autojoin=1          join at once with that name
//   ?client=aspnet       use @aspnet/signalr 1.1.4 instead of @microsoft/signalr
//   ?hub=URL             the SignalR hub (default: `signalrtc` next to the page)
//   ?ice=JSON            RTCIceServer[] for this page load (URL-encoded JSON)
//   ?relay=1             relay only (iceTransportPolicy 'relay': every call
//                        goes through a TURN server of ?ice= or the settings)
//   ?answerTimeout=SECS  how long a call may take to connect (default 30)
//   ?autoaccept=1        answer every incoming call at once, with no prompt

export type ClientLibrary = 'microsoft' | 'aspnet';

export interface AppConfig {
  name: string;
  autojoin: boolean;
  client: ClientLibrary;
  hubUrl: string;
  /** ICE servers from ?ice=, which win over the saved setting; null if absent or invalid. */
  iceFromUrl: RTCIceServer[] | null;
  /** ?relay=1 or ?relay=0; null if absent (the saved setting decides). */
  relayFromUrl: boolean | null;
  answerTimeoutMs: number;
  /** Answer incoming calls at once instead of prompting (benchmarks, kiosks). */
  autoAccept: boolean;
}

const DEFAULT_ANSWER_TIMEOUT_S = 30;
const ICE_STORAGE_KEY = 'signalrtc.iceServers';

export function readConfig(location: Location = window.location): AppConfig {
  const params = new URLSearchParams(location.search);
  const ice = params.get('ice');
  return {
    name: params.get('name') ?? '',
    autojoin: isTrue(params.get('autojoin')),
    client: params.get('client') === 'aspnet' ? 'aspnet' : 'microsoft',
    // Resolved against the page, so the app works under any path prefix.
    hubUrl: new URL(params.get('hub') ?? 'signalrtc', location.href).href,
    iceFromUrl: ice === null ? null : parseIceServers(ice),
    relayFromUrl: params.get('relay') === null ? null : isTrue(params.get('relay')),
    answerTimeoutMs: seconds(params.get('answerTimeout'), DEFAULT_ANSWER_TIMEOUT_S) * 1000,
    autoAccept: isTrue(params.get('autoaccept')),
  };
}

function isTrue(value: string | null): boolean {
  return value === '1' || value === 'true' || value === 'yes';
}

function seconds(value: string | null, fallback: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Parses a JSON text of RTCIceServer[]; null unless every entry has `urls`. */
export function parseIceServers(text: string): RTCIceServer[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  return value.every(isIceServer) ? (value as RTCIceServer[]) : null;
}

function isIceServer(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const urls: unknown = (value as { urls?: unknown }).urls;
  if (typeof urls === 'string') return urls !== '';
  return Array.isArray(urls) && urls.length > 0 && urls.every((u) => typeof u === 'string');
}

/** The ICE servers saved from the settings panel; none by default. */
export function loadSavedIceServers(): RTCIceServer[] {
  try {
    const text = localStorage.getItem(ICE_STORAGE_KEY);
    return (text !== null && parseIceServers(text)) || [];
  } catch {
    return []; // storage may be disabled
  }
}

const RELAY_STORAGE_KEY = 'signalrtc.relayOnly';

/** Whether the settings panel said relay only; no by default. */
export function loadSavedRelayOnly(): boolean {
  try {
    return localStorage.getItem(RELAY_STORAGE_KEY) === '1';
  } catch {
    return false;
  }
}

export function saveRelayOnly(relayOnly: boolean): void {
  try {
    localStorage.setItem(RELAY_STORAGE_KEY, relayOnly ? '1' : '0');
  } catch {
    // Not remembered, but still used for this page load.
  }
}

export function saveIceServers(servers: RTCIceServer[]): void {
  try {
    localStorage.setItem(ICE_STORAGE_KEY, JSON.stringify(servers));
  } catch {
    // Not remembered, but still used for this page load.
  }
}
