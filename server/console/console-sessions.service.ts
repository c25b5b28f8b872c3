import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Types } from 'mongoose';
import type { ApiKeyScope } from '../../shared/schemas/api-keys.js';
import type {
  ConsoleSessionDto,
  CreateConsoleSessionInput,
  CurrentConsoleSessionDto,
} from '../../shared/schemas/console-sessions.js';
import type { ApiKeyPrincipal, ApiKeysService } from '../api-keys/api-keys.service.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError } from '../errors/app-error.js';
import type { ConsoleLinkModel, ConsoleSessionModel } from './console-session.model.js';

/** A link printed by the CLI is good for this long, and once. */
export const CONSOLE_LINK_TTL_MS = 15 * 60_000;
const LAST_USED_RESOLUTION_MS = 60_000;

/** The principal of a console session: a key's, plus the session it came from. */
export interface SessionPrincipal extends ApiKeyPrincipal {
  sessionId: string;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

type SessionRecord = {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
  keyId?: Types.ObjectId | null;
  scopes: string[];
  userAgent?: string | null;
  createdAt: Date;
  lastUsedAt?: Date | null;
  expiresAt: Date;
  revokedAt?: Date | null;
};

function toDto(doc: SessionRecord, scopes: ApiKeyScope[], currentId: string | null): ConsoleSessionDto {
  return {
    id: doc._id.toString(),
    keyId: doc.keyId ? doc.keyId.toString() : null,
    via: doc.keyId ? 'api-key' : 'link',
    scopes,
    userAgent: doc.userAgent ?? null,
    createdAt: doc.createdAt.toISOString(),
    lastUsedAt: doc.lastUsedAt ? doc.lastUsedAt.toISOString() : null,
    expiresAt: doc.expiresAt.toISOString(),
    revokedAt: doc.revokedAt ? doc.revokedAt.toISOString() : null,
    current: doc._id.toString() === currentId,
  };
}

/**
 * Owner console sessions: an API key (or a one-time link) exchanged for an opaque cookie token,
 * stored only as a hash, expiring and revocable. A session acts with its key's scopes as they are
 * now, so revoking the key ends the session too. The CSRF token is an HMAC of the session token:
 * only a page that could read the session's answer (same origin) can send it back.
 */
export class ConsoleSessionsService {
  constructor(
    private readonly models: { ConsoleSession: ConsoleSessionModel; ConsoleLink: ConsoleLinkModel },
    private readonly apiKeys: ApiKeysService,
    private readonly secret: string,
    private readonly ttlMs: number,
  ) {}

  csrfTokenOf(token: string): string {
    return createHmac('sha256', this.secret).update(`console-csrf:${token}`).digest('base64url');
  }

  checkCsrf(token: string, presented: string | undefined): void {
    const expected = Buffer.from(this.csrfTokenOf(token));
    const given = Buffer.from(presented ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('ForbiddenError', {
        message:
          'Missing or wrong X-CSRF-Token header: changes made with a console session must send the token it was given',
      });
    }
  }

  /** Opens a session; answers the cookie token (set by the route) and the session as the console sees it. */
  async create(
    input: CreateConsoleSessionInput,
    userAgent: string | null,
  ): Promise<{ token: string; session: CurrentConsoleSessionDto }> {
    let organizationId: string;
    let keyId: string | null = null;
    let scopes: ApiKeyScope[];
    if (input.apiKey !== undefined) {
      const principal = await this.apiKeys.authenticate(input.apiKey);
      ({ organizationId, keyId, scopes } = principal);
    } else {
      const link = await this.models.ConsoleLink.findOneAndUpdate(
        { tokenHash: sha256(input.link ?? ''), usedAt: null, expiresAt: { $gt: new Date() } },
        { $set: { usedAt: new Date() } },
      ).lean();
      if (!link) {
        throw new AppError('UnauthorizedError', {
          message:
            'This console link is not valid: it was used already or has expired. Print a new one with `npm run org -- console-link ORG_ID`',
        });
      }
      organizationId = link.organizationId.toString();
      scopes = ['admin'];
    }
    const token = newToken();
    const doc = await this.models.ConsoleSession.create({
      organizationId: new Types.ObjectId(organizationId),
      tokenHash: sha256(token),
      keyId: keyId ? new Types.ObjectId(keyId) : null,
      scopes: keyId ? [] : scopes,
      userAgent: userAgent?.slice(0, 300) ?? null,
      expiresAt: new Date(Date.now() + this.ttlMs),
      lastUsedAt: new Date(),
    });
    const session = toDto(doc, scopes, doc._id.toString());
    return { token, session: { ...session, organizationId, csrfToken: this.csrfTokenOf(token) } };
  }

