import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseEnv, readEnvironment } from './config.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wisp-config-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configErrorOf(env: Record<string, string>): string {
  try {
    parseEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv', () => {
  it('fills in the documented defaults from an empty environment', () => {
    const config = parseEnv({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      ALLOW_PRIVATE_URLS: false,
      SHUTDOWN_GRACE_MS: 10_000,
      MONTHLY_MESSAGE_QUOTA: 10_000,
    });
    expect(config.MONGODB_URI).toBeUndefined();
    expect(config.SECRET_KEY).toBeUndefined();
  });

  it('when PORT is not a number, names PORT in one line', () => {
    const message = configErrorOf({ PORT: 'abc' });
    expect(message).toBe('Invalid PORT: must be a port number (0-65535)');
    expect(message).not.toContain('\n');
  });

  it.each(['1e3', '0x10', '3000.5', '-1', '65536'])('refuses PORT=%s rather than guessing a port', (port) => {
    expect(configErrorOf({ PORT: port })).toMatch(/^Invalid PORT: /);
  });

  it('accepts PORT=0 for a free port', () => {
    expect(parseEnv({ PORT: '0' }).PORT).toBe(0);
  });

  it('refuses a MONGODB_URI that is not a mongodb:// connection string, naming the variable', () => {
    expect(configErrorOf({ MONGODB_URI: 'postgres://127.0.0.1/x' })).toBe(
      'Invalid MONGODB_URI: must be a mongodb:// or mongodb+srv:// connection string',
    );
    expect(configErrorOf({ MONGODB_URI: 'mongodb://' })).toMatch(/^Invalid MONGODB_URI: /);
  });

  it.each([
    'mongodb://127.0.0.1:27017/wisp',
    'mongodb://user:p%40ss@db1:27017,db2:27017,db3:27017/wisp?replicaSet=rs0',
    'mongodb+srv://user:pass@cluster0.example.mongodb.net/wisp?retryWrites=true',
  ])('accepts the MONGODB_URI %s', (uri) => {
    expect(parseEnv({ MONGODB_URI: uri }).MONGODB_URI).toBe(uri);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads ALLOW_PRIVATE_URLS=%s as %s', (value, expected) => {
    expect(parseEnv({ ALLOW_PRIVATE_URLS: value }).ALLOW_PRIVATE_URLS).toBe(expected);
  });

  it('refuses ALLOW_PRIVATE_URLS=maybe, naming the variable', () => {
    expect(configErrorOf({ ALLOW_PRIVATE_URLS: 'maybe' })).toBe('Invalid ALLOW_PRIVATE_URLS: must be true or false');
  });

  it('treats empty and blank values as unset', () => {
    const config = parseEnv({ PORT: '', MONGODB_URI: '', LOG_LEVEL: '  ', ALLOW_PRIVATE_URLS: '' });
    expect(config.PORT).toBe(3000);
    expect(config.MONGODB_URI).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('refuses a SECRET_KEY shorter than 32 characters', () => {
    expect(configErrorOf({ SECRET_KEY: 'short' })).toMatch(/^Invalid SECRET_KEY: must be at least 32 characters/);
  });

  it('reads WIDGET_TURN_CONCURRENCY, 16 by default', () => {
    expect(parseEnv({}).WIDGET_TURN_CONCURRENCY).toBe(16);
    expect(parseEnv({ WIDGET_TURN_CONCURRENCY: '1' }).WIDGET_TURN_CONCURRENCY).toBe(1);
    expect(parseEnv({ WIDGET_TURN_CONCURRENCY: '64' }).WIDGET_TURN_CONCURRENCY).toBe(64);
    expect(parseEnv({ WIDGET_TURN_CONCURRENCY: '1024' }).WIDGET_TURN_CONCURRENCY).toBe(1024);
  });

  it.each(['0', '1025', '-1', '1e3', '0x10', '8.5', 'many'])(
    'refuses WIDGET_TURN_CONCURRENCY=%s, naming the variable and the range',
    (value) => {
      expect(configErrorOf({ WIDGET_TURN_CONCURRENCY: value })).toBe(
        'Invalid WIDGET_TURN_CONCURRENCY: must be a whole number from 1 to 1024',
      );
    },
  );

  it('refuses an unknown LOG_LEVEL, naming the variable', () => {
    expect(configErrorOf({ LOG_LEVEL: 'loud' })).toMatch(/^Invalid LOG_LEVEL: /);
  });
});

describe('loadConfig', () => {
  it('generates SECRET_KEY once into DATA_DIR/secret.key (mode 600) and reuses it', () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const first = loadConfig({ DATA_DIR: dataDir });
    const file = path.join(dataDir, 'secret.key');
    expect(first.SECRET_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.SECRET_KEY);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig({ DATA_DIR: dataDir }).SECRET_KEY).toBe(first.SECRET_KEY);
  });

  it('uses SECRET_KEY from the environment and writes no key file', () => {
    const dataDir = tempDir();
    const secret = 'x'.repeat(40);
    expect(loadConfig({ DATA_DIR: dataDir, SECRET_KEY: secret }).SECRET_KEY).toBe(secret);
    expect(() => statSync(path.join(dataDir, 'secret.key'))).toThrow();
  });

  it('refuses a key file that was cut short, naming SECRET_KEY', () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, 'secret.key'), 'abc\n');
    expect(() => loadConfig({ DATA_DIR: dataDir })).toThrow(/^Invalid SECRET_KEY: .*fewer than 32 characters/);
  });

  it('when DATA_DIR cannot be created, names DATA_DIR', () => {
    const blocker = path.join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    expect(() => loadConfig({ DATA_DIR: path.join(blocker, 'data') })).toThrow(/^Invalid DATA_DIR: /);
  });

  it('resolves DATA_DIR to an absolute path', () => {
    const dataDir = tempDir();
    const relative = path.relative(process.cwd(), dataDir);
    expect(loadConfig({ DATA_DIR: relative }).DATA_DIR).toBe(dataDir);
  });
});

describe('readEnvironment', () => {
  it('reads a .env file, with the process environment winning and empty variables not hiding the file', () => {
    const file = path.join(tempDir(), '.env');
    writeFileSync(file, 'PORT=4000\nLOG_LEVEL=debug\nOPENAI_MODEL=from-file\n# a comment\nHOST=0.0.0.0\n');
    const env = readEnvironment(file, { PORT: '5000', OPENAI_MODEL: '', PATH: '/bin' });
    expect(env).toMatchObject({
      PORT: '5000',
      LOG_LEVEL: 'debug',
      OPENAI_MODEL: 'from-file',
      HOST: '0.0.0.0',
      PATH: '/bin',
    });
    expect(parseEnv(env)).toMatchObject({ PORT: 5000, LOG_LEVEL: 'debug', HOST: '0.0.0.0' });
  });

  it('without a .env file, is the process environment', () => {
    const env = readEnvironment(path.join(tempDir(), '.env'), { PORT: '5000' });
    expect(env).toEqual({ PORT: '5000' });
  });
});
