import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { API_KEY_SCOPES } from '../../shared/api-key-scopes.js';
import { startEmbeddedDb } from '../db/embedded-db.js';
import { embeddedDbFile, publishEmbeddedUri, withdrawEmbeddedUri } from '../db/embedded-uri-file.js';
import { ApiClient } from '../test/api-client.js';
import { startTestApp, type TestApp } from '../test/test-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY_LINE = /shown once, keep it safe\): (sk_live_[0-9A-Za-z]{32,})$/m;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scripts/<tool>.ts` as `npm run <tool>` would, with only the environment given here. */
async function cli(tool: 'org' | 'keys', args: string[], env: Record<string, string>): Promise<CliResult> {
  const run = promisify(execFile);
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `scripts/${tool}.ts`, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', SECRET_KEY: 'cli-test-secret-key-cli-test-secret-key', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

// Each test spawns the CLI several times (tsx start-up each time), which a loaded machine slows to seconds apiece.
describe('the org and keys scripts against MONGODB_URI', { timeout: 90_000 }, () => {
  let t: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/${t.connection.name}`;
    env = { MONGODB_URI: uri.toString(), DATA_DIR: mkdtempSync(path.join(tmpdir(), 'wisp-cli-')) };
  });
  afterAll(async () => {
    await t.stop();
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  it('creates an organization and prints its admin key once; the key works on the running app', async () => {
    const created = await cli('org', ['create', 'Acme Inc', '--plan', 'pro'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const orgId = /Created organization ([0-9a-f]{24}) "Acme Inc" \(plan pro\)/.exec(created.stdout)?.[1];
    const adminKey = KEY_LINE.exec(created.stdout)?.[1];
    expect(orgId).toBeDefined();
    const res = await new ApiClient(t.url, adminKey!).post('/api/v1/chatbots', { name: 'From the CLI' });
    expect(res.status).toBe(201);

    const listed = await cli('org', ['list'], env);
    expect(listed.stdout).toMatch(
      new RegExp(`^${orgId}\\s+pro\\s+600/min 50/s 100000 messages/month\\s+Acme Inc$`, 'm'),
    );
  });

  it('creates a scoped key for the only organization, lists it and revokes it', async () => {
    const created = await cli('keys', ['create', '--scopes', 'chat,knowledge:read', '--name', 'Website'], env);
    expect(created.code).toBe(0);
    const keyId = /Created API key ([0-9a-f]{24}) "Website"/.exec(created.stdout)?.[1];
    const key = KEY_LINE.exec(created.stdout)?.[1];
    expect(created.stdout).toContain('with scopes chat, knowledge:read');
    const client = new ApiClient(t.url, key!);
    expect((await client.get('/api/v1/chatbots')).status).toBe(200);
    expect((await client.post('/api/v1/chatbots', { name: 'x' })).status).toBe(403);

    const listed = await cli('keys', ['list'], env);
    expect(listed.stdout).toMatch(
      new RegExp(`^${keyId}\\s+sk_live_\\w+…\\s+active\\s+chat,knowledge:read\\s+Website$`, 'm'),
    );
    expect(listed.stdout).not.toContain(key);

    const revoked = await cli('keys', ['revoke', keyId!], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API key ${keyId}`);
    // The running app remembers resolved keys for a few seconds; the revocation reaches it within that time.
    await vi.waitFor(async () => expect((await client.get('/api/v1/chatbots')).status).toBe(401), {
      timeout: 8_000,
      interval: 250,
    });
  });

  it('prints a one-time console link that signs in once with admin rights', async () => {
    const org = await t.createOrg('Console link');
    const printed = await cli('org', ['console-link', org.id], {
      ...env,
      PUBLIC_URL: 'https://wisp.example.com',
    });
    expect(printed.stderr).toBe('');
    const token = /^https:\/\/wisp\.example\.com\/console\/#link=([A-Za-z0-9_-]{40,})$/m.exec(printed.stdout)?.[1];
    expect(token).toBeDefined();
    const anonymous = new ApiClient(t.url, null);
    const first = await anonymous.post<{ scopes: string[]; organizationId: string }>('/api/v1/console/sessions', {
      link: token,
    });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({ scopes: ['admin'], organizationId: org.id });
    expect((await anonymous.post('/api/v1/console/sessions', { link: token })).status).toBe(401);
  });

  it('explains bad input in one line and exits 1', async () => {
    await t.createOrg('A second organization');
    const [unknownScope, ambiguous, badOrg, noKey, badOption] = await Promise.all([
      cli('keys', ['create', '--scopes', 'chat,root'], env),
      cli('keys', ['create', '--scopes', 'chat'], env),
      cli('keys', ['list', '--org', 'acme'], env),
      cli('keys', ['revoke', '0123456789abcdef01234567'], env),
      cli('org', ['create', 'X', '--colour', 'red'], env),
    ]);
    expect(unknownScope.stderr).toBe(`keys: Unknown scope "root": valid scopes are ${API_KEY_SCOPES.join(', ')}\n`);
    expect(ambiguous.stderr).toMatch(/^keys: There are several organizations: pass --org <id>/);
    expect(badOrg.stderr).toMatch(/^keys: --org must be an organization id/);
    expect(noKey.stderr).toBe('keys: No API key with id 0123456789abcdef01234567\n');
    expect(badOption.stderr).toMatch(/^org: Unknown option '--colour'/);
    for (const result of [unknownScope, ambiguous, badOrg, noKey, badOption]) {
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('puts an organization on a plan with its own limits, which the API then applies', async () => {
    const created = await cli('org', ['create', 'Big Co'], env);
    const orgId = /Created organization ([0-9a-f]{24})/.exec(created.stdout)![1]!;
    const set = await cli(
      'org',
      ['set-plan', orgId, 'enterprise', '--per-minute', '5000', '--burst', '0', '--monthly-messages', '1000000'],
      env,
    );
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain(
      `Organization ${orgId} "Big Co" is on plan enterprise: 5000/min* unlimited/s* 1000000 messages/month*.`,
    );
    const listed = await cli('org', ['list'], env);
    expect(listed.stdout).toMatch(
      new RegExp(`^${orgId}\\s+enterprise\\s+5000/min\\* unlimited/s\\* 1000000 messages/month\\*\\s+Big Co$`, 'm'),
    );

    const key = await t.app.services.apiKeys.create(orgId, 'After the change', ['admin']);
    const res = await new ApiClient(t.url, key.key).get<{ plan: string; messages: { limit: number } }>('/api/v1/usage');
    expect(res.body.data.plan).toBe('enterprise');
    expect(res.body.data.messages.limit).toBe(1_000_000);

    const cleared = await cli('org', ['set-plan', orgId, 'pro', '--monthly-messages', 'default'], env);
    expect(cleared.stdout).toContain('is on plan pro: 5000/min* unlimited/s* 100000 messages/month.');
    const bad = await cli('org', ['set-plan', orgId, 'gold'], env);
    expect(bad.stderr).toMatch(/^org: Unknown plan "gold": valid plans are free, pro, enterprise/);
  }, 120_000);
});

describe('the org script on the embedded database', { timeout: 90_000 }, () => {
  it('uses the address a running server published, and says what to do when the file is held', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-cli-embedded-'));
    // Stands in for a running server: it holds the H2 file and publishes its address.
    const server = await startEmbeddedDb({ file: embeddedDbFile(dataDir) });
    try {
      publishEmbeddedUri(dataDir, server.uri);
      const created = await cli('org', ['create', 'Shared file'], { DATA_DIR: dataDir });
      expect(created.stderr).toBe('');
      expect(created.stdout).toMatch(KEY_LINE);

      withdrawEmbeddedUri(dataDir);
      const held = await cli('org', ['list'], { DATA_DIR: dataDir });
      expect(held.code).toBe(1);
      expect(held.stderr).toMatch(/^org: Cannot open the embedded database .*stop it, or set MONGODB_URI\n$/);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the org and keys scripts without the server’s database', { timeout: 90_000 }, () => {
  it('refuse to create a new empty embedded database, naming the data directory and how to proceed', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-cli-empty-'));
    try {
      const [org, keys] = await Promise.all([
        cli('org', ['create', 'Lost'], { DATA_DIR: dataDir }),
        cli('keys', ['list'], { DATA_DIR: dataDir }),
      ]);
      for (const [tool, result] of [
        ['org', org],
        ['keys', keys],
      ] as const) {
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `${tool}: No database in DATA_DIR ${dataDir} (no wisp.h2 there and no server running on it). Run this with the server’s DATA_DIR (or MONGODB_URI), or pass --create-database to create a new empty database there\n`,
        );
      }
      expect(existsSync(embeddedDbFile(dataDir))).toBe(false);

      const created = await cli('org', ['create', 'Fresh', '--create-database'], { DATA_DIR: dataDir });
      expect(created.stderr).toBe('');
      expect(created.stdout).toMatch(KEY_LINE);
      // Once it exists, it is the database: no flag needed.
      const listed = await cli('org', ['list'], { DATA_DIR: dataDir });
      expect(listed.stdout).toMatch(/\sFresh$/m);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuse an empty database at MONGODB_URI, naming it', async () => {
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/wisp_test_cli_empty_${process.pid}`;
    const refused = await cli('org', ['list'], { MONGODB_URI: uri.toString() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`^org: The database "wisp_test_cli_empty_${process.pid}" at MONGODB_URI is empty .*--create-database`),
    );
  });
});
