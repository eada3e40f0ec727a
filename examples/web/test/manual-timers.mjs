// Timers for the app (its `Timers`, src/timers.ts) that fire only when the
// test moves time on with advance(): a test of a 3 s or a 30 s timer takes
// no time, and checks the moment it fires to the millisecond. A page gets
// them with openPage(url, hub, { timers }) (fake-browser.mjs).

export class ManualTimers {
  now = 0;
  #pending = new Map();
  #nextHandle = 1;

  setTimeout(callback, ms) {
    const handle = this.#nextHandle++;
    this.#pending.set(handle, { due: this.now + Math.max(0, Number(ms) || 0), callback });
    return handle;
  }

  clearTimeout(handle) {
    this.#pending.delete(handle);
  }

  /** Moves time on by `ms`, running every timer due by then, in order. */
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      let next = null;
      for (const [handle, timer] of this.#pending) {
        if (timer.due <= until && (next === null || timer.due < next[1].due)) next = [handle, timer];
      }
      if (next === null) break;
      this.#pending.delete(next[0]);
      this.now = next[1].due;
      next[1].callback();
    }
    this.now = until;
  }
}
