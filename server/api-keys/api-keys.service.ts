import { hash as digest, randomInt } from 'node:crypto';
import { Types } from 'mongoose';
import type { ApiKeyDto, ApiKeyScope, CreatedApiKeyDto } from '../../shared/schemas/api-keys.js';
import { AppError } from '../errors/app-error.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import type { OrganizationSettingsLookup } from '../organizations/organization-settings.js';
import type { ApiKeyModel } from './api-key.model.js';
import { planOf, type LimitOverrides, type Plan } from '../organizations/plans.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PREFIX = 'sk_live_';
const KEY_RANDOM_LENGTH = 40;
const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * Resolved keys are remembered this long, saving two reads on every request. A revocation
 * on this node takes effect at once; on other nodes within this time.
 */
const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_MAX = 10_000;

/** The caller an API key identifies, as routes see it. */
export interface ApiKeyPrincipal {
  keyId: string;
  organizationId: string;
  plan: Plan;
  /** The organization's own request limits, over its plan's (null = the plan's). */
  rateLimits: Pick<LimitOverrides, 'perMinute' | 'burstPerSecond'>;
  scopes: ApiKeyScope[];
}

export function hashApiKey(key: string): string {
  // The one-shot digest: no Hash object per request.
  return digest('sha256', key, 'hex');
}

function generateKey(): string {
  let random = '';
  for (let i = 0; i < KEY_RANDOM_LENGTH; i += 1) random += BASE62[randomInt(BASE62.length)];
  return KEY_PREFIX + random;
}

type KeyRecord = {
  _id: Types.ObjectId;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
};

function toDto(doc: KeyRecord): ApiKeyDto {
  return {
    id: doc._id.toString(),
    name: doc.name,
    prefix: doc.prefix,
    scopes: doc.scopes as ApiKeyScope[],
    createdAt: doc.createdAt.toISOString(),
    lastUsedAt: doc.lastUsedAt ? doc.lastUsedAt.toISOString() : null,
    revokedAt: doc.revokedAt ? doc.revokedAt.toISOString() : null,
  };
}

/** Creates, lists, rotates and revokes API keys, and resolves a presented key to its principal. */
export class ApiKeysService {
  private readonly authCache = new Map<string, { principal: ApiKeyPrincipal; expiresAt: number }>();
  private readonly resolving = new Map<string, Promise<ApiKeyPrincipal>>();

  constructor(
    private readonly models: { ApiKey: ApiKeyModel },
    /** Asks the organizations capability for the key's organization (its plan and rate limits). */
    private readonly organizationSettings: OrganizationSettingsLookup,
  ) {}

  async create(organizationId: string, name: string, scopes: ApiKeyScope[]): Promise<CreatedApiKeyDto> {
    const key = generateKey();
    const doc = await this.models.ApiKey.create({
      organizationId: new Types.ObjectId(organizationId),
      name,
      hash: hashApiKey(key),
      prefix: key.slice(0, KEY_PREFIX.length + 6),
      scopes: [...new Set(scopes)],
    });
    return { ...toDto(doc), key };
  }

