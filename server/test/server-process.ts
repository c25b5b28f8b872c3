import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The server's entry point, run the way `npm start` runs it. */
const ENTRY = fileURLToPath(new URL('../index.ts', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The real server as a child process, with what it has written so far. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';

  constructor(env: Record<string, string>, cwd: string) {
    this.child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), ENTRY], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first match of `pattern` on stdout; fails on exit or after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const started = Date.now();
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (exited || Date.now() - started > timeoutMs) {
        throw new Error(`no ${pattern} on stdout (exited: ${exited})\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await sleep(25);
    }
  }

  /** Waits for the "listening" log line and returns the server's base URL. */
  async ready(timeoutMs = 30_000): Promise<string> {
    const match = await this.waitForOutput(/"url":"(http:\/\/[^"]+)","msg":"Wisp is listening/, timeoutMs);
    return match[1]!;
  }

  /** Resolves with the exit, or fails after `timeoutMs`. */
  async exit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${timeoutMs} ms\nstderr: ${this.stderr}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if it still runs (for cleanup after a failed test). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** The ids of the processes `pid` started that are still running (Linux: from /proc). */
export function childPids(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  return readdirSync(tasks).flatMap((task) => {
    try {
      return readFileSync(`${tasks}/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // The thread ended between listing and reading.
      return [];
    }
  });
}

/** True when `pid` has ended; a zombie nobody has reaped yet counts as ended. */
export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Polls until `pid` has ended; returns how long that took, or fails after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!isGone(pid)) {
    if (Date.now() - started > timeoutMs) throw new Error(`process ${pid} still runs after ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

/** The name of a running process, e.g. `java`. */
export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
