// The app's own timers: how long an ended call's tile stays, how long a
// prompt waits for an answer and how long a call may take to connect. They
// go through a Timers object given to the app, so that a page can be handed
// others before the app starts (`window.signalrtcTimers`, see testhook.ts):
// the unit tests (test/) move time by hand instead of sleeping.

export interface Timers {
  setTimeout(callback: () => void, ms: number): number;
  clearTimeout(handle: number | undefined): void;
}

/** The browser's timers. */
export const windowTimers: Timers = {
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: (handle) => window.clearTimeout(handle),
};
