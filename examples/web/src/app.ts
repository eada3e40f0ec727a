// The app: who is on the hub, which calls are up, and the routing of
// signals between the hub and the calls.

import type SimplePeer from 'simple-peer/simplepeer.min.js';
import { Call, type CallEvents, type EndReason } from './call';
import type { AppConfig } from './config';
import { Hub, type HubEvents } from './hub';
import { logError, logInfo } from './log';
import { hasTrack, openLocalMedia, setMuted } from './media';
import { decodeSignal, encodeSignal, isOffer, type SignalData, type UserInfo } from './protocol';
import { emptyMarks, type CallSummary, type Marks, type TestHookSource } from './testhook';
import type { Timers } from './timers';
import { CallTile, IncomingPrompt, UserListView, bindMuteToggle, byId, play, showNotice } from './ui';

/** How long an ended call's tile stays (with data-state="ended"). */
const ENDED_TILE_MS = 3000;

interface KnownUser extends UserInfo {
  /**
   * true if we learnt of them by NewUserArrived (they joined after us), false
   * by UserSaidHello. Both sides see the same order, which settles who gives
   * way when two users call each other at the same moment.
   */
  joinedAfterUs: boolean;
}

interface IncomingCall {
  caller: UserInfo;
  /** Their offer and every later signal, in order, kept until we answer. */
  signals: SignalData[];
  /** The caller gives up after the answer timeout; so does the prompt. */
  expiry: number;
}

export class App implements TestHookSource {
  readonly marks: Marks = emptyMarks();
  private hub: Hub | null = null;
  private localStream: MediaStream | null = null;
  private mediaOpened = false;
  private readonly users = new Map<string, KnownUser>();
  /** Live calls by remote connection id: at most one per remote user. */
  private readonly liveCalls = new Map<string, Call>();
  /** Every tile on screen, ended ones included until they go. */
  private readonly tiles = new Map<Call, CallTile>();
  /** Incoming calls waiting for an answer; the first is the one prompted. */
  private readonly incoming: IncomingCall[] = [];
  /** Callers we declined: their late signals are dropped until a new offer. */
  private readonly declined = new Set<string>();
  private readonly offerMarked = new WeakSet<Call>();
  private readonly userList: UserListView;
  private readonly prompt: IncomingPrompt;
  private readonly callsGrid = byId('calls', HTMLDivElement);

  constructor(
    private readonly config: AppConfig,
    private iceServers: RTCIceServer[],
    private readonly timers: Timers,
  ) {
    this.userList = new UserListView(
      byId('users', HTMLUListElement),
      byId('users-empty', HTMLDivElement),
      (id) => this.callUser(id),
    );
    this.prompt = new IncomingPrompt(
      () => this.acceptIncoming(),
      () => this.declineIncoming(),
    );
    bindMuteToggle(byId('mute-audio', HTMLButtonElement), { muted: 'Unmute audio', unmuted: 'Mute audio' }, (m) =>
      this.setMuted('audio', m),
    );
    bindMuteToggle(byId('mute-video', HTMLButtonElement), { muted: 'Start video', unmuted: 'Stop video' }, (m) =>
      this.setMuted('video', m),
    );
  }

  // ------------------------------------------------------------ joining

  /** Opens the camera and microphone (once), connects and says NewUser. */
  async join(userName: string): Promise<void> {
    await this.openMedia();
    // this.hub is set before start(): a NewUserArrived may come in while
    // our NewUser is still on its way, and needs an answer too.
    this.hub = await Hub.create(this.config.client, this.config.hubUrl, userName, this.hubEvents());
    await this.hub.start();
    logInfo('joined', `${userName} at ${this.config.hubUrl}`);
  }

  /** ICE servers for the calls started from now on. */
  setIceServers(servers: RTCIceServer[]): void {
    this.iceServers = servers;
    logInfo('ice-servers', JSON.stringify(servers));
  }

  /** Relay only (TURN) for the calls started from now on. */
  setRelayOnly(relayOnly: boolean): void {
    this.relayOnly = relayOnly;
    logInfo('relay-only', String(relayOnly));
  }
  private relayOnly = false;

  private async openMedia(): Promise<void> {
    if (this.mediaOpened) return;
    const media = await openLocalMedia();
    this.mediaOpened = true;
    this.localStream = media.stream;
    if (media.description !== 'camera and microphone') {
      showNotice(`No full camera and microphone access: joining with ${media.description}.`, 'warning');
    }
    const preview = byId('local', HTMLVideoElement);
    preview.srcObject = media.stream;
    if (media.stream) play(preview);
    byId('mute-audio', HTMLButtonElement).disabled = !hasTrack(media.stream, 'audio');
    byId('mute-video', HTMLButtonElement).disabled = !hasTrack(media.stream, 'video');
  }

