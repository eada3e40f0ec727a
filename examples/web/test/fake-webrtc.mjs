// Fake RTCPeerConnection / RTCDataChannel: two fake peer connections in the
// same process find each other through the tokens in their fake SDP, then
// "connect" (ICE connected, data channel open) and pass data-channel messages.
// No media: enough to drive simple-peer's signalling, connect, chat and close.

const registry = new Map(); // token -> FakePeerConnection
let counter = 0;

class FakeDataChannel {
  constructor(label, pc) {
    this.label = label;
    this.pc = pc;
    this.readyState = 'connecting';
    this.binaryType = 'blob';
    this.bufferedAmount = 0;
    this.bufferedAmountLowThreshold = 0;
    this.remote = null;
  }
  open() {
    this.readyState = 'open';
    this.pc.timers.setTimeout(() => this.onopen?.({ type: 'open' }), 0);
  }
  send(data) {
    if (this.readyState !== 'open') throw new Error(`InvalidStateError: channel is ${this.readyState}`);
    const remote = this.remote;
    remote.pc.timers.setTimeout(() => remote.onmessage?.({ data }), 0);
  }
  close() {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    const remote = this.remote;
    if (remote && remote.readyState !== 'closed') {
      remote.readyState = 'closed';
      remote.pc.timers.setTimeout(() => remote.onclose?.({ type: 'close' }), 5);
    }
  }
}

export function makeWebRtc(timers) {
  class RTCSessionDescription {
    constructor(init) {
      this.type = init.type;
      this.sdp = init.sdp;
    }
  }

  class RTCIceCandidate {
    constructor(init) {
      this.candidate = init.candidate;
      this.sdpMLineIndex = init.sdpMLineIndex;
      this.sdpMid = init.sdpMid;
      this.address = /udp \d+ ([\d.]+)/.exec(init.candidate ?? '')?.[1] ?? null;
    }
  }

  class RTCPeerConnection {
    constructor(config) {
      if (!Array.isArray(config?.iceServers)) throw new TypeError('iceServers must be an array');
      this.config = config;
      this.timers = timers;
      this.token = `pc${++counter}`;
      registry.set(this.token, this);
      this.localDescription = null;
      this.remoteDescription = null;
      this.signalingState = 'stable';
      this.iceConnectionState = 'new';
      this.iceGatheringState = 'new';
      this.connectionState = 'new';
      this.channels = [];
      this.senders = [];
      this.listeners = new Map();
      this.candidatesAdded = [];
      this.remote = null;
    }
    addEventListener(type, fn) {
      if (!this.listeners.has(type)) this.listeners.set(type, []);
      this.listeners.get(type).push(fn);
    }
    removeEventListener() {}
    addTrack(track, stream) {
      const sender = { track, stream };
      this.senders.push(sender);
      return sender;
    }
    getSenders() {
      return this.senders;
    }
    createDataChannel(label) {
      const channel = new FakeDataChannel(label, this);
      this.channels.push(channel);
      return channel;
    }
    async createOffer(options) {
      this.offerOptions = options;
      return { type: 'offer', sdp: `v=0 fake offer from ${this.token}` };
    }
    async createAnswer() {
      return { type: 'answer', sdp: `v=0 fake answer from ${this.token}` };
    }
    async setLocalDescription(description) {
      this.localDescription = new RTCSessionDescription(description);
      this.setSignalingState(description.type === 'offer' ? 'have-local-offer' : 'stable');
      this.gatherCandidates();
    }
    async setRemoteDescription(description) {
      const token = /from (pc\d+)/.exec(description.sdp ?? '')?.[1];
      if (!token || !registry.has(token)) throw new Error('OperationError: unknown fake SDP');
      this.remoteDescription = new RTCSessionDescription(description);
      this.remoteToken = token;
      this.setSignalingState(description.type === 'offer' ? 'have-remote-offer' : 'stable');
      if (description.type === 'answer') this.connectTo(registry.get(token));
    }
    async addIceCandidate(candidate) {
      if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
      this.candidatesAdded.push(candidate);
    }
    async getStats() {
      const stats = new Map();
      if (this.iceConnectionState === 'connected') {
        stats.set('T', { id: 'T', type: 'transport', selectedCandidatePairId: 'P' });
        stats.set('P', { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' });
        stats.set('L', { id: 'L', type: 'local-candidate', address: '127.0.0.1', port: 50000 });
        stats.set('R', { id: 'R', type: 'remote-candidate', address: '127.0.0.1', port: 50001 });
      }
      return stats;
    }
    close() {
      if (this.signalingState === 'closed') return;
      this.signalingState = 'closed';
      this.iceConnectionState = 'closed';
      for (const channel of this.channels) channel.close();
      registry.delete(this.token);
    }
    setSignalingState(state) {
      this.signalingState = state;
      timers.setTimeout(() => this.onsignalingstatechange?.(), 0);
    }
    gatherCandidates() {
      timers.setTimeout(() => {
        const candidate = `candidate:1 1 udp 2122260223 127.0.0.1 ${50000 + counter} typ host`;
        this.onicecandidate?.({ candidate: { candidate, sdpMLineIndex: 0, sdpMid: '0' } });
        this.onicecandidate?.({ candidate: null });
      }, 1);
    }
    /** The offerer got the answer: join the two connections. */
    connectTo(answerer) {
      this.remote = answerer;
      answerer.remote = this;
      timers.setTimeout(() => {
        for (const channel of this.channels) {
          const remote = answerer.createDataChannel(channel.label);
          channel.remote = remote;
          remote.remote = channel;
          answerer.ondatachannel?.({ channel: remote });
          channel.open();
          remote.open();
        }
        // Each side receives the other's tracks, with their streams.
        for (const [from, to] of [[this, answerer], [answerer, this]]) {
          for (const { track, stream } of from.senders) {
            const event = { track, streams: [stream], receiver: { track }, transceiver: {} };
            to.ontrack?.(event);
            for (const listener of to.listeners.get('track') ?? []) listener(event);
          }
        }
        for (const pc of [this, answerer]) {
          pc.iceConnectionState = 'connected';
          pc.connectionState = 'connected';
          pc.oniceconnectionstatechange?.();
        }
      }, 2);
    }
  }

  return { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate };
}
