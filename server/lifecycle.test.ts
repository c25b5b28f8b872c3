import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from './test/api-client.js';
import { childPids, commandName, ServerProcess, waitUntilGone } from './test/server-process.js';

const KEY_LINE = /Admin API key \(shown once, keep it safe\): (sk_live_\w+)/;
const running: ServerProcess[] = [];
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wisp-lifecycle-'));
  tempDirs.push(dir);
  return dir;
}

/** Starts the server with only the environment given here (nothing inherited but PATH). */
function startServer(env: Record<string, string>, cwd: string): ServerProcess {
  const server = new ServerProcess(
    { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    cwd,
  );
  running.push(server);
  return server;
}

/** The embedded database child of a running server. */
function javaChildOf(server: ServerProcess): number {
  const java = childPids(server.pid).filter((pid) => commandName(pid) === 'java');
  expect(java, 'one java child').toHaveLength(1);
  return java[0]!;
}

async function botNames(url: string, key: string): Promise<string[]> {
  const res = await new ApiClient(url, key).get<Array<{ name: string }>>('/api/v1/chatbots?perPage=100');
  expect(res.status).toBe(200);
  return res.body.data.map((bot) => bot.name).sort();
}

/**
 * Sends a request's headers and the first half of its body, so the request is in flight.
 * `finish()` sends the rest and resolves with the raw response.
 */
function startSlowRequest(url: string, key: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const response = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  const sent = new Promise<void>((resolve) => {
    socket.once('connect', () => {
      socket.write(
        `POST /api/v1/chatbots HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${key}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
          body.slice(0, half),
        () => resolve(),
      );
    });
  });
  return {
    sent,
    finish: async () => {
      socket.write(body.slice(half));
      return response;
    },
  };
}

/** What a process wrote to stderr, without Node's runtime warnings (deprecations and the like). */
function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line && !/^\(node:\d+\) .*Warning: |^\(Use `node --trace-warnings/.test(line));
}

function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

// Not afterEach: the refusal tests run concurrently, and one finishing must not kill another's server.
afterAll(async () => {
  await Promise.all(running.splice(0).map((server) => server.kill()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the server process on the embedded database', () => {
  it('keeps acknowledged writes across SIGTERM, kill -9 of the server and kill -9 of the database', async () => {
    const cwd = tempDir();
    const env = { DATA_DIR: path.join(cwd, 'data'), SHUTDOWN_GRACE_MS: '5000' };

    // First start: prints the admin key once and answers /readyz with the engine and version.
    const coldStart = Date.now();
    let server = startServer(env, cwd);
    let url = await server.ready();
    const readyAfterMs = Date.now() - coldStart;
    const key = KEY_LINE.exec(server.stdout)?.[1];
    expect(key, 'the first-start admin key').toBeDefined();
    const admin = new ApiClient(url, key!);
    const ready = await admin.get<{ status: string; database: { engine: string; version: string } }>('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.data.database).toEqual({
      engine: 'mongo-java-server (H2)',
      version: expect.stringMatching(/^\d/),
    });
    // The first start may create bots of its own (a demo bot); those must survive too.
    const firstStartBots = await botNames(url, key!);
    const expectBots = async (...names: string[]) =>
      expect(await botNames(url, key!)).toEqual([...firstStartBots, ...names].sort());
    expect((await admin.post('/api/v1/chatbots', { name: 'Durable' })).status).toBe(201);
    let java = javaChildOf(server);

    // SIGTERM with a request in flight: no new connections, the request finishes, exit 0, no child left.
    const slow = startSlowRequest(url, key!, JSON.stringify({ name: 'In flight' }));
    await slow.sent;
    server.child.kill('SIGTERM');
    await server.waitForOutput(/"msg":"shutting down"/, 5_000);
    await expect
      .poll(() => connectionRefused(url), { message: 'new connections are refused', timeout: 10_000 })
      .toBe(true);
    expect(await slow.finish()).toMatch(/^HTTP\/1\.1 201 /);
    expect(await server.exit(30_000)).toEqual({ code: 0, signal: null });
    await waitUntilGone(java, 10_000);
    expect(errorLines(server.stderr)).toEqual([]);

    // Second start: no new key, both bots there. Then kill -9 of the server: the database child follows.
    const restart = Date.now();
    server = startServer(env, cwd);
    url = await server.ready();
    const restartMs = Date.now() - restart;
    expect(server.stdout).not.toMatch(KEY_LINE);
    await expectBots('Durable', 'In flight');
    java = javaChildOf(server);
    server.child.kill('SIGKILL');
    await server.exited;
    const childGoneAfterMs = await waitUntilGone(java, 5_000);

    // Third start: write, and kill -9 the database right after the write is acknowledged.
    server = startServer(env, cwd);
    url = await server.ready();
    await expectBots('Durable', 'In flight');
    expect((await new ApiClient(url, key!).post('/api/v1/chatbots', { name: 'Acknowledged' })).status).toBe(201);
    const databaseKilled = Date.now();
    process.kill(javaChildOf(server), 'SIGKILL');
    const died = await server.exit(30_000);
    const exitAfterDatabaseDeathMs = Date.now() - databaseKilled;
    expect(died.code).toBe(1);
    expect(server.stdout).toMatch(/"level":60,.*"msg":"The embedded database process exited unexpectedly/);

    // Fourth start: everything acknowledged is there.
    server = startServer(env, cwd);
    url = await server.ready();
    await expectBots('Acknowledged', 'Durable', 'In flight');
    java = javaChildOf(server);

    // A second server on the same DATA_DIR refuses in one line and leaves the first one serving.
    const second = startServer(env, cwd);
    expect((await second.exit(30_000)).code).toBe(1);
    expect(second.stderr).toMatch(/^wisp: The embedded database file .*wisp\.h2 is in use by another process .*\n$/);
    expect((await new ApiClient(url, key!).get('/readyz')).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exit(30_000)).toEqual({ code: 0, signal: null });
    await waitUntilGone(java, 10_000);

    console.info(
      `lifecycle: cold start to ready ${readyAfterMs} ms, restart to ready ${restartMs} ms, ` +
        `database child gone ${childGoneAfterMs} ms after kill -9 of the server, ` +
        `server exited ${exitAfterDatabaseDeathMs} ms after kill -9 of the database`,
    );
    // Four cold starts of the server and its database: minutes on a busy machine, seconds on an idle one.
  }, 240_000);
});

describe.concurrent('the server refusing to start', () => {
  /**
   * Starts the server and expects it to stop on its own with a non-zero exit and exactly one line on
   * stderr, returned. No clock is checked: the line says why it stopped (the driver's own give-up,
   * a refused connection), and the wait below only bounds a hung test.
   */
  async function failedStart(env: Record<string, string>): Promise<string> {
    const cwd = tempDir();
    const server = startServer({ DATA_DIR: path.join(cwd, 'data'), ...env }, cwd);
    const exit = await server.exit(80_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const lines = errorLines(server.stderr);
    expect(lines, server.stderr).toHaveLength(1);
    return lines[0]!;
  }

  it('when MONGODB_URI points at nothing, gives up by itself with one line naming the database', async () => {
    const line = await failedStart({ MONGODB_URI: 'mongodb://127.0.0.1:1/x' });
    expect(line).toMatch(/^wisp: Cannot reach the database at mongodb:\/\/127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
  }, 90_000);

  it('when PORT is not a number, stops with one line naming PORT', async () => {
    expect(await failedStart({ PORT: 'abc' })).toBe('wisp: Invalid PORT: must be a port number (0-65535)');
  }, 90_000);

  it('without java and without MONGODB_URI, says in one line that Java 17+ or MONGODB_URI is needed', async () => {
    const bin = path.join(tempDir(), 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const line = await failedStart({ PATH: bin });
    expect(line).toMatch(/^wisp: Java 17\+ is needed for the embedded database .*or set MONGODB_URI$/);
  }, 90_000);
});
