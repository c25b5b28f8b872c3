import { isDeepStrictEqual } from 'node:util';
import { Types } from 'mongoose';
import {
  widgetSettingsSchema,
  type WidgetConfig,
  type WidgetSettings,
  type WidgetSettingsChange,
  type WidgetSettingsPatch,
  type WidgetSettingsState,
} from '../../shared/schemas/widget-settings.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import { findPage } from '../db/find-page.js';
import type { ChatbotModel } from '../chatbots/chatbot.model.js';
import type { WidgetSettingsHistoryModel } from './widget-settings-history.model.js';
import { AppError } from '../errors/app-error.js';
import { parse } from '../errors/parse.js';
import type { Logger } from '../logger.js';
import { configEtag, readWidgetSettings, toWidgetConfig } from './widget-config.js';
import { SettingsUpdates } from './widget-settings.events.js';
import type { ChatbotRecord } from '../chatbots/chatbot.model.js';
import type { WidgetSettingsHistoryRecord } from './widget-settings-history.model.js';

/** How many past changes each bot keeps. */
const HISTORY_LIMIT = 50;
/** Concurrent writers each retry on the newer version this many times before answering 409. */
const MAX_ATTEMPTS = 5;

export interface ChangeActor {
  apiKeyId: string | null;
}

/** The widget config a browser may fetch, with the validator the HTTP layer caches it by. */
export interface PublicWidgetConfig {
  config: WidgetConfig;
  etag: string;
}

/** The settings of a bot as stored, read through the current schema with defaults. */
export function settingsOfBot(bot: ChatbotRecord): WidgetSettings {
  return readWidgetSettings(bot.widgetSettings, bot.allowedOrigins ?? []);
}

function toChange(doc: WidgetSettingsHistoryRecord): WidgetSettingsChange {
  return {
    version: doc.version,
    operation: doc.operation === 'patch' ? 'patch' : 'replace',
    changedFields: doc.changedFields ?? [],
    apiKeyId: doc.apiKeyId ?? null,
    settings: readWidgetSettings(doc.settings, (doc.settings as { allowedOrigins?: string[] }).allowedOrigins ?? []),
    createdAt: doc.createdAt.toISOString(),
  };
}

/** `leadCapture` merges one level; every other given value replaces the current one. */
function merge(current: WidgetSettings, patch: WidgetSettingsPatch): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    merged[key] = key === 'leadCapture' ? { ...current.leadCapture, ...patch.leadCapture } : value;
  }
  return merged;
}

function changedFields(before: WidgetSettings, after: WidgetSettings): string[] {
  return (Object.keys(after) as Array<keyof WidgetSettings>).filter(
    (key) => !isDeepStrictEqual(before[key], after[key]),
  );
}

/** Owner-tuned widget settings per bot: versioned on every change, announced to open widgets. */
export class WidgetSettingsService {
  /** Subscribe here to push `settings:updated` to a bot's open widgets. */
  readonly updates = new SettingsUpdates();

  constructor(
    /** The bot document holds the live settings (written with its version check); history is this capability's own. */
    private readonly models: { Chatbot: ChatbotModel; WidgetSettingsHistory: WidgetSettingsHistoryModel },
    private readonly chatbots: ChatbotsService,
    private readonly logger: Logger,
  ) {}

  /** Removes a deleted bot's settings history. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    await this.models.WidgetSettingsHistory.deleteMany({ chatbotId: new Types.ObjectId(chatbotId) });
  }

  async get(organizationId: string, idOrSlug: string): Promise<WidgetSettingsState> {
    const bot = await this.chatbots.find(organizationId, idOrSlug);
    return this.stateOf(bot, await this.lastChangedAt(bot));
  }

  /** PUT: the given settings become the whole settings; anything absent is back to its default. */
  replace(organizationId: string, idOrSlug: string, settings: WidgetSettings, actor: ChangeActor) {
    return this.change(organizationId, idOrSlug, 'replace', () => settings, actor);
  }

  /** PATCH: only the given settings change. */
  patch(organizationId: string, idOrSlug: string, patch: WidgetSettingsPatch, actor: ChangeActor) {
    return this.change(organizationId, idOrSlug, 'patch', (current) => merge(current, patch), actor);
  }

