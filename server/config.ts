import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .url({ message: 'must be a URL' })
    .refine((value) => protocols.some((p) => value.startsWith(`${p}:`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    })
    .optional();

/** Every setting the server reads, all from the environment (or `.env`), parsed once at boot. */
export const configSchema = z.object({
  PORT: z.coerce
    .number({ message: 'must be a port number' })
    .int({ message: 'must be a whole number' })
    .min(0, { message: 'must be between 0 and 65535' })
    .max(65535, { message: 'must be between 0 and 65535' })
    .default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: optionalUrl(['http', 'https']),
  MONGODB_URI: optionalUrl(['mongodb', 'mongodb+srv']),
  DATA_DIR: z.string().min(1).default('./data'),
  SECRET_KEY: z
    .string()
    .min(32, { message: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: optionalUrl(['http', 'https']),
  OPENAI_MODEL: z.string().min(1).optional(),
  OPENAI_EMBEDDING_MODEL: z.string().min(1).optional(),
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  ALLOW_PRIVATE_URLS: booleanFromEnv.default(false),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  MODEL_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(300),
  MONTHLY_MESSAGE_QUOTA: z.coerce.number().int().min(1).default(10_000),
});

type ParsedEnv = z.infer<typeof configSchema>;

/** The server's settings after parsing; `secretKey` is always set. */
export type Config = Omit<ParsedEnv, 'SECRET_KEY'> & { SECRET_KEY: string };

/** A setting that cannot be used; `message` is one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` without side effects; throws {@link ConfigError} naming the first bad variable. */
export function parseEnv(env: Record<string, string | undefined>): ParsedEnv {
  // Empty strings are treated as unset, so `FOO=` in a .env file does not fail validation.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`Invalid ${variable}: ${issue?.message ?? 'invalid value'}`);
  }
  return result.data;
}

/**
 * Reads the secret key from DATA_DIR, creating it once, so encrypted values and
 * signed tokens survive restarts without the operator having to set SECRET_KEY.
 */
function ensureSecretKey(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Parses the environment and fills in derived values (the secret key). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = parseEnv(env);
  const dataDir = path.resolve(parsed.DATA_DIR);
  const secretKey = parsed.SECRET_KEY ?? ensureSecretKey(dataDir);
  return { ...parsed, DATA_DIR: dataDir, SECRET_KEY: secretKey };
}

/** The process environment over the values of a `.env` file in the working directory, if any. */
export function readEnvironment(): Record<string, string | undefined> {
  const file = path.resolve('.env');
  const fromFile = existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}