  private setMuted(kind: 'audio' | 'video', muted: boolean): void {
    setMuted(this.localStream, kind, muted);
    logInfo('mute', `${kind} ${muted ? 'muted' : 'unmuted'}`);
  }

  // ------------------------------------------------------------ hub events

  private hubEvents(): HubEvents {
    return {
      userArrived: (user) => {
        logInfo('user-arrived', `${user.userName} (${user.connectionId})`);
        this.addUser(user, true);
        // Introduce ourselves, so the newcomer lists us too.
        this.hub?.helloUser(user.connectionId);
      },
      userSaidHello: (user) => {
        logInfo('user-hello', `${user.userName} (${user.connectionId})`);
        this.addUser(user, false);
      },
      signal: (from, text) => this.onSignal(from, text),
      userDisconnected: (id) => this.onUserDisconnected(id),
      reconnecting: () => {
        logInfo('hub-reconnecting');
        showNotice('Lost the hub connection, reconnecting…', 'warning');
      },
      reconnected: () => {
        logInfo('hub-reconnected');
        // The others now answer our new NewUser with UserSaidHello.
        this.users.clear();
        this.userList.clear();
        showNotice('Reconnected to the hub.');
      },
      closed: (error) => {
        logError('hub-closed', this.config.hubUrl, error);
        showNotice('Disconnected from the hub. Reload the page to join again.', 'danger');
      },
    };
  }

  private addUser(user: UserInfo, joinedAfterUs: boolean): void {
    this.users.set(user.connectionId, { ...user, joinedAfterUs });
    this.userList.add(user);
  }

  private onUserDisconnected(id: string): void {
    const user = this.users.get(id);
    logInfo('user-left', user ? `${user.userName} (${id})` : id);
    // Drop exactly that connection; everyone else stays.
    this.users.delete(id);
    this.userList.remove(id);
    this.declined.delete(id);
    this.dropIncoming(id);
    this.liveCalls.get(id)?.end('user-left');
  }

  // ------------------------------------------------------------ signal routing

  /**
   * One SendSignal from the hub. A signal goes to the call with that
   * connection if there is one; otherwise only an offer means something (an
   * incoming call), and everything that follows it is kept until we answer.
   */
  private onSignal(from: string, text: string): void {
    const signal = decodeSignal(text);
    if (!signal) {
      logError('signal', `ignored an unreadable signal from ${from}: ${text.slice(0, 80)}`);
      return;
    }
    const call = this.liveCalls.get(from);
    if (call) {
      this.signalCall(call, signal);
      return;
    }
    const waiting = this.incoming.find((c) => c.caller.connectionId === from);
    if (waiting) {
      this.bufferIncoming(waiting, signal);
      return;
    }
    if (isOffer(signal)) {
      this.declined.delete(from);
      this.ring(from, signal);
      return;
    }
    if (!this.declined.has(from)) {
      logError('signal', `ignored a ${String(signal.type)} signal from ${from}, with whom there is no call`);
    }
  }

  private signalCall(call: Call, signal: SignalData): void {
    // With simple-peer only the initiator makes offers (renegotiation
    // included), so an offer for a call we started is a new call from them.
    if (isOffer(signal) && call.initiator) {
      if (call.state === 'calling') {
        this.resolveCrossedCalls(call, signal);
      } else {
        // They hung up and called back before our side saw the hang-up.
        call.end('remote-hangup');
        this.ring(call.remote.connectionId, signal);
      }
      return;
    }
    call.signal(signal);
  }

  /**
   * We called them while they called us. The one who joined the hub later
   * gives way: it drops its own call and answers the other's offer at once
   * (both users did ask for the call). The other keeps its call.
   */
  private resolveCrossedCalls(call: Call, offer: SignalData): void {
    const user = this.users.get(call.remote.connectionId);
    const weGiveWay = !user || !user.joinedAfterUs;
    logInfo('crossed-calls', `${call.describe()}: ${weGiveWay ? 'answering theirs' : 'keeping ours'}`);
    if (!weGiveWay) {
      call.ignoreCrossedOffer();
      return;
    }
    call.end('superseded');
    this.startCall(call.remote, false, [offer]);
  }