  async list(organizationId: string, page: number, perPage: number) {
    const filter = { organizationId: new Types.ObjectId(organizationId) };
    const { items: docs, total } = await findPage(
      this.models.ApiKey.find(filter).sort(NEWEST_FIRST).lean(),
      this.models.ApiKey.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toDto), total };
  }

  async get(organizationId: string, id: string): Promise<ApiKeyDto> {
    return toDto(await this.find(organizationId, id));
  }

  async revoke(organizationId: string, id: string): Promise<ApiKeyDto> {
    const doc = await this.find(organizationId, id);
    if (!doc.revokedAt) {
      doc.revokedAt = new Date();
      await doc.save();
    }
    this.forget(id);
    return toDto(doc);
  }

  /** Issues a new key with the same name and scopes and revokes the old one. */
  async rotate(organizationId: string, id: string): Promise<CreatedApiKeyDto> {
    const old = await this.find(organizationId, id);
    if (old.revokedAt)
      throw new AppError('ConflictError', { message: 'This key is revoked; create a new one instead' });
    const created = await this.create(organizationId, old.name, old.scopes as ApiKeyScope[]);
    old.revokedAt = new Date();
    await old.save();
    this.forget(id);
    return created;
  }

  /**
   * The principal of a well-formed key looked up less than the cache's lifetime ago, without a promise;
   * undefined when {@link authenticate} must decide.
   */
  cachedPrincipal(key: string): ApiKeyPrincipal | undefined {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) return undefined;
    const cached = this.authCache.get(hashApiKey(key));
    return cached && cached.expiresAt > Date.now() ? cached.principal : undefined;
  }

  /** Resolves a Bearer key; unknown and revoked keys both answer 401 with a message that says which. */
  async authenticate(key: string): Promise<ApiKeyPrincipal> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) {
      throw new AppError('UnauthorizedError', { message: 'The API key is malformed: keys start with sk_live_' });
    }
    const hash = hashApiKey(key);
    const cached = this.authCache.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    // Requests with the same key that miss together (at expiry, under load) share one lookup.
    const running = this.resolving.get(hash);
    if (running) return running;
    const resolving = this.resolve(hash).finally(() => {
      if (this.resolving.get(hash) === resolving) this.resolving.delete(hash);
    });
    this.resolving.set(hash, resolving);
    return resolving;
  }

  private async resolve(hash: string): Promise<ApiKeyPrincipal> {
    const doc = await this.models.ApiKey.findOne({ hash }).lean();
    if (!doc) throw new AppError('UnauthorizedError', { message: 'The API key is not valid' });
    const principal = await this.principalOf(doc);
    // A key revoked on this node while it was being looked up is not cached (the next request reads again).
    if (this.resolving.has(hash)) {
      if (this.authCache.size >= AUTH_CACHE_MAX) this.authCache.clear();
      this.authCache.set(hash, { principal, expiresAt: Date.now() + AUTH_CACHE_MS });
    }
    return principal;
  }

  /** The principal of a key known by id (a console session's key), refused once the key is revoked. */
  async authenticateKeyId(keyId: string): Promise<ApiKeyPrincipal> {
    const doc = Types.ObjectId.isValid(keyId) ? await this.models.ApiKey.findById(keyId).lean() : null;
    if (!doc) throw new AppError('UnauthorizedError', { message: 'The API key of this session no longer exists' });
    return this.principalOf(doc);
  }

  /** A principal of the organization with the given scopes, for callers not holding a key (a console link session). */
  async principalFor(organizationId: string, keyId: string, scopes: ApiKeyScope[]): Promise<ApiKeyPrincipal> {
    const org = await this.organizationSettings(organizationId);
    if (!org) throw new AppError('UnauthorizedError', { message: 'The organization of this session no longer exists' });
    return {
      keyId,
      organizationId,
      plan: planOf(org.plan),
      rateLimits: { perMinute: org.rateLimitPerMinute ?? null, burstPerSecond: org.rateLimitBurstPerSecond ?? null },
      scopes,
    };
  }

  /** The scopes of the given keys, by key id (console sessions list their keys' current scopes). */
  async scopesOf(ids: Types.ObjectId[]): Promise<Map<string, ApiKeyScope[]>> {
    if (ids.length === 0) return new Map();
    const docs = await this.models.ApiKey.find({ _id: { $in: ids } }, { scopes: 1 }).lean();
    return new Map(docs.map((doc) => [doc._id.toString(), doc.scopes as ApiKeyScope[]]));
  }

  private async principalOf(doc: {
    _id: Types.ObjectId;
    organizationId: Types.ObjectId;
    scopes: string[];
    lastUsedAt?: Date | null;
    revokedAt?: Date | null;
  }): Promise<ApiKeyPrincipal> {
    if (doc.revokedAt) throw new AppError('UnauthorizedError', { message: 'The API key has been revoked' });
    const principal = await this.principalFor(
      doc.organizationId.toString(),
      doc._id.toString(),
      doc.scopes as ApiKeyScope[],
    ).catch((error: unknown) => {
      throw error instanceof AppError
        ? new AppError('UnauthorizedError', { message: 'The API key is not valid' })
        : error;
    });
    const now = Date.now();
    if (!doc.lastUsedAt || now - doc.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // Best effort bookkeeping: a failure here must not fail the request it describes.
      void this.models.ApiKey.updateOne({ _id: doc._id }, { $set: { lastUsedAt: new Date(now) } }).catch(
        () => undefined,
      );
    }
    return principal;
  }

  private forget(keyId: string): void {
    for (const [hash, entry] of this.authCache) if (entry.principal.keyId === keyId) this.authCache.delete(hash);
    // Lookups in flight may have read the key before the revocation: they answer, but are not cached.
    this.resolving.clear();
  }

  private async find(organizationId: string, id: string) {
    const doc = Types.ObjectId.isValid(id)
      ? await this.models.ApiKey.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw new AppError('NotFoundError', { message: `No API key with id "${id}"` });
    return doc;
  }
}
