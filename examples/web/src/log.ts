// The app's event log: every entry goes to the console with a `[signalrtc]`
// prefix and to `window.signalrtcApp.log`, which the browser tests read when
// something goes wrong.

/** Entries such as "joined alice @1234ms"; newest last. */
export const eventLog: string[] = [];

const MAX_ENTRIES = 2000;

function record(entry: string): string {
  const line = `${entry} @${Math.round(performance.now())}ms`;
  eventLog.push(line);
  if (eventLog.length > MAX_ENTRIES) eventLog.splice(0, eventLog.length - MAX_ENTRIES);
  return line;
}

/** A major event: joined, user-arrived, call states and the like. */
export function logInfo(event: string, detail = ''): void {
  const line = record(detail ? `${event} ${detail}` : event);
  console.info(`[signalrtc] ${line}`);
}

/** Something went wrong; the app carries on. */
export function logError(event: string, detail: string, err?: unknown): void {
  const reason = errorMessage(err);
  const line = record(`error ${event} ${detail}${reason ? `: ${reason}` : ''}`);
  if (err === undefined) console.error(`[signalrtc] ${line}`);
  else console.error(`[signalrtc] ${line}`, err);
}

export function errorMessage(err: unknown): string {
  if (err === undefined || err === null) return '';
  if (err instanceof Error) return err.message;
  return String(err);
}
