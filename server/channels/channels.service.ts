import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import {
  channelCredentialSchemas,
  type ChannelDto,
  type ChannelType,
  type CreateChannelInput,
  type UpdateChannelInput,
} from '../../shared/schemas/channels.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError } from '../errors/app-error.js';
import { parse } from '../errors/parse.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { Logger } from '../logger.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { assertPublicUrl } from '../net/public-url.js';
import { queuedJobState } from '../queue/lease-queue.js';
import type { ChannelAdapter, OpenChannel } from './adapters/adapter.js';
import { CHANNEL_ADAPTERS } from './adapters/index.js';
import type { ChannelEventModel, ChannelModel, ChannelRecord } from './channel.model.js';
import { PlatformError, PlatformHttp } from './platform-http.js';

export interface ChannelsDeps {
  models: { Channel: ChannelModel; ChannelEvent: ChannelEventModel };
  chatbots: ChatbotsService;
  secrets: SecretBox;
  events: EventPublisher;
  /** The outbound fetch, and the address rules it follows (also checked when a callback URL is saved). */
  fetch: typeof fetch;
  urlPolicy: AddressPolicy;
  /** Each platform's API base URL. */
  apiBaseUrls: Record<ChannelType, string>;
  logger: Logger;
}

/** Where the platforms deliver events for a channel, under the server's public URL. */
export const inboundPath = (channelId: string) => `/api/v1/channels/${channelId}/events`;

/** Connects bots to messaging platforms; credentials are sealed at rest and never returned. */
export class ChannelsService {
  private publicUrl = '';

  constructor(private readonly deps: ChannelsDeps) {}

  /** The server's public URL, known once it listens (PUBLIC_URL, or the address it listens on). */
  serveAt(publicUrl: string): void {
    this.publicUrl = publicUrl.replace(/\/$/, '');
  }

  adapterOf(type: string): ChannelAdapter {
    return CHANNEL_ADAPTERS[type as ChannelType];
  }

  /** Calls to a channel's platform: its configured base URL through the guarded fetch. */
  httpFor(type: string, signal: AbortSignal = new AbortController().signal): PlatformHttp {
    return new PlatformHttp(this.deps.apiBaseUrls[type as ChannelType], this.deps.fetch, signal);
  }

  open(doc: ChannelRecord): OpenChannel {
    const { secrets } = this.deps;
    return {
      id: doc._id.toString(),
      credentials: JSON.parse(secrets.open(doc.credentialsSealed)) as Record<string, string>,
      inboundSecret: doc.inboundSecretSealed ? secrets.open(doc.inboundSecretSealed) : null,
      callbackUrl: doc.callbackUrl ?? null,
    };
  }

  async create(
    organizationId: string,
    chatbot: string,
    input: CreateChannelInput,
  ): Promise<ChannelDto & { signingSecret?: string }> {
    const bot = await this.deps.chatbots.find(organizationId, chatbot);
    const credentials: Record<string, string> = { ...input.credentials };
    if (input.type === 'webhook') credentials.secret ??= `whsec_${randomBytes(32).toString('base64')}`;
    const _id = new Types.ObjectId();
    const inboundSecret = input.type === 'telegram' ? randomBytes(32).toString('base64url') : null;
    const callbackUrl = input.type === 'webhook' ? input.callbackUrl : null;
    if (callbackUrl) await assertPublicUrl(callbackUrl, 'callbackUrl', this.deps.urlPolicy);
    // Connected before it is stored: credentials the platform refuses leave nothing behind.
    await this.connect(input.type, { id: _id.toString(), credentials, inboundSecret, callbackUrl });
    const doc = await this.deps.models.Channel.create({
      _id,
      organizationId: bot.organizationId,
      chatbotId: bot._id,
      type: input.type,
      name: input.name ?? `${input.type} channel`,
      credentialsSealed: this.deps.secrets.seal(JSON.stringify(credentials)),
      inboundSecretSealed: inboundSecret ? this.deps.secrets.seal(inboundSecret) : null,
      callbackUrl,
    });
    const dto = this.toDto(doc);
    // A secret Wisp generated is shown once, like an API key.
    return input.type === 'webhook' && !input.credentials.secret ? { ...dto, signingSecret: credentials.secret } : dto;
  }

  async list(organizationId: string, chatbot: string, page: number, perPage: number) {
    const bot = await this.deps.chatbots.find(organizationId, chatbot);
    const filter = { organizationId: bot.organizationId, chatbotId: bot._id };
    const { items, total } = await findPage(
      this.deps.models.Channel.find(filter).sort(NEWEST_FIRST),
      this.deps.models.Channel.countDocuments(filter),
      page,
      perPage,
    );
    return { items: items.map((doc) => this.toDto(doc)), total };
  }

  async get(organizationId: string, id: string): Promise<ChannelDto> {
    return this.toDto(await this.find(organizationId, id));
  }

