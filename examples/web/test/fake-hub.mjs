// An in-process stand-in for signalrtc-hub: the SignalR JSON protocol over
// fake WebSockets, and the SignalRtc hub methods. Nothing touches a network.

const RS = '\x1e';

export class FakeHub {
  constructor() {
    this.connections = new Map(); // connectionId -> { socket, name, handshaken }
    this.nextId = 1;
    this.pending = new Map(); // negotiated id -> connectionId
    /** Every invocation received: { from, target, args }. */
    this.invocations = [];
  }

  /** POST .../negotiate: returns the JSON body for either negotiate version. */
  negotiate(url) {
    const connectionId = `conn${this.nextId++}`;
    const token = `tok-${connectionId}`;
    this.pending.set(token, connectionId);
    const v1 = /negotiateVersion=1/.test(url);
    this.pending.set(connectionId, connectionId);
    return JSON.stringify({
      ...(v1 ? { negotiateVersion: 1, connectionToken: token } : {}),
      connectionId,
      availableTransports: [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }],
    });
  }

  /** A FakeWebSocket opened to the hub URL with ?id=... */
  attach(socket) {
    const id = new URL(socket.url).searchParams.get('id');
    const connectionId = this.pending.get(id);
    if (!connectionId) throw new Error(`unknown negotiate id ${id}`);
    this.connections.set(connectionId, { socket, name: null, handshaken: false });
    socket.server = {
      receive: (text) => this.receive(connectionId, text),
      closed: () => this.drop(connectionId),
    };
    return connectionId;
  }

  idOf(name) {
    for (const [id, c] of this.connections) if (c.name === name) return id;
    return null;
  }

  /** Server -> client invocation. */
  send(connectionId, target, args) {
    this.write(connectionId, { type: 1, target, arguments: args });
  }

  /** Closes a connection the way the hub does on shutdown (no reconnect). */
  close(connectionId) {
    const c = this.connections.get(connectionId);
    if (!c) return;
    this.write(connectionId, { type: 7 });
    setTimeout(() => c.socket.serverClose(), 0);
  }

  closeAll() {
    for (const id of [...this.connections.keys()]) this.close(id);
  }

  /** Simulates the connection going away: UserDisconnect to everyone left. */
  disconnect(connectionId) {
    const c = this.connections.get(connectionId);
    if (!c) return;
    c.socket.serverClose();
  }

  write(connectionId, message) {
    const c = this.connections.get(connectionId);
    if (c) c.socket.deliver(JSON.stringify(message) + RS);
  }

  receive(connectionId, text) {
    const c = this.connections.get(connectionId);
    for (const frame of text.split(RS).filter(Boolean)) {
      const message = JSON.parse(frame);
      if (!c.handshaken) {
        c.handshaken = true;
        c.socket.deliver('{}' + RS);
        continue;
      }
      if (message.type === 1) this.invoke(connectionId, message);
    }
  }

  invoke(from, { invocationId, target, arguments: args }) {
    this.invocations.push({ from, target, args });
    const c = this.connections.get(from);
    const info = () => JSON.stringify({ userName: c.name, connectionId: from });
    let error = null;
    if (target === 'NewUser') {
      c.name = args[0];
      for (const id of this.connections.keys()) if (id !== from) this.send(id, 'NewUserArrived', [info()]);
    } else if (target === 'HelloUser') {
      c.name ??= args[0];
      this.send(args[1], 'UserSaidHello', [JSON.stringify({ userName: args[0], connectionId: from })]);
    } else if (target === 'SendSignal') {
      if (this.connections.has(args[1])) this.send(args[1], 'SendSignal', [from, args[0]]);
      else error = 'unknown connection';
    } else {
      error = `unknown method ${target}`;
    }
    if (invocationId !== undefined) {
      this.write(from, error ? { type: 3, invocationId, error } : { type: 3, invocationId, result: null });
    }
  }

  drop(connectionId) {
    if (!this.connections.delete(connectionId)) return;
    for (const id of this.connections.keys()) this.send(id, 'UserDisconnect', [connectionId]);
  }
}

/** The browser's WebSocket, wired to a FakeHub. */
export function makeWebSocketClass(hub, timers) {
  return class FakeWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.binaryType = 'blob';
      this.protocol = '';
      this.extensions = '';
      this.connectionId = hub.attach(this);
      timers.setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({ type: 'open' });
      }, 0);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('not open');
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      setTimeout(() => this.server.receive(text), 0);
    }
    deliver(text) {
      timers.setTimeout(() => {
        if (this.readyState === 1) this.onmessage?.({ data: text });
      }, 0);
    }
    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      setTimeout(() => this.server.closed(), 0);
      timers.setTimeout(() => this.onclose?.({ code, reason, wasClean: true }), 0);
    }
    serverClose() {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      this.server.closed();
      timers.setTimeout(() => this.onclose?.({ code: 1006, reason: '', wasClean: false }), 0);
    }
  };
}
