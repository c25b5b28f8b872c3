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

// Digits only, like PORT: a count of requests or messages, where 0 means unlimited.
const limitFromEnv = z
  .string()
  .regex(/^\d{1,12}$/, { message: 'must be a whole number (0 = unlimited)' })
  .transform(Number);
const widgetLimit = (fallback: number) => limitFromEnv.default(fallback);

/** Every setting the server reads, all from the environment (or `.env`), parsed once at boot. */
export const configSchema = z.object({
  // Digits only: coercion would take " " as 0 (a random port) and "1e3" as 1000.
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, { message: 'must be a port number (0-65535)' })
    .transform(Number)
    .pipe(z.number().max(65535, { message: 'must be a port number (0-65535)' }))
    .default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: optionalUrl(['http', 'https']),
  // Not a WHATWG URL: a replica set lists several host:port pairs (mongodb://h1:27017,h2:27017/db).
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/[^/?#\s]+/, { message: 'must be a mongodb:// or mongodb+srv:// connection string' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SECRET_KEY: z
    .string()
    .min(32, { message: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
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
  /** The longest an end-user JWT (`userToken`) may live; longer ones are refused. */
  END_USER_TOKEN_MAX_LIFETIME_MS: z.coerce.number().int().min(60_000).max(31_536_000_000).default(86_400_000),
  /** How long an owner console sign-in lasts. */
  CONSOLE_SESSION_TTL_MS: z.coerce.number().int().min(60_000).max(2_592_000_000).default(43_200_000),
  /** How long a streaming answer may go unheard from before it counts as left by a stopped server. */
  ANSWER_LEASE_MS: z.coerce.number().int().min(200).max(600_000).default(15_000),
  /** How long a running `Idempotency-Key` request holds its key unrenewed (it renews it every third of this). */
  IDEMPOTENCY_LOCK_MS: z.coerce.number().int().min(300).max(600_000).default(30_000),
  ANALYTICS_RECONCILE_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  ANALYTICS_RECONCILE_POLL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  AGENT_LOOP_LEASE_MS: z.coerce.number().int().min(200).max(3_600_000).default(30_000),
  AGENT_LOOP_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  // Plans: per-key request limits and monthly message quotas; 0 means unlimited.
  RATE_LIMIT_FREE_PER_MINUTE: limitFromEnv.default(60),
  RATE_LIMIT_FREE_PER_SECOND: limitFromEnv.default(10),
  RATE_LIMIT_PRO_PER_MINUTE: limitFromEnv.default(600),
  RATE_LIMIT_PRO_PER_SECOND: limitFromEnv.default(50),
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: limitFromEnv.default(6_000),
  RATE_LIMIT_ENTERPRISE_PER_SECOND: limitFromEnv.default(200),
  /** Per IP on the public (widget) routes and on attempts without a valid key. */
  PUBLIC_RATE_LIMIT_PER_MINUTE: limitFromEnv.default(120),
  /** The free plan's quota unless MONTHLY_MESSAGE_QUOTA_FREE is set (kept from before plans had their own). */
  MONTHLY_MESSAGE_QUOTA: limitFromEnv.default(10_000),
  MONTHLY_MESSAGE_QUOTA_FREE: limitFromEnv.optional(),
  MONTHLY_MESSAGE_QUOTA_PRO: limitFromEnv.default(100_000),
  MONTHLY_MESSAGE_QUOTA_ENTERPRISE: limitFromEnv.default(1_000_000),
  /** Comma-separated IPs or CIDRs that URL sources may fetch although private (e.g. an intranet docs host). */
  URL_FETCH_ALLOWED_ADDRESSES: z.string().max(2_000).default(''),
  KNOWLEDGE_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1_024).max(15_000_000).default(10_000_000),
  KNOWLEDGE_FETCH_MAX_BYTES: z.coerce.number().int().min(1_024).max(50_000_000).default(5_000_000),
  KNOWLEDGE_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  KNOWLEDGE_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(32),
  /** Page fetches, file extractions and embedding requests at once per server, whatever the job concurrency. */
  KNOWLEDGE_FETCH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  KNOWLEDGE_JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  KNOWLEDGE_JOB_BACKOFF_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  KNOWLEDGE_JOB_LEASE_MS: z.coerce.number().int().min(200).max(3_600_000).default(60_000),
  KNOWLEDGE_JOB_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  WEBHOOK_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Waits before each retry of a failing delivery, in ms (about a day in all by default). */
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .regex(/^\d{1,9}(,\d{1,9}){0,19}$/, { message: 'must be comma-separated whole milliseconds, e.g. 5000,300000' })
    .default('5000,300000,1800000,7200000,18000000,36000000')
    .transform((list) => list.split(',').map(Number)),
  /** An endpoint whose every delivery failed for this long is disabled (3 days). */
  WEBHOOK_DISABLE_AFTER_MS: z.coerce.number().int().min(1_000).default(259_200_000),
  WEBHOOK_LEASE_MS: z.coerce.number().int().min(200).max(3_600_000).default(60_000),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  // Widget flood limits (0 = unlimited, e.g. for benchmarks); counted in Redis when REDIS_URL is set.
  WIDGET_CONNECTS_PER_IP_PER_MINUTE: widgetLimit(60),
  /** Messages one visitor may send within 10 seconds. */
  WIDGET_MESSAGES_BURST_PER_VISITOR: widgetLimit(5),
  WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: widgetLimit(12),
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: widgetLimit(30),
  /** A ceiling on one bot's widget messages, so a flood cannot spend the owner's quota. */
  WIDGET_MESSAGES_PER_BOT_PER_MINUTE: widgetLimit(600),
  /** Every widget socket event (sends, history, feedback, leads) from one address. */
  WIDGET_EVENTS_PER_IP_PER_MINUTE: widgetLimit(300),
  WIDGET_CONFIG_PER_IP_PER_MINUTE: widgetLimit(60),
  /** Lead submissions from one address, over the socket and the HTTP route together. */
  WIDGET_LEADS_PER_IP_PER_MINUTE: widgetLimit(10),
  /**
   * Widget turns being stored at once per server (from the send until the turn is stored); later sends
   * wait their turn in arrival order. Digits only, as PORT: "1e3" or "0x10" is refused, not guessed.
   */
  WIDGET_TURN_CONCURRENCY: z
    .string()
    .regex(/^\d{1,4}$/, { message: 'must be a whole number from 1 to 1024' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, { message: 'must be a whole number from 1 to 1024' })
        .max(1024, { message: 'must be a whole number from 1 to 1024' }),
    )
    .default(16),
  // Messaging channels: each platform's API base URL (tests point them at loopback fakes) and reply retries.
  TELEGRAM_API_BASE_URL: optionalUrl(['http', 'https']).default('https://api.telegram.org'),
  SLACK_API_BASE_URL: optionalUrl(['http', 'https']).default('https://slack.com/api'),
  WHATSAPP_API_BASE_URL: optionalUrl(['http', 'https']).default('https://graph.facebook.com/v21.0'),
  CHANNEL_REPLY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  CHANNEL_REPLY_BACKOFF_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
  /** How long a reply job a stopped process held waits before another process retakes it. */
  CHANNEL_REPLY_LEASE_MS: z.coerce.number().int().min(200).max(600_000).default(30_000),
  /** How long a webhook channel's synchronous (`"reply": "sync"`) delivery waits for its answer. */
  CHANNEL_SYNC_REPLY_WAIT_MS: z.coerce.number().int().min(100).max(60_000).default(25_000),
  /** Bots whose search indexes stay in memory; the least recently asked leave first. */
  KNOWLEDGE_INDEX_CACHE_BOTS: z.coerce.number().int().min(1).max(100_000).default(200),
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
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim()));
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
  let key: string;
  try {
    mkdirSync(dataDir, { recursive: true });
    // `wx`: when the server and a CLI start together, only one writes and both read the same key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(
        `Invalid DATA_DIR: cannot keep the generated SECRET_KEY there (${(error as Error).message})`,
      );
    }
  }
  try {
    key = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`Invalid DATA_DIR: cannot read the generated SECRET_KEY (${(error as Error).message})`);
  }
  if (key.length < 32) throw new ConfigError(`Invalid SECRET_KEY: ${file} holds fewer than 32 characters`);
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
export function readEnvironment(
  file = path.resolve('.env'),
  env: Record<string, string | undefined> = process.env,
): Record<string, string | undefined> {
  const fromFile = existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
  // An empty variable counts as unset, so it does not hide the file's value.
  const set = Object.entries(env).filter(([, value]) => value?.trim());
  return { ...fromFile, ...Object.fromEntries(set) };
}
