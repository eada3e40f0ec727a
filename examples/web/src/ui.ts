// The DOM side of the app. Names come from other users, so every piece of
// user text goes in with textContent, never as HTML.
//
// The ids, classes and data attributes used here are a contract with the
// project's browser tests: see README.md before renaming any.

import type { CallState } from './call';
import type { UserInfo } from './protocol';

export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return element;
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = '',
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** Plays a video element, logging (not throwing) when the browser refuses. */
export function play(video: HTMLVideoElement, onBlocked?: () => void): void {
  video.play().catch((err: unknown) => {
    // AbortError: a newer srcObject replaced this one; nothing to do.
    if (err instanceof DOMException && err.name === 'NotAllowedError') onBlocked?.();
  });
}

// ---------------------------------------------------------------- notices

const MAX_NOTICES = 20;

/** Appends a `.notice` to #notice; the newest is last (CSS shows the last few). */
export function showNotice(text: string, level: 'info' | 'warning' | 'danger' = 'info'): void {
  const area = byId('notice', HTMLDivElement);
  const notice = make('div', `notice alert alert-${level} py-2 px-3 mb-2 shadow-sm`, text);
  notice.setAttribute('role', level === 'danger' ? 'alert' : 'status');
  area.append(notice);
  while (area.childElementCount > MAX_NOTICES) area.firstElementChild?.remove();
}

// ---------------------------------------------------------------- user list

export class UserListView {
  constructor(
    private readonly list: HTMLUListElement,
    private readonly emptyHint: HTMLElement,
    private readonly onCall: (connectionId: string) => void,
  ) {}

  /** Adds a user, or renames the entry that has the same connection id. */
  add(user: UserInfo): void {
    const existing = this.find(user.connectionId);
    if (existing) {
      existing.dataset.user = user.userName;
      const name = existing.querySelector('.user-name');
      if (name) name.textContent = user.userName;
      return;
    }
    this.list.append(this.render(user));
    this.updateEmptyHint();
  }

  remove(connectionId: string): void {
    this.find(connectionId)?.remove();
    this.updateEmptyHint();
  }

  clear(): void {
    this.list.replaceChildren();
    this.updateEmptyHint();
  }

  private find(connectionId: string): HTMLElement | null {
    for (const item of this.list.children) {
      if (item instanceof HTMLElement && item.dataset.connectionId === connectionId) return item;
    }
    return null;
  }

  private render(user: UserInfo): HTMLLIElement {
    const item = make('li', 'list-group-item list-group-item-action d-flex align-items-center gap-2 user');
    item.dataset.user = user.userName;
    item.dataset.connectionId = user.connectionId;
    item.title = `Call ${user.userName}`;
    const name = make('span', 'user-name flex-grow-1 text-truncate', user.userName);
    const button = make('button', 'btn btn-sm btn-outline-success', 'Call');
    button.type = 'button';
    button.dataset.action = 'call';
    item.append(name, button);
    // One handler for the row and its button (the click bubbles up).
    item.addEventListener('click', () => this.onCall(user.connectionId));
    return item;
  }

  private updateEmptyHint(): void {
    this.emptyHint.hidden = this.list.childElementCount > 0;
  }
}

// ---------------------------------------------------------------- call tiles

export interface CallTileActions {
  hangup(): void;
  /** Sends a chat message; false if it could not be sent. */
  send(text: string): boolean;
  /** The first remote video frame was shown. */
  firstFrame(): void;
}

const STATE_LABELS: Record<CallState, string> = {
  calling: 'Calling…',
  connecting: 'Connecting…',
  connected: 'Connected',
  ended: 'Ended',
};

const STATE_BADGES: Record<CallState, string> = {
  calling: 'text-bg-warning',
  connecting: 'text-bg-info',
  connected: 'text-bg-success',
  ended: 'text-bg-secondary',
};

export class CallTile {
  readonly element: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly badge: HTMLElement;
  private readonly log: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly hangupButton: HTMLButtonElement;
  private watchingFrames = false;