  /** Resolves a cookie token to its principal; expired, revoked and unknown sessions answer 401. */
  async authenticate(token: string): Promise<SessionPrincipal> {
    const doc =
      token.length <= 100 ? await this.models.ConsoleSession.findOne({ tokenHash: sha256(token) }).lean() : null;
    if (!doc) throw new AppError('UnauthorizedError', { message: 'The console session is not valid: sign in again' });
    if (doc.revokedAt)
      throw new AppError('UnauthorizedError', { message: 'The console session was signed out: sign in again' });
    if (doc.expiresAt.getTime() <= Date.now()) {
      throw new AppError('UnauthorizedError', { message: 'The console session has expired: sign in again' });
    }
    const principal = doc.keyId
      ? await this.apiKeys.authenticateKeyId(doc.keyId.toString())
      : await this.apiKeys.principalFor(doc.organizationId.toString(), doc._id.toString(), doc.scopes as ApiKeyScope[]);
    const now = Date.now();
    if (!doc.lastUsedAt || now - doc.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // Best effort bookkeeping, like an API key's last use.
      void this.models.ConsoleSession.updateOne({ _id: doc._id }, { $set: { lastUsedAt: new Date(now) } }).catch(
        () => undefined,
      );
    }
    return { ...principal, sessionId: doc._id.toString() };
  }

  /** The session a cookie token names, with its CSRF token (the console asks on every page load). */
  async current(token: string): Promise<CurrentConsoleSessionDto> {
    const principal = await this.authenticate(token);
    const doc = await this.models.ConsoleSession.findById(principal.sessionId).lean().orFail();
    return {
      ...toDto(doc, principal.scopes, principal.sessionId),
      organizationId: principal.organizationId,
      csrfToken: this.csrfTokenOf(token),
    };
  }

  async list(organizationId: string, currentId: string | null, page: number, perPage: number) {
    const filter = { organizationId: new Types.ObjectId(organizationId) };
    const { items, total } = await findPage(
      this.models.ConsoleSession.find(filter).sort(NEWEST_FIRST).lean(),
      this.models.ConsoleSession.countDocuments(filter),
      page,
      perPage,
    );
    const keyScopes = await this.apiKeys.scopesOf(items.flatMap((doc) => (doc.keyId ? [doc.keyId] : [])));
    return {
      items: items.map((doc) =>
        toDto(doc, doc.keyId ? (keyScopes.get(doc.keyId.toString()) ?? []) : (doc.scopes as ApiKeyScope[]), currentId),
      ),
      total,
    };
  }

  /** Ends a session at once (sign-out, or an owner ending another). */
  async revoke(organizationId: string, id: string, currentId: string | null): Promise<ConsoleSessionDto> {
    const filter = Types.ObjectId.isValid(id) ? { _id: id, organizationId: new Types.ObjectId(organizationId) } : null;
    if (filter)
      await this.models.ConsoleSession.updateOne({ ...filter, revokedAt: null }, { $set: { revokedAt: new Date() } });
    const doc = filter ? await this.models.ConsoleSession.findOne(filter).lean() : null;
    if (!doc) throw new AppError('NotFoundError', { message: `No console session with id "${id}"` });
    const scopes = doc.keyId
      ? ((await this.apiKeys.scopesOf([doc.keyId])).get(doc.keyId.toString()) ?? [])
      : doc.scopes;
    return toDto(doc, scopes as ApiKeyScope[], currentId);
  }
}

/** A one-time console sign-in token for the organization; the operator's CLI prints it inside the console's address. */
export async function createConsoleLink(
  ConsoleLink: ConsoleLinkModel,
  organizationId: string,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(Date.now() + CONSOLE_LINK_TTL_MS);
  await ConsoleLink.create({ organizationId: new Types.ObjectId(organizationId), tokenHash: sha256(token), expiresAt });
  return { token, expiresAt };
}