  async history(organizationId: string, idOrSlug: string, page: number, perPage: number) {
    const bot = await this.chatbots.find(organizationId, idOrSlug);
    const filter = { chatbotId: bot._id };
    const { items: docs, total } = await findPage(
      this.models.WidgetSettingsHistory.find(filter).sort({ version: -1 }),
      this.models.WidgetSettingsHistory.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toChange), total };
  }

  /**
   * The active bot a public widget call names, by id or by slug (both unique across the server,
   * so no organization can take over another's embed).
   */
  async resolvePublicBot(idOrSlug: string): Promise<ChatbotRecord> {
    // Ids and slugs are both unique across the server, so one lookup (through the bot cache) names one bot.
    const bot = await this.chatbots.findAny(idOrSlug);
    if (!bot || bot.status !== 'active') {
      throw new AppError('NotFoundError', {
        message: `No active bot "${idOrSlug}": check the bot id or slug in the embed tag, and that the bot is active`,
      });
    }
    return bot;
  }

  /** Whether some active bot may be used from `origin` (none listed, or it is listed): for preflights naming no bot. */
  async anyActiveBotAllows(origin: string): Promise<boolean> {
    const allowing = await this.models.Chatbot.exists({
      status: 'active',
      $or: [
        { allowedOrigins: { $size: 0 } },
        { allowedOrigins: { $exists: false } },
        { allowedOrigins: origin.toLowerCase() },
      ],
    });
    return allowing !== null;
  }

  async publicConfig(idOrSlug: string): Promise<PublicWidgetConfig> {
    return this.configOf(await this.resolvePublicBot(idOrSlug));
  }

  /** The public config of a bot the caller has already looked up (and let through the widget's gate). */
  configOf(bot: ChatbotRecord): PublicWidgetConfig {
    const config = toWidgetConfig(bot, settingsOfBot(bot));
    return { config, etag: configEtag(config) };
  }

  /**
   * Read, compute, then write only if nobody wrote in between (compare-and-set on the version),
   * so two concurrent PATCHes both land and each version number is used once.
   */
  private async change(
    organizationId: string,
    idOrSlug: string,
    operation: 'replace' | 'patch',
    next: (current: WidgetSettings) => unknown,
    actor: ChangeActor,
  ): Promise<WidgetSettingsState> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      // Read fresh, not through the cache: the compare-and-set below needs the current version.
      const bot = await this.chatbots.findForChange(organizationId, idOrSlug);
      const current = settingsOfBot(bot);
      // The merged result is checked again: rules across fields (lead fields) see the whole.
      const candidate = parse(widgetSettingsSchema, next(current), 'body');
      const changed = changedFields(current, candidate);
      if (changed.length === 0) return this.stateOf(bot, await this.lastChangedAt(bot));
      const version = bot.widgetSettingsVersion ?? 1;
      const { allowedOrigins, ...stored } = candidate;
      const updated = await this.models.Chatbot.findOneAndUpdate(
        // Bots written before versioning have no number yet; they count as version 1.
        { _id: bot._id, widgetSettingsVersion: version === 1 ? { $in: [1, null] } : version },
        { $set: { widgetSettings: stored, allowedOrigins, widgetSettingsVersion: version + 1 } },
        { returnDocument: 'after' },
      );
      if (!updated) continue;
      await this.chatbots.invalidate(updated._id);
      const entry = await this.record(updated, operation, changed, candidate, actor);
      this.announce(updated, candidate);
      return this.stateOf(updated, entry.createdAt);
    }
    throw new AppError('ConflictError', {
      message: 'The widget settings were changed by several requests at once; read them again and retry',
    });
  }

  private async record(
    bot: ChatbotRecord,
    operation: 'replace' | 'patch',
    changedFields: string[],
    settings: WidgetSettings,
    actor: ChangeActor,
  ): Promise<WidgetSettingsHistoryRecord> {
    const entry = await this.models.WidgetSettingsHistory.create({
      organizationId: bot.organizationId,
      chatbotId: bot._id,
      version: bot.widgetSettingsVersion,
      operation,
      changedFields,
      apiKeyId: actor.apiKeyId,
      settings,
    });
    const [oldestKept] = await this.models.WidgetSettingsHistory.find({ chatbotId: bot._id }, { version: 1 })
      .sort({ version: -1 })
      .skip(HISTORY_LIMIT - 1)
      .limit(1);
    if (oldestKept) {
      await this.models.WidgetSettingsHistory.deleteMany({ chatbotId: bot._id, version: { $lt: oldestKept.version } });
    }
    return entry;
  }

  private announce(bot: ChatbotRecord, settings: WidgetSettings): void {
    this.updates.publish(
      {
        organizationId: bot.organizationId.toString(),
        chatbotId: bot._id.toString(),
        version: bot.widgetSettingsVersion ?? 1,
        config: toWidgetConfig(bot, settings),
      },
      (error) => this.logger.error({ err: error, chatbotId: bot._id.toString() }, 'widget settings listener failed'),
    );
  }

  /** When the settings last changed: the newest history entry, or the bot's creation before any change. */
  private async lastChangedAt(bot: ChatbotRecord): Promise<Date> {
    const last = await this.models.WidgetSettingsHistory.findOne({ chatbotId: bot._id }, { createdAt: 1 }).sort({
      version: -1,
    });
    return last?.createdAt ?? bot.createdAt;
  }

  private stateOf(bot: ChatbotRecord, updatedAt: Date): WidgetSettingsState {
    return {
      chatbotId: bot._id.toString(),
      version: bot.widgetSettingsVersion ?? 1,
      updatedAt: updatedAt.toISOString(),
      settings: settingsOfBot(bot),
    };
  }
}