  constructor(
    private readonly user: UserInfo,
    private readonly actions: CallTileActions,
  ) {
    this.element = make('article', 'call card shadow-sm');
    this.element.dataset.user = user.userName;
    this.element.dataset.connectionId = user.connectionId;

    const header = make('div', 'card-header d-flex align-items-center gap-2');
    this.badge = make('span', 'badge call-state');
    header.append(make('span', 'fw-semibold flex-grow-1 text-truncate', user.userName), this.badge);

    this.video = make('video', 'remote');
    this.video.autoplay = true;
    this.video.playsInline = true;

    const body = make('div', 'card-body d-flex flex-column gap-2');
    this.log = make('div', 'chat-log');
    this.log.setAttribute('aria-live', 'polite');
    this.input = make('input', 'chat-input form-control');
    this.input.placeholder = 'Message';
    this.input.setAttribute('aria-label', `Message to ${user.userName}`);
    body.append(this.log, this.renderChatForm());

    const footer = make('div', 'card-footer d-flex justify-content-end');
    this.hangupButton = make('button', 'btn btn-sm btn-danger', 'Hang up');
    this.hangupButton.type = 'button';
    this.hangupButton.dataset.action = 'hangup';
    this.hangupButton.addEventListener('click', () => this.actions.hangup());
    footer.append(this.hangupButton);

    const videoWrap = make('div', 'video-wrap');
    videoWrap.append(this.video);
    this.element.append(header, videoWrap, body, footer);
  }

  setState(state: CallState): void {
    this.element.dataset.state = state;
    this.badge.className = `badge call-state ${STATE_BADGES[state]}`;
    this.badge.textContent = STATE_LABELS[state];
    if (state === 'ended') {
      this.hangupButton.disabled = true;
      this.input.disabled = true;
    }
  }

  /**
   * Shows a remote stream. A peer that sends its audio and video in two
   * streams gets both tracks merged into one, so one element plays them.
   */
  attachStream(stream: MediaStream): void {
    const current = this.video.srcObject;
    if (current instanceof MediaStream && current !== stream) {
      const tracks = [...current.getTracks(), ...stream.getTracks()];
      this.video.srcObject = new MediaStream(tracks);
    } else {
      this.video.srcObject = stream;
    }
    this.watchFirstFrame();
    play(this.video, () => this.playMuted());
  }

  addMessage(direction: 'in' | 'out', text: string): void {
    const message = make('div', `msg ${direction}`, text);
    message.title = direction === 'in' ? this.user.userName : 'me';
    this.log.append(message);
    this.log.scrollTop = this.log.scrollHeight;
  }

  remove(): void {
    this.video.srcObject = null;
    this.element.remove();
  }

  private renderChatForm(): HTMLFormElement {
    const form = make('form', 'input-group input-group-sm chat-form');
    const send = make('button', 'btn btn-primary', 'Send');
    send.type = 'submit';
    send.dataset.action = 'send';
    form.append(this.input, send);
    // A submit button in a form: Enter in the input sends too.
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (text.trim() === '') return;
      if (this.actions.send(text)) {
        this.addMessage('out', text);
        this.input.value = '';
      }
    });
    return form;
  }

  /** requestVideoFrameCallback fires when a frame is shown; 'playing' is the fallback. */
  private watchFirstFrame(): void {
    if (this.watchingFrames) return;
    this.watchingFrames = true;
    if (typeof this.video.requestVideoFrameCallback === 'function') {
      this.video.requestVideoFrameCallback(() => this.actions.firstFrame());
    } else {
      this.video.addEventListener('playing', () => this.actions.firstFrame(), { once: true });
    }
  }

  /** Autoplay with sound was refused: play muted and unmute on the first click. */
  private playMuted(): void {
    this.video.muted = true;
    play(this.video);
    showNotice(`Click ${this.user.userName}'s video to hear them`, 'warning');
    this.video.addEventListener('click', () => {
      this.video.muted = false;
      play(this.video);
    }, { once: true });
  }
}

// ---------------------------------------------------------------- incoming prompt

export class IncomingPrompt {
  private readonly root = byId('incoming', HTMLDivElement);
  private readonly acceptButton = byId('accept', HTMLButtonElement);

  constructor(onAccept: () => void, onDecline: () => void) {
    this.acceptButton.addEventListener('click', onAccept);
    byId('decline', HTMLButtonElement).addEventListener('click', onDecline);
  }

  show(callerName: string): void {
    const caller = this.root.querySelector('[data-caller]');
    if (caller) caller.textContent = callerName;
    this.root.hidden = false;
    this.acceptButton.focus();
  }

  hide(): void {
    this.root.hidden = true;
  }
}

// ---------------------------------------------------------------- mute toggles

/** A toggle button whose aria-pressed="true" means muted. */
export function bindMuteToggle(
  button: HTMLButtonElement,
  labels: { muted: string; unmuted: string },
  onChange: (muted: boolean) => void,
): void {
  button.addEventListener('click', () => {
    const muted = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(muted));
    button.classList.toggle('active', muted);
    button.textContent = muted ? labels.muted : labels.unmuted;
    onChange(muted);
  });
}
