import { Types } from 'mongoose';
import type {
  ActionAuth,
  ActionDto,
  ActionRequest,
  ActionRunDto,
  CreateActionInput,
  UpdateActionInput,
} from '../../shared/schemas/actions.js';
import type { EndUser } from '../chat/chat.types.js';
import type { EndUserTokens } from '../chat/end-user-token.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { InvalidationBus } from '../cache/invalidation-bus.js';
import { ReadCache } from '../cache/read-cache.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError, notFound } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { refusalOnSave } from '../net/guarded-fetch.js';
import type { ActionDoc, ActionModel, ActionRecord, ActionRunModel } from './action.model.js';
import type { ActionOutcome, ActionRunner } from './action-runner.js';
import { checkRequestTemplate } from './action-template.js';
import { checkParameterSchema, declaredProperties, type SchemaProblem } from './parameter-schema.js';

export function toActionDto(doc: ActionRecord): ActionDto {
  const request = doc.request as ActionRequest;
  return {
    id: doc._id.toString(),
    chatbotId: doc.chatbotId.toString(),
    name: doc.name,
    description: doc.description,
    parameters: doc.parameters as Record<string, unknown>,
    request: {
      method: request.method,
      url: request.url,
      headers: request.headers ?? {},
      query: request.query ?? {},
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    auth: { type: doc.authType as ActionAuth['type'], headerName: doc.authHeaderName ?? null },
    requiresUser: doc.requiresUser,
    requiresConfirmation: doc.requiresConfirmation,
    responseFields: doc.responseFields ?? [],
    timeoutMs: doc.timeoutMs,
    maxResponseBytes: doc.maxResponseBytes,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

function invalid(problems: SchemaProblem[]): AppError {
  return new AppError('ValidationError', {
    message: `Invalid body: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    details: { fields: problems },
  });
}

export interface ActionsDeps {
  models: { Action: ActionModel; ActionRun: ActionRunModel };
  secrets: SecretBox;
  policy: AddressPolicy;
  chatbots: ChatbotsService;
  endUserTokens: EndUserTokens;
  runner: ActionRunner;
  /** Tells every node's cache of bots' actions about writes (this process only without Redis). */
  invalidations: InvalidationBus;
}

/**
 * How long a bot's list of actions stays cached when no invalidation arrives (a safety net: every write of an
 * action invalidates its bot on every node).
 */
export const ACTIONS_CACHE_MS = 5_000;

/** An action as read (lean), the form the cache keeps. */
type ActionRaw = ActionDoc & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };

/** A bot's HTTP actions: saved with their host fixed and their secret sealed, run from chat, loops and the API. */
export class ActionsService {
  /**
   * Each bot's actions, read on every chat turn, by bot id. Every write of an action (create, update, delete,
   * a deleted bot's) invalidates its bot on every node once the write is done.
   */
  private readonly byBot = new ReadCache<ActionRaw[]>(ACTIONS_CACHE_MS);

  constructor(private readonly deps: ActionsDeps) {
    deps.invalidations.subscribe('actions', {
      onKey: (chatbotId) => this.byBot.invalidate(chatbotId),
      onReset: () => this.byBot.clear(),
    });
  }

  /** Drops the bot's actions from every node's cache; every write of an action calls it once the write is done. */
  private async invalidate(chatbotId: Types.ObjectId | string): Promise<void> {
    await this.deps.invalidations.publish('actions', chatbotId.toString());
  }

  get runner(): ActionRunner {
    return this.deps.runner;
  }

  async create(organizationId: string, chatbot: string, input: CreateActionInput): Promise<ActionDto> {
    const bot = await this.deps.chatbots.find(organizationId, chatbot);
    await this.check(input.parameters, input.request);
    try {
      const doc = await this.deps.models.Action.create({
        organizationId: bot.organizationId,
        chatbotId: bot._id,
        name: input.name,
        description: input.description,
        parameters: input.parameters,
        request: input.request,
        ...this.sealAuth(input.auth),
        requiresUser: input.requiresUser,
        requiresConfirmation: input.requiresConfirmation ?? input.request.method !== 'GET',
        responseFields: input.responseFields,
        timeoutMs: input.timeoutMs,
        maxResponseBytes: input.maxResponseBytes,
      });
      await this.invalidate(bot._id);
      return toActionDto(doc);
    } catch (error) {
      throw this.duplicate(error, input.name);
    }
  }

  async list(organizationId: string, chatbot: string, page: number, perPage: number) {
    const bot = await this.deps.chatbots.find(organizationId, chatbot);
    const filter = { chatbotId: bot._id };
    const { items, total } = await findPage(
      this.deps.models.Action.find(filter).sort(NEWEST_FIRST),
      this.deps.models.Action.countDocuments(filter),
      page,
      perPage,
    );
    return { items: items.map(toActionDto), total };
  }

  async get(organizationId: string, id: string): Promise<ActionDto> {
    return toActionDto(await this.find(organizationId, id));
  }

  async update(organizationId: string, id: string, input: UpdateActionInput): Promise<ActionDto> {
    const doc = await this.find(organizationId, id);
    const parameters = input.parameters ?? (doc.parameters as Record<string, unknown>);
    const request = input.request ?? (doc.request as ActionRequest);
    if (input.parameters || input.request) await this.check(parameters, request);
    const { auth, ...rest } = input;
    doc.set(rest);
    if (auth) doc.set(this.sealAuth(auth));
    // Mixed paths are not tracked by assignment alone.
    if (input.parameters) doc.markModified('parameters');
    if (input.request) doc.markModified('request');
    try {
      await doc.save();
    } catch (error) {
      throw this.duplicate(error, doc.name);
    } finally {
      await this.invalidate(doc.chatbotId);
    }
    return toActionDto(doc);
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    await this.deps.models.Action.deleteOne({ _id: doc._id });
    await this.invalidate(doc.chatbotId);
  }

  /** Runs an action from the API: the caller's key is the confirmation; a `userToken` identifies the visitor. */
  async runFromApi(
    organizationId: string,
    id: string,
    input: { parameters: Record<string, unknown>; userToken?: string },
  ): Promise<ActionOutcome> {
    const action = await this.find(organizationId, id);
    let user: EndUser | null = null;
    if (input.userToken) {
      const bot = await this.deps.chatbots.find(organizationId, action.chatbotId.toString());
      user = await this.deps.endUserTokens.verify(input.userToken, this.deps.chatbots.identitySecretOf(bot));
    }
    const outcome = await this.deps.runner.run({ action, args: input.parameters, user, source: 'api' });
    if (outcome.problems.length > 0) throw invalid(outcome.problems);
    if (outcome.status === 'refused' && !user && /identified visitor/.test(outcome.error ?? ''))
      throw new AppError('UnauthorizedError', {
        message: 'This action needs an identified visitor: pass a userToken signed with the bot’s identity secret',
      });
    return outcome;
  }

  async runs(organizationId: string, id: string, page: number, perPage: number) {
    const action = await this.find(organizationId, id);
    const filter = { actionId: action._id };
    const { items, total } = await findPage(
      this.deps.models.ActionRun.find(filter).sort(NEWEST_FIRST).lean(),
      this.deps.models.ActionRun.countDocuments(filter),
      page,
      perPage,
    );
    return {
      items: items.map((run): ActionRunDto => ({
        id: run._id.toString(),
        actionId: run.actionId.toString(),
        chatbotId: run.chatbotId.toString(),
        source: run.source as ActionRunDto['source'],
        status: run.status as ActionRunDto['status'],
        httpStatus: run.httpStatus ?? null,
        durationMs: run.durationMs,
        error: run.error ?? null,
        conversationId: run.conversationId?.toString() ?? null,
        result: run.result ?? null,
        idempotencyKey: run.idempotencyKey ?? null,
        sends: run.sends ?? 1,
        createdAt: run.createdAt.toISOString(),
      })),
      total,
    };
  }

  /**
   * A bot's actions, for offering them as tools, read through the cache (every chat turn asks). Each caller
   * gets documents of its own.
   */
  async forChatbot(chatbotId: Types.ObjectId | string): Promise<ActionRecord[]> {
    const id = chatbotId.toString();
    const { Action } = this.deps.models;
    const raws = await this.byBot.get(id, () =>
      Action.find({ chatbotId: new Types.ObjectId(id) })
        .sort({ name: 1 })
        .lean<ActionRaw[]>()
        .exec(),
    );
    return (raws ?? []).map((raw) => Action.hydrate(raw));
  }

  /** Some of an organization's actions by id (an agent loop's tools). */
  async byIds(organizationId: string, ids: string[]): Promise<ActionRecord[]> {
    return this.deps.models.Action.find({
      _id: { $in: ids.filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id)) },
      organizationId: new Types.ObjectId(organizationId),
    });
  }

  async deleteForChatbot(chatbotId: string): Promise<void> {
    const filter = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all([
      this.deps.models.Action.deleteMany(filter),
      this.deps.models.ActionRun.deleteMany(filter),
      this.deps.runner.deleteForChatbot(chatbotId),
    ]);
    await this.invalidate(chatbotId);
  }

  private async check(parameters: Record<string, unknown>, request: ActionRequest): Promise<void> {
    const problems = checkParameterSchema(parameters);
    if (problems.length === 0) problems.push(...checkRequestTemplate(request, declaredProperties(parameters)));
    if (problems.length > 0) throw invalid(problems);
    const refusal = await refusalOnSave(request.url.replace(/\{[^}]*\}/g, 'x'), this.deps.policy);
    if (refusal)
      throw invalid([
        {
          path: 'request.url',
          message: `${refusal.message}; use a public address (the operator can allow private ones with URL_FETCH_ALLOWED_ADDRESSES)`,
        },
      ]);
  }

  private sealAuth(auth: ActionAuth) {
    return {
      authType: auth.type,
      authHeaderName: auth.type === 'header' ? auth.name : null,
      authEncrypted: auth.type === 'none' ? null : this.deps.secrets.seal(JSON.stringify(auth)),
    };
  }

  private duplicate(error: unknown, name: string): unknown {
    if (!isDuplicateKeyError(error)) return error;
    return new AppError('ConflictError', {
      message: `This chatbot already has an action named "${name}"; choose another name`,
      details: { field: 'name' },
    });
  }

  private async find(organizationId: string, id: string): Promise<ActionRecord> {
    const doc = Types.ObjectId.isValid(id)
      ? await this.deps.models.Action.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw notFound('action', id);
    return doc;
  }
}