  // ------------------------------------------------------------ incoming calls

  private ring(from: string, offer: SignalData): void {
    const caller = this.users.get(from) ?? { userName: from, connectionId: from };
    if (this.config.autoAccept) {
      // ?autoaccept=1: no prompt, the offer goes to a new peer at once.
      this.marks.accepted[from] = performance.now();
      logInfo('accepted', `${caller.userName} (${from}), automatically`);
      this.startCall(caller, false, [offer]);
      return;
    }
    const call: IncomingCall = { caller, signals: [offer], expiry: 0 };
    call.expiry = this.expireIncomingLater(call);
    this.incoming.push(call);
    logInfo('incoming-call', `${caller.userName} (${from})`);
    if (this.incoming.length === 1) this.showPrompt();
  }

  private bufferIncoming(call: IncomingCall, signal: SignalData): void {
    if (isOffer(signal)) {
      // A new offer means the caller started over (a new peer): the signals
      // of its previous attempt are useless now.
      call.signals = [signal];
      this.timers.clearTimeout(call.expiry);
      call.expiry = this.expireIncomingLater(call);
    } else {
      call.signals.push(signal);
    }
  }

  /** The caller stops waiting after the answer timeout, and so do we. */
  private expireIncomingLater(call: IncomingCall): number {
    return this.timers.setTimeout(() => {
      if (!this.dropIncoming(call.caller.connectionId)) return;
      logInfo('missed-call', call.caller.userName);
      showNotice(`Missed call from ${call.caller.userName}`);
    }, this.config.answerTimeoutMs);
  }

  private showPrompt(): void {
    const next = this.incoming[0];
    if (next) this.prompt.show(next.caller.userName);
    else this.prompt.hide();
  }

  /** Takes a waiting call off the queue; true if there was one. */
  private dropIncoming(connectionId: string): boolean {
    const index = this.incoming.findIndex((c) => c.caller.connectionId === connectionId);
    if (index < 0) return false;
    const [call] = this.incoming.splice(index, 1);
    if (call) this.timers.clearTimeout(call.expiry);
    if (index === 0) this.showPrompt();
    return true;
  }

  /** Accepts the prompted call, or the one from `connectionId`. */
  private acceptIncoming(connectionId?: string): void {
    const call = connectionId ? this.incoming.find((c) => c.caller.connectionId === connectionId) : this.incoming[0];
    if (!call) return;
    const id = call.caller.connectionId;
    this.dropIncoming(id);
    this.marks.accepted[id] = performance.now();
    logInfo('accepted', `${call.caller.userName} (${id})`);
    this.startCall(call.caller, false, call.signals);
  }

  private declineIncoming(): void {
    const call = this.incoming[0];
    if (!call) return;
    const id = call.caller.connectionId;
    this.dropIncoming(id);
    // The protocol has no "decline": the caller just gets no answer.
    this.declined.add(id);
    logInfo('declined', `${call.caller.userName} (${id})`);
  }

  // ------------------------------------------------------------ calls

  /** The user clicked someone in the list. */
  callUser(connectionId: string): void {
    const user = this.users.get(connectionId);
    if (!user) return;
    if (this.liveCalls.has(connectionId)) {
      showNotice(`Already in a call with ${user.userName}`);
      return;
    }
    if (this.incoming.some((c) => c.caller.connectionId === connectionId)) {
      // They are calling us already: calling back means yes.
      this.acceptIncoming(connectionId);
      return;
    }
    this.marks.callClicked[connectionId] = performance.now();
    logInfo('call-clicked', `${user.userName} (${connectionId})`);
    this.startCall(user, true, []);
  }

  private startCall(remote: UserInfo, initiator: boolean, signals: SignalData[]): void {
    this.removeTilesOf(remote.connectionId);
    let call: Call;
    try {
      call = new Call({
        remote: { userName: remote.userName, connectionId: remote.connectionId },
        initiator,
        localStream: this.localStream,
        iceServers: this.iceServers,
        relayOnly: this.relayOnly,
        connectTimeoutMs: this.config.answerTimeoutMs,
        timers: this.timers,
        events: this.callEvents(),
      });
    } catch (err) {
      logError('call', `${remote.userName} (${remote.connectionId})`, err);
      showNotice(`Could not start a call with ${remote.userName}: ${String(err)}`, 'danger');
      return;
    }
    this.liveCalls.set(remote.connectionId, call);
    const tile = new CallTile(call.remote, {
      hangup: () => call.end('hangup'),
      send: (text) => this.sendChat(call, text),
      firstFrame: () => this.markFirstFrame(call),
    });
    tile.setState(call.state);
    this.tiles.set(call, tile);
    this.callsGrid.append(tile.element);
    this.updateCallsHint();
    logInfo('call-state', `${call.describe()} ${call.state}`);
    for (const signal of signals) call.signal(signal);
  }