  async update(organizationId: string, id: string, input: UpdateChannelInput): Promise<ChannelDto> {
    const doc = await this.find(organizationId, id);
    const set: Record<string, unknown> = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.callbackUrl !== undefined) {
      if (doc.type !== 'webhook')
        throw new AppError('ValidationError', { message: 'Only webhook channels have a callbackUrl' });
      if (input.callbackUrl) await assertPublicUrl(input.callbackUrl, 'callbackUrl', this.deps.urlPolicy);
      set.callbackUrl = input.callbackUrl;
    }
    if (input.credentials !== undefined) {
      const current = this.open(doc);
      const schema = channelCredentialSchemas[doc.type as ChannelType];
      const credentials = parse(schema, { ...current.credentials, ...input.credentials }, 'body') as Record<
        string,
        string
      >;
      // New credentials are checked with the platform before they replace the old ones.
      await this.connect(doc.type, { ...current, credentials });
      set.credentialsSealed = this.deps.secrets.seal(JSON.stringify(credentials));
      set.status = 'connected';
      set.statusReason = null;
    }
    const updated = await this.deps.models.Channel.findOneAndUpdate(
      { _id: doc._id, organizationId: doc.organizationId },
      { $set: set },
      { returnDocument: 'after' },
    );
    if (!updated) throw this.notFound(id);
    if (set.status === 'connected') await this.requeueHeldReplies(doc._id);
    return this.toDto(updated);
  }

  /** Checks the credentials again; a channel the platform accepts is connected and its held replies go out. */
  async reconnect(organizationId: string, id: string): Promise<ChannelDto> {
    const doc = await this.find(organizationId, id);
    try {
      await this.connect(doc.type, this.open(doc));
    } catch (error) {
      if (error instanceof AppError && error.name === 'ValidationError')
        await this.markDisconnected(doc, error.message);
      throw error;
    }
    const updated = await this.deps.models.Channel.findOneAndUpdate(
      { _id: doc._id },
      { $set: { status: 'connected', statusReason: null } },
      { returnDocument: 'after' },
    );
    if (!updated) throw this.notFound(id);
    await this.requeueHeldReplies(doc._id);
    return this.toDto(updated);
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    const adapter = this.adapterOf(doc.type);
    await adapter.release?.(this.open(doc), this.httpFor(doc.type)).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, channelId: id }, 'unregistering a deleted channel from its platform failed');
    });
    await this.deps.models.ChannelEvent.deleteMany({ channelId: doc._id });
    await this.deps.models.Channel.deleteOne({ _id: doc._id });
  }

  async deleteForChatbot(chatbotId: string): Promise<void> {
    const byBot = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all([this.deps.models.ChannelEvent.deleteMany(byBot), this.deps.models.Channel.deleteMany(byBot)]);
  }

  /**
   * The platform refused the credentials: the channel stops sending until reconnected. Only the change from
   * connected publishes `channel.disconnected`, so concurrent failures announce it once.
   */
  async markDisconnected(doc: ChannelRecord, reason: string): Promise<void> {
    const changed = await this.deps.models.Channel.updateOne(
      { _id: doc._id, status: 'connected' },
      { $set: { status: 'disconnected', statusReason: reason } },
    );
    if (changed.modifiedCount === 0) return;
    await this.deps.events.notifyDurably('channel.disconnected', {
      organizationId: doc.organizationId.toString(),
      chatbotId: doc.chatbotId.toString(),
      channelId: doc._id.toString(),
      type: doc.type,
      reason,
    });
  }

  async recordEvent(channelId: Types.ObjectId): Promise<void> {
    await this.deps.models.Channel.updateOne({ _id: channelId }, { $set: { lastEventAt: new Date() } });
  }

  /** A channel by id, whichever organization (for the public inbound routes). */
  async findForInbound(id: string): Promise<ChannelRecord> {
    const doc = Types.ObjectId.isValid(id) ? await this.deps.models.Channel.findById(id) : null;
    if (!doc) throw this.notFound(id);
    return doc;
  }

  private async connect(type: string, channel: OpenChannel): Promise<void> {
    const inboundUrl = `${this.publicUrl}${inboundPath(channel.id)}`;
    try {
      await this.adapterOf(type).connect(channel, this.httpFor(type), inboundUrl);
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      if (error.options.credentialsRejected || !error.retryable)
        throw new AppError('ValidationError', {
          message: error.options.credentialsRejected
            ? `${error.message}: check the channel's credentials`
            : `${error.message}: the platform refused the setup`,
          details: { fields: [{ path: 'credentials', message: error.message }] },
        });
      throw new AppError('UnavailableError', { message: `${error.message}; try again shortly` });
    }
  }

  /** Replies held while the channel was disconnected are queued again. */
  private async requeueHeldReplies(channelId: Types.ObjectId): Promise<void> {
    await this.deps.models.ChannelEvent.updateMany(
      { channelId, status: 'failed', deliveredAt: null, lastError: CHANNEL_DISCONNECTED },
      { $set: queuedJobState() },
    );
  }

  private async find(organizationId: string, id: string): Promise<ChannelRecord> {
    const doc = Types.ObjectId.isValid(id)
      ? await this.deps.models.Channel.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw this.notFound(id);
    return doc;
  }

  private notFound(id: string): AppError {
    return new AppError('NotFoundError', { message: `No channel with id "${id}"` });
  }

  private toDto(doc: ChannelRecord): ChannelDto {
    return {
      id: doc._id.toString(),
      chatbotId: doc.chatbotId.toString(),
      type: doc.type as ChannelType,
      name: doc.name,
      status: doc.status === 'disconnected' ? 'disconnected' : 'connected',
      statusReason: doc.statusReason ?? null,
      inboundUrl: `${this.publicUrl}${inboundPath(doc._id.toString())}`,
      callbackUrl: doc.callbackUrl ?? null,
      lastEventAt: doc.lastEventAt ? doc.lastEventAt.toISOString() : null,
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString(),
    };
  }
}

/** The reason a reply waits for its channel to be reconnected. */
export const CHANNEL_DISCONNECTED = 'channel disconnected';
