import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm run fake-llm', () => {
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    // Stands for the Wisp server holding the port that `PORT` names in the same shell.
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('listens on FAKE_LLM_PORT and ignores the server’s PORT exported in the same shell', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/fake-llm.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: String(busyPort), HOST: '127.0.0.1', FAKE_LLM_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const check = setInterval(() => {
          const match = /fake LLM at (http:\/\/\S+)/.exec(output);
          if (match) {
            clearInterval(check);
            resolve(match[1]!);
          }
        }, 25);
        void exited.then((code) => {
          clearInterval(check);
          reject(new Error(`exited with ${code}: ${output}`));
        });
      });
      expect(new URL(url).port).not.toBe(String(busyPort));
      const models = await fetch(`${url}/models`);
      expect(models.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
