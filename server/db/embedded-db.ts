import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:db` puts the launcher's shaded jar. */
export const EMBEDDED_DB_JAR = fileURLToPath(new URL('../../embedded-db/target/wisp-embedded-db.jar', import.meta.url));

export interface EmbeddedDbOptions {
  /** H2 file to keep the data in; omit for the in-memory mode tests use. */
  file?: string;
  /** Called once if the child exits while we still need it. */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  startTimeoutMs?: number;
  /** Loopback port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** The launcher's jar: the built one by default (a bench may compare another build). */
  jar?: string;
}

export interface EmbeddedDb {
  uri: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * The JVM's JIT compiler threads 10 nice levels below this process (Linux), every other thread at this process's own. A
 * fresh JVM compiles its hot paths while the first real traffic runs, and those compiles (C2 above all) took 3–6 ms of
 * the database's CPU per turn of a first burst, on the cores the server needs: at a lower priority they run when a core
 * has room, while the commands run their first-tier code. They are not starved: under a sustained load they still get
 * about a tenth of a busy core, and the database's CPU per turn over a minute of chat load stayed where it was
 * (bench/README.md, "Widget sockets"). `ThreadPriorityPolicy=1` lets the JVM set native priorities on Linux; its
 * default table would put some threads below nice 0 as root, so every Java priority is mapped to this process's nice
 * value. An unprivileged JVM warns on stderr that raising a priority may be refused; nothing here raises one.
 */
function compilerPriority(): string[] {
  if (process.platform !== 'linux') return [];
  const nice = getPriority();
  return [
    '-XX:ThreadPriorityPolicy=1',
    `-XX:CompilerThreadPriority=${Math.min(19, nice + 10)}`,
    ...Array.from({ length: 10 }, (_, i) => `-XX:JavaPriority${i + 1}_To_OSPriority=${nice}`),
  ];
}

/** A failure to start the embedded database, with a one-line message for the operator. */
export class EmbeddedDbError extends Error {
  override name = 'EmbeddedDbError';
}

/**
 * Starts mongo-java-server as a child process on a free loopback port.
 * The child's stdin stays a pipe: when this process dies the pipe closes and the child exits.
 */
export async function startEmbeddedDb(options: EmbeddedDbOptions = {}): Promise<EmbeddedDb> {
  const jar = options.jar ?? EMBEDDED_DB_JAR;
  if (!existsSync(jar)) {
    throw new EmbeddedDbError(
      `The embedded database is not built (${path.relative(process.cwd(), jar)} is missing): run \`npm run build:db\`, or set MONGODB_URI`,
    );
  }
  const args = ['-Xss1m', '-XX:+UseSerialGC', ...compilerPriority(), '-jar', jar];
  args.push('--host', '127.0.0.1', '--port', String(options.port ?? 0));
  if (options.file) {
    mkdirSync(path.dirname(options.file), { recursive: true });
    args.push('--file', options.file);
  } else {
    args.push('--memory');
  }
  const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderrTail.push(text);
    if (stderrTail.length > 20) stderrTail.shift();
    // The launcher's opt-in command trace (EMBEDDED_DB_TRACE=1) is meant to be read.
    if (process.env.EMBEDDED_DB_TRACE === '1') process.stderr.write(text);
  });

  const uri = await waitForUri(child, options.startTimeoutMs ?? 60_000, stderrTail, options.file);
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) options.onUnexpectedExit?.(code, signal);
  });

  return {
    uri,
    pid: child.pid,
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

function waitForUri(
  child: ChildProcess,
  timeoutMs: number,
  stderrTail: string[],
  file: string | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const fail = (message: string) => {
      clearTimeout(timer);
      lines.close();
      child.kill('SIGKILL');
      reject(new EmbeddedDbError(message));
    };
    const timer = setTimeout(() => fail(`The embedded database did not start within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      fail(
        error.code === 'ENOENT'
          ? 'Java 17+ is needed for the embedded database (java was not found on PATH), or set MONGODB_URI'
          : `The embedded database could not start: ${error.message}`,
      );
    });
    // 'close', not 'exit': by then stderr is read to its end, so the reason is not lost.
    child.once('close', (code) => {
      const stderr = stderrTail.join('');
      if (stderr.includes('UnsupportedClassVersionError')) {
        fail('Java 17+ is needed for the embedded database (the java on PATH is older), or set MONGODB_URI');
        return;
      }
      if (stderr.includes('The file is locked')) {
        fail(`The embedded database file ${file} is in use by another process (another server on the same DATA_DIR?)`);
        return;
      }
      const reason = stderr.trim().split('\n').pop() ?? '';
      fail(`The embedded database exited during start (code ${code}): ${reason}`);
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('close');
      child.removeAllListeners('error');
      // Later stdout lines are not expected; keep draining so the pipe never blocks the child.
      lines.on('line', () => undefined);
      if (!line.startsWith('mongodb://')) {
        reject(new EmbeddedDbError(`The embedded database printed an unexpected line: ${line}`));
        return;
      }
      resolve(line.trim());
    });
  });
}

/** Asks the child to commit and exit (stdin EOF, then SIGTERM), killing it if it hangs. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