  private callEvents(): CallEvents {
    return {
      stateChanged: (call) => {
        this.tiles.get(call)?.setState(call.state);
        if (call.state === 'connected') this.marks.connected[call.remote.connectionId] = performance.now();
      },
      signal: (call, signal) => this.sendSignal(call, signal),
      remoteStream: (call, stream) => this.tiles.get(call)?.attachStream(stream),
      message: (call, text) => {
        logInfo('chat-in', call.describe());
        this.tiles.get(call)?.addMessage('in', text);
      },
      ended: (call, reason, detail) => this.onCallEnded(call, reason, detail),
    };
  }

  private sendSignal(call: Call, signal: SignalData): void {
    const id = call.remote.connectionId;
    if (signal.type === 'offer' && !this.offerMarked.has(call)) {
      this.offerMarked.add(call);
      this.marks.offerSent[id] = performance.now();
    }
    // Each simple-peer signal is one SendSignal, JSON text, and nothing else.
    this.hub?.sendSignal(encodeSignal(signal), id);
  }

  private sendChat(call: Call, text: string): boolean {
    if (call.send(text)) {
      logInfo('chat-out', call.describe());
      return true;
    }
    showNotice(`Not connected to ${call.remote.userName} yet`, 'warning');
    return false;
  }

  private markFirstFrame(call: Call): void {
    const id = call.remote.connectionId;
    // Only the live call of that id counts (not a tile of an older one).
    if (this.liveCalls.get(id) !== call) return;
    this.marks.firstFrame[id] ??= performance.now();
    logInfo('first-frame', call.describe());
  }

  private onCallEnded(call: Call, reason: EndReason, detail: string): void {
    const id = call.remote.connectionId;
    if (this.liveCalls.get(id) === call) this.liveCalls.delete(id);
    const tile = this.tiles.get(call);
    tile?.setState('ended');
    const notice = endNotice(call.remote.userName, reason, detail);
    if (notice) showNotice(notice, reason === 'failed' ? 'danger' : 'info');
    if (reason === 'superseded') this.removeTile(call);
    else this.timers.setTimeout(() => this.removeTile(call), ENDED_TILE_MS);
  }

  private removeTile(call: Call): void {
    this.tiles.get(call)?.remove();
    this.tiles.delete(call);
    this.updateCallsHint();
  }

  /** A new call with someone replaces the ended tile of the last one. */
  private removeTilesOf(connectionId: string): void {
    for (const call of [...this.tiles.keys()]) {
      if (call.remote.connectionId === connectionId) this.removeTile(call);
    }
  }

  private updateCallsHint(): void {
    byId('calls-empty', HTMLParagraphElement).hidden = this.tiles.size > 0;
  }

  // ------------------------------------------------------------ test hook

  calls(): CallSummary[] {
    return [...this.tiles.keys()].map((call) => ({
      userName: call.remote.userName,
      connectionId: call.remote.connectionId,
      state: call.state,
    }));
  }

  peer(connectionId: string): SimplePeer.Instance | null {
    return this.liveCalls.get(connectionId)?.simplePeer ?? null;
  }

  myConnectionId(): string | null {
    return this.hub?.connectionId ?? null;
  }

  peerConnection(connectionId: string): RTCPeerConnection | null {
    const live = this.liveCalls.get(connectionId);
    if (live) return live.peerConnection;
    const shown = [...this.tiles.keys()].filter((c) => c.remote.connectionId === connectionId);
    return shown.at(-1)?.peerConnection ?? null;
  }
}

function endNotice(name: string, reason: EndReason, detail: string): string | null {
  switch (reason) {
    case 'hangup':
      return `Call with ${name} ended`;
    case 'remote-hangup':
      return `${name} hung up`;
    case 'no-answer':
      return `No answer from ${name}`;
    case 'connect-timeout':
      return `Could not connect to ${name}`;
    case 'failed':
      return `Call with ${name} failed${detail ? `: ${detail}` : ''}`;
    case 'user-left':
      return `${name} left`;
    case 'superseded':
      return null;
  }
}
