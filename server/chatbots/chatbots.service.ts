import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { ChatbotDto, CreateChatbotInput, UpdateChatbotInput } from '../../shared/schemas/chatbots.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError, notFound } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { ChatbotModel, ChatbotRecord } from './chatbot.model.js';

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

export function toChatbotDto(doc: ChatbotRecord): ChatbotDto {
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
}

export class ChatbotsService {
  private readonly models: ChatbotsDeps['models'];
  private readonly secrets: SecretBox;

  constructor(private readonly deps: ChatbotsDeps) {
    this.models = deps.models;
    this.secrets = deps.secrets;
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

  /** Finds a bot of this organization by id or slug; another organization's bot is simply not found. */
  async find(organizationId: string, idOrSlug: string): Promise<ChatbotRecord> {
    const orgId = new Types.ObjectId(organizationId);
    const filter = /^[0-9a-f]{24}$/i.test(idOrSlug)
      ? { organizationId: orgId, _id: new Types.ObjectId(idOrSlug) }
      : { organizationId: orgId, slug: idOrSlug.toLowerCase() };
    const doc = await this.models.Chatbot.findOne(filter);
    if (!doc) throw notFound('chatbot', idOrSlug);
    return doc;
  }

  async update(organizationId: string, idOrSlug: string, input: UpdateChatbotInput) {
    const doc = await this.find(organizationId, idOrSlug);
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
    }
    return toChatbotDto(doc);
  }

  /** Deletes the bot and every document that belongs to it; returns the bot's id. */
  async remove(organizationId: string, idOrSlug: string): Promise<string> {
    const doc = await this.find(organizationId, idOrSlug);
    await this.deps.events.publish('chatbot.deleted', {
      organizationId: doc.organizationId.toString(),
      chatbotId: doc._id.toString(),
    });
    await this.models.Chatbot.deleteOne({ _id: doc._id });
    return doc._id.toString();
  }

  /** Issues a new identity secret (shown once); tokens signed with the old one stop working. */
  async rotateIdentitySecret(organizationId: string, idOrSlug: string) {
    const doc = await this.find(organizationId, idOrSlug);
    const identitySecret = randomBytes(32).toString('base64url');
    doc.identitySecretEncrypted = this.secrets.seal(identitySecret);
    await doc.save();
    return { id: doc._id.toString(), identitySecret };
  }

  /** What resolving the bot's models needs (its organization and model settings), or null when it is gone. */
  async modelSettingsOf(chatbotId: string, organizationId?: string) {
    const filter = {
      _id: new Types.ObjectId(chatbotId),
      ...(organizationId ? { organizationId: new Types.ObjectId(organizationId) } : {}),
    };
    return this.models.Chatbot.findOne(filter, { organizationId: 1, modelSettings: 1 }).lean();
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

function slugTaken(slug: string) {
  return new AppError('ConflictError', {
    message: `The slug "${slug}" is taken: slugs are public widget addresses, unique across the server. Choose another, or leave slug out to get a free one`,
    details: { fields: [{ path: 'slug', message: 'already in use' }] },
  });
}
