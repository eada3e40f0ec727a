// The SignalR side of the app: one hub connection, whichever client library
// the page asked for, behind a small typed interface.

import type { ClientLibrary } from './config';
import { logError, logInfo } from './log';
import { Invoke, Receive, parseUserInfo, type UserInfo } from './protocol';

/** The part of HubConnection that @microsoft/signalr and @aspnet/signalr share. */
interface HubConnectionLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  invoke(methodName: string, ...args: unknown[]): Promise<unknown>;
  on(methodName: string, method: (...args: unknown[]) => void): void;
  onclose(callback: (error?: Error) => void): void;
}

/** @microsoft/signalr's connection, which can reconnect by itself. */
interface ReconnectingHubConnection extends HubConnectionLike {
  onreconnecting(callback: (error?: Error) => void): void;
  onreconnected(callback: (connectionId?: string) => void): void;
}

function canReconnect(c: HubConnectionLike): c is ReconnectingHubConnection {
  return 'onreconnected' in c && typeof c.onreconnected === 'function';
}

export interface HubEvents {
  /** NewUserArrived: someone joined after us. */
  userArrived(user: UserInfo): void;
  /** UserSaidHello: someone already there answered our NewUser. */
  userSaidHello(user: UserInfo): void;
  /** SendSignal: one simple-peer signal (still JSON text) from a connection. */
  signal(fromConnectionId: string, signal: string): void;
  /** UserDisconnect: that connection left the hub. */
  userDisconnected(connectionId: string): void;
  /** The connection dropped and is being re-established (@microsoft/signalr only). */
  reconnecting(): void;
  /** Back on the hub with a new connection id; NewUser follows at once. */
  reconnected(): void;
  /** The connection is gone for good. */
  closed(error?: Error): void;
}

/**
 * Both libraries are loaded with a dynamic import(), so each gets its own
 * chunk in the build and only the one in use is downloaded.
 */
async function buildConnection(library: ClientLibrary, url: string): Promise<HubConnectionLike> {
  if (library === 'aspnet') {
    const signalR = await import('@aspnet/signalr');
    return new signalR.HubConnectionBuilder()
      .withUrl(url)
      .configureLogging(signalR.LogLevel.Warning)
      .build();
  }
  const signalR = await import('@microsoft/signalr');
  return new signalR.HubConnectionBuilder()
    .withUrl(url)
    .withAutomaticReconnect()
    .configureLogging(signalR.LogLevel.Warning)
    .build();
}

export class Hub {
  private constructor(
    private readonly connection: HubConnectionLike,
    private readonly userName: string,
  ) {}

  /** Loads the client library and subscribes to the hub's events; start() connects. */
  static async create(library: ClientLibrary, url: string, userName: string, events: HubEvents): Promise<Hub> {
    const connection = await buildConnection(library, url);
    const hub = new Hub(connection, userName);
    hub.subscribe(events);
    logInfo('hub-client', library === 'aspnet' ? '@aspnet/signalr' : '@microsoft/signalr');
    return hub;
  }

  /** Connects and announces us with NewUser. */
  async start(): Promise<void> {
    await this.connection.start();
    logInfo('hub-connected');
    await this.connection.invoke(Invoke.newUser, this.userName);
  }

  /**
   * Our connection id, as the others know us; null before start() and with
   * @aspnet/signalr 1.x, whose API does not tell it.
   */
  get connectionId(): string | null {
    const id = (this.connection as { connectionId?: unknown }).connectionId;
    return typeof id === 'string' ? id : null;
  }

  /** HelloUser: tells a newcomer who we are (it then lists us). */
  helloUser(connectionId: string): void {
    this.send(Invoke.helloUser, this.userName, connectionId);
  }

  /** SendSignal: relays one simple-peer signal (JSON text) to a connection. */
  sendSignal(signal: string, connectionId: string): void {
    this.send(Invoke.sendSignal, signal, connectionId);
  }

  async leave(): Promise<void> {
    await this.connection.stop();
  }

  private send(method: string, ...args: string[]): void {
    // The hub completes every invocation; a failure (e.g. the target left a
    // moment ago) is logged and otherwise harmless.
    this.connection.invoke(method, ...args).catch((err: unknown) => {
      logError('invoke', method, err);
    });
  }

  private subscribe(events: HubEvents): void {
    const c = this.connection;
    c.on(Receive.newUserArrived, (info: unknown) => {
      const user = parseUserInfo(info);
      if (user) events.userArrived(user);
      else logError('hub', `bad NewUserArrived argument ${String(info)}`);
    });
    c.on(Receive.userSaidHello, (info: unknown) => {
      const user = parseUserInfo(info);
      if (user) events.userSaidHello(user);
      else logError('hub', `bad UserSaidHello argument ${String(info)}`);
    });
    c.on(Receive.sendSignal, (from: unknown, signal: unknown) => {
      if (typeof from === 'string' && typeof signal === 'string') events.signal(from, signal);
      else logError('hub', 'bad SendSignal arguments');
    });
    c.on(Receive.userDisconnect, (id: unknown) => {
      if (typeof id === 'string') events.userDisconnected(id);
      else logError('hub', 'bad UserDisconnect argument');
    });
    c.onclose((error?: Error) => events.closed(error));
    if (canReconnect(c)) {
      c.onreconnecting(() => events.reconnecting());
      c.onreconnected(() => {
        // A reconnected client has a new connection id, and everyone else was
        // told UserDisconnect(oldId): forget the user list (the UserSaidHello
        // answers rebuild it) and announce ourselves again.
        events.reconnected();
        this.send(Invoke.newUser, this.userName);
      });
    }
  }
}
