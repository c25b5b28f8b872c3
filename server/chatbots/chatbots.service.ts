import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { ChatbotDto, CreateChatbotInput, UpdateChatbotInput } from '../../shared/schemas/chatbots.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError, notFound } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { InvalidationBus } from '../cache/invalidation-bus.js';
import { ReadCache } from '../cache/read-cache.js';
import type { ChatbotDoc, ChatbotModel, ChatbotRecord } from './chatbot.model.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** How long a bot read stays cached when no invalidation arrives (a safety net: writers invalidate). */
export const CHATBOT_CACHE_MS = 10_000;
/** The bot document as read (lean), the form the cache keeps. */
type ChatbotRaw = ChatbotDoc & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };

/** Lowercase-hyphenated slug from a name, e.g. "Acme Help Desk!" → "acme-help-desk". */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/g, '');
  return slug || 'bot';
}

export function toChatbotDto(doc: ChatbotRecord | ChatbotRaw): ChatbotDto {
  return {
    id: doc._id.toString(),
    name: doc.name,
    slug: doc.slug,
    instructions: doc.instructions ?? '',
    modelSettings: {
      integrationId: doc.modelSettings?.integrationId ? doc.modelSettings.integrationId.toString() : null,
      model: doc.modelSettings?.model ?? null,
      temperature: doc.modelSettings?.temperature ?? 0.3,
      maxTokens: doc.modelSettings?.maxTokens ?? 800,
    },
    allowedOrigins: doc.allowedOrigins ?? [],
    status: doc.status === 'disabled' ? 'disabled' : 'active',
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** Chatbots of an organization, addressed by id or slug; deleting one removes everything it owns. */
export interface ChatbotsDeps {
  models: { Chatbot: ChatbotModel };
  secrets: SecretBox;
  /** Asks the integrations capability whether the organization has this model connection. */
  integrationExists: (organizationId: string, integrationId: string) => Promise<boolean>;
  /** `chatbot.deleted` is awaited: every capability has deleted its data of the bot when it resolves. */
  events: EventPublisher;
  /** Tells every node's bot cache about writes (this process only without Redis). */
  invalidations: InvalidationBus;
  /** How long a read bot stays cached (0 = no cache); `CHATBOT_CACHE_MS` by default. */
  cacheMs?: number;
}

export class ChatbotsService {
  private readonly models: ChatbotsDeps['models'];
  private readonly secrets: SecretBox;
  /**
   * Bots read on every request (the API, every chat turn, the widget), by id. Every write of the bot document
   * goes through `invalidate`, which reaches every node; slugs map to ids and are checked against the entry.
   */
  private readonly cache: ReadCache<ChatbotRaw>;
  private readonly slugs = new Map<string, string>();
  /** The API's view of each cached copy, made on its first read. */
  private readonly dtos = new WeakMap<ChatbotRaw, { dto: ChatbotDto; organizationId: string }>();
  /** The document of each cached copy that `findShared` hands out. */
  private readonly sharedDocs = new WeakMap<ChatbotRaw, ChatbotRecord>();

  constructor(private readonly deps: ChatbotsDeps) {
    this.models = deps.models;
    this.secrets = deps.secrets;
    this.cache = new ReadCache(deps.cacheMs ?? CHATBOT_CACHE_MS);
    deps.invalidations.subscribe('chatbot', {
      onKey: (id) => this.cache.invalidate(id),
      onReset: () => {
        this.cache.clear();
        this.slugs.clear();
      },
    });
  }

  /** Drops the bot from every node's cache; every write of a bot document calls it once the write is done. */
  async invalidate(chatbotId: Types.ObjectId | string): Promise<void> {
    await this.deps.invalidations.publish('chatbot', chatbotId.toString());
  }

  async create(organizationId: string, input: CreateChatbotInput) {
    const orgId = new Types.ObjectId(organizationId);
    await this.assertIntegration(orgId, input.modelSettings?.integrationId);
    if (input.slug) await this.assertSlugFree(input.slug);
    const identitySecret = randomBytes(32).toString('base64url');
    const base = slugify(input.name);
    // The unique index decides: a generated slug that another request took in between moves on to the next one.
    for (let attempt = 0; ; attempt += 1) {
      const slug = input.slug ?? (await this.freeSlug(base, attempt));
      try {
        const doc = await this.models.Chatbot.create({
          ...input,
          organizationId: orgId,
          slug,
          identitySecretEncrypted: this.secrets.seal(identitySecret),
        });
        return { ...toChatbotDto(doc), identitySecret };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        if (input.slug || attempt >= 5) throw slugTaken(slug);
      }
    }
  }

  async list(organizationId: string, page: number, perPage: number) {
    const filter = { organizationId: new Types.ObjectId(organizationId) };
    const { items: docs, total } = await findPage(
      this.models.Chatbot.find(filter).sort(NEWEST_FIRST),
      this.models.Chatbot.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toChatbotDto), total };
  }

  /**
   * Finds a bot of this organization by id or slug; another organization's bot is simply not found. Read
   * through the cache: for a read-modify-write, use `findForChange`.
   */
  async find(organizationId: string, idOrSlug: string): Promise<ChatbotRecord> {
    const raw = await this.cachedRaw(idOrSlug);
    if (!raw || raw.organizationId.toString() !== organizationId) throw notFound('chatbot', idOrSlug);
    return this.models.Chatbot.hydrate(raw);
  }

  /**
   * `find` for a reader that never changes the document (a chat turn): the document of the cached copy is
   * hydrated once and handed to every such reader until a write replaces the copy, so each turn does not pay for
   * hydrating it. Treat it as frozen.
   */
  async findShared(organizationId: string, idOrSlug: string): Promise<ChatbotRecord> {
    const raw = await this.cachedRaw(idOrSlug);
    if (!raw || raw.organizationId.toString() !== organizationId) throw notFound('chatbot', idOrSlug);
    let doc = this.sharedDocs.get(raw);
    if (!doc) {
      doc = this.models.Chatbot.hydrate(raw);
      this.sharedDocs.set(raw, doc);
    }
    return doc;
  }

  /**
   * `find` as the API answers it: the DTO is built from the cached copy directly (the read routes need no
   * document methods, and hydrating one costs more than the rest of the request).
   */
  async findDto(organizationId: string, idOrSlug: string): Promise<ChatbotDto> {
    const cached = this.cachedDto(organizationId, idOrSlug);
    if (cached) return cached;
    return this.dtoOf(organizationId, idOrSlug, await this.cachedRaw(idOrSlug));
  }

  /**
   * {@link findDto} when the bot is in the cache, answered without a promise; undefined when it must be read
   * (or is another organization's, which `findDto` then refuses).
   */
  cachedDto(organizationId: string, idOrSlug: string): ChatbotDto | undefined {
    const raw = this.peekRaw(idOrSlug);
    const shared = raw && this.sharedDtoOf(raw);
    return shared?.organizationId === organizationId ? shared.dto : undefined;
  }

  private dtoOf(organizationId: string, idOrSlug: string, raw: ChatbotRaw | null): ChatbotDto {
    const shared = raw && this.sharedDtoOf(raw);
    if (shared?.organizationId !== organizationId) throw notFound('chatbot', idOrSlug);
    return shared.dto;
  }

  /** A cached copy is never changed (a write replaces it), so its DTO is made once and shared. */
  private sharedDtoOf(raw: ChatbotRaw): { dto: ChatbotDto; organizationId: string } {
    let shared = this.dtos.get(raw);
    if (!shared) {
      shared = { dto: toChatbotDto(raw), organizationId: raw.organizationId.toString() };
      this.dtos.set(raw, shared);
    }
    return shared;
  }

  /** A bot of any organization by id or slug, or null (the widget's public doors), read through the cache. */
  async findAny(idOrSlug: string): Promise<ChatbotRecord | null> {
    const raw = await this.cachedRaw(idOrSlug);
    return raw ? this.models.Chatbot.hydrate(raw) : null;
  }

  /** Like `find`, but always read from the database: what a write is computed from must be current. */
  async findForChange(organizationId: string, idOrSlug: string): Promise<ChatbotRecord> {
    const orgId = new Types.ObjectId(organizationId);
    const doc = await this.models.Chatbot.findOne({ organizationId: orgId, ...byIdOrSlug(idOrSlug) });
    if (!doc) throw notFound('chatbot', idOrSlug);
    return doc;
  }

  /** The cached copy of a bot by id or slug, without building a query (an ObjectId per request) or a promise. */
  private peekRaw(idOrSlug: string): ChatbotRaw | undefined {
    const byId = OBJECT_ID.test(idOrSlug);
    const slug = byId ? '' : idOrSlug.toLowerCase();
    const id = byId ? idOrSlug.toLowerCase() : this.slugs.get(slug);
    const hit = id === undefined ? undefined : this.cache.peek(id);
    return hit && (byId || hit.slug === slug) ? hit : undefined;
  }

  private async cachedRaw(idOrSlug: string): Promise<ChatbotRaw | null> {
    const hit = this.peekRaw(idOrSlug);
    if (hit) return hit;
    const byId = OBJECT_ID.test(idOrSlug);
    const filter = byIdOrSlug(idOrSlug);
    const load = () => this.models.Chatbot.findOne(filter).lean<ChatbotRaw>().exec();
    const raw = byId
      ? await this.cache.get(idOrSlug.toLowerCase(), load)
      : await this.cache.fill(load, (bot) => bot._id.toString());
    if (raw) {
      if (this.slugs.size >= 10_000) this.slugs.clear();
      this.slugs.set(raw.slug, raw._id.toString());
    }
    return raw;
  }

  async update(organizationId: string, idOrSlug: string, input: UpdateChatbotInput) {
    const doc = await this.findForChange(organizationId, idOrSlug);
    if (input.slug && input.slug !== doc.slug) await this.assertSlugFree(input.slug);
    await this.assertIntegration(doc.organizationId, input.modelSettings?.integrationId);
    const { modelSettings, ...rest } = input;
    doc.set(rest);
    if (modelSettings) {
      for (const [key, value] of Object.entries(modelSettings)) {
        if (value !== undefined) doc.set(`modelSettings.${key}`, value);
      }
    }
    try {
      await doc.save();
    } catch (error) {
      if (isDuplicateKeyError(error) && input.slug) throw slugTaken(input.slug);
      throw error;
    } finally {
      await this.invalidate(doc._id);
    }
    return toChatbotDto(doc);
  }

  /** Deletes the bot and every document that belongs to it; returns the bot's id. */
  async remove(organizationId: string, idOrSlug: string): Promise<string> {
    const doc = await this.findForChange(organizationId, idOrSlug);
    await this.deps.events.publish('chatbot.deleted', {
      organizationId: doc.organizationId.toString(),
      chatbotId: doc._id.toString(),
    });
    await this.models.Chatbot.deleteOne({ _id: doc._id });
    await this.invalidate(doc._id);
    return doc._id.toString();
  }

  /** Issues a new identity secret (shown once); tokens signed with the old one stop working. */
  async rotateIdentitySecret(organizationId: string, idOrSlug: string) {
    const doc = await this.findForChange(organizationId, idOrSlug);
    const identitySecret = randomBytes(32).toString('base64url');
    doc.identitySecretEncrypted = this.secrets.seal(identitySecret);
    await doc.save();
    await this.invalidate(doc._id);
    return { id: doc._id.toString(), identitySecret };
  }

  /** What resolving the bot's models needs (its organization and model settings), or null when it is gone. */
  async modelSettingsOf(
    chatbotId: string,
    organizationId?: string,
  ): Promise<Pick<ChatbotRaw, '_id' | 'organizationId' | 'modelSettings'> | null> {
    const raw = Types.ObjectId.isValid(chatbotId)
      ? await this.cachedRaw(new Types.ObjectId(chatbotId).toString())
      : null;
    if (!raw || (organizationId && raw.organizationId.toString() !== organizationId)) return null;
    return { _id: raw._id, organizationId: raw.organizationId, modelSettings: raw.modelSettings };
  }

  /** The ids of the organization's bots (every organization's when none is named). */
  botsOf(organizationId?: string): Promise<Array<{ _id: Types.ObjectId; organizationId: Types.ObjectId }>> {
    return this.models.Chatbot.find(
      organizationId ? { organizationId: new Types.ObjectId(organizationId) } : {},
      '_id organizationId',
    ).lean<Array<{ _id: Types.ObjectId; organizationId: Types.ObjectId }>>();
  }

  /** The organization's oldest active bot, or null. */
  firstActive(organizationId: Types.ObjectId | string): Promise<ChatbotRecord | null> {
    return this.models.Chatbot.findOne({ organizationId: new Types.ObjectId(organizationId), status: 'active' }).sort({
      createdAt: 1,
      _id: 1,
    });
  }

  /** Whether the organization has any bot. */
  async hasAny(organizationId: Types.ObjectId | string): Promise<boolean> {
    return (await this.models.Chatbot.exists({ organizationId: new Types.ObjectId(organizationId) })) !== null;
  }

  /** Whether a bot (of any organization: slugs are unique across the server) uses the slug. */
  async slugTaken(slug: string): Promise<boolean> {
    return (await this.models.Chatbot.exists({ slug })) !== null;
  }

  /** How many bots of the organization answer through this model connection. */
  countUsingIntegration(organizationId: string, integrationId: string): Promise<number> {
    return this.models.Chatbot.countDocuments({
      organizationId: new Types.ObjectId(organizationId),
      'modelSettings.integrationId': new Types.ObjectId(integrationId),
    });
  }

  identitySecretOf(doc: ChatbotRecord): string {
    return this.secrets.open(doc.identitySecretEncrypted);
  }

  /** A bot may only use a model connection of its own organization. */
  private async assertIntegration(orgId: Types.ObjectId, integrationId: string | null | undefined) {
    if (!integrationId) return;
    if (!(await this.deps.integrationExists(orgId.toString(), integrationId))) {
      throw new AppError('ValidationError', {
        message: `modelSettings.integrationId: no model connection "${integrationId}" in this organization`,
        details: { fields: [{ path: 'modelSettings.integrationId', message: 'no such model connection' }] },
      });
    }
  }

  /** Slugs address the widget on public paths, so they are unique across the server, not only per organization. */
  private async assertSlugFree(slug: string) {
    if (await this.models.Chatbot.exists({ slug })) throw slugTaken(slug);
  }

  /** The first free slug from `base` (`base`, `base-2`, …); after a lost race, a random suffix. */
  private async freeSlug(base: string, attempt: number): Promise<string> {
    if (attempt > 0) return `${base}-${randomBytes(3).toString('hex')}`;
    for (let n = 1; n < 50; n += 1) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (!(await this.models.Chatbot.exists({ slug: candidate }))) return candidate;
    }
    return `${base}-${randomBytes(3).toString('hex')}`;
  }
}

function byIdOrSlug(idOrSlug: string): { _id: Types.ObjectId } | { slug: string } {
  return OBJECT_ID.test(idOrSlug) ? { _id: new Types.ObjectId(idOrSlug) } : { slug: idOrSlug.toLowerCase() };
}

function slugTaken(slug: string) {
  return new AppError('ConflictError', {
    message: `The slug "${slug}" is taken: slugs are public widget addresses, unique across the server. Choose another, or leave slug out to get a free one`,
    details: { fields: [{ path: 'slug', message: 'already in use' }] },
  });
}
