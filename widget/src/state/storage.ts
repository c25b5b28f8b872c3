/** Per-bot keys in localStorage (and the tab's sessionStorage), never throwing. */
export interface BotStorage {
  get(key: string): string | null;
  set(key: string, value: string | null): void;
  getSession(key: string): string | null;
  setSession(key: string, value: string | null): void;
}

function read(area: () => Storage, key: string): string | null {
  try {
    return area().getItem(key);
  } catch {
    // Storage is off (privacy mode, sandboxed frame): the widget works, it just forgets on reload.
    return null;
  }
}

function write(area: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) area().removeItem(key);
    else area().setItem(key, value);
  } catch {
    // Full or disabled storage only costs persistence across reloads.
  }
}

/** Storage scoped to one bot, so two bots on one site keep separate visitors and conversations. */
export function botStorage(bot: string): BotStorage {
  const prefix = `wisp:${bot}:`;
  const local = () => window.localStorage;
  const session = () => window.sessionStorage;
  return {
    get: (key) => read(local, prefix + key),
    set: (key, value) => write(local, prefix + key, value),
    getSession: (key) => read(session, prefix + key),
    setSession: (key, value) => write(session, prefix + key, value),
  };
}
