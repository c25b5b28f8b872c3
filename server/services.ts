import type { Connection, Model } from 'mongoose';
import { actionCallIntentModel, actionModel, actionRunModel } from './actions/action.model.js';
import { ActionRunner } from './actions/action-runner.js';
import { ActionsService } from './actions/actions.service.js';
import { agentLoopModel, executionModel } from './agent-loops/agent-loop.model.js';
import { AgentLoopsService } from './agent-loops/agent-loops.service.js';
import { apiKeyModel } from './api-keys/api-key.model.js';
import { analyticsModels } from './analytics/analytics.model.js';
import { AnalyticsRollups } from './analytics/analytics-rollups.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { consoleLinkModel, consoleSessionModel } from './console/console-session.model.js';
import { unansweredModel } from './chat/unanswered.model.js';
import { chatbotModel } from './chatbots/chatbot.model.js';
import { makeSlugsGloballyUnique } from './chatbots/slug-migration.js';
import { conversationModel } from './conversations/conversation.model.js';
import { messageModel } from './conversations/message.model.js';
import { idempotencyKeyModel } from './idempotency/idempotency.model.js';
import { integrationModel } from './integrations/integration.model.js';
import { chunkModel, knowledgeVersionModel } from './knowledge/chunk.model.js';
import { knowledgeJobModel } from './knowledge/job.model.js';
import { sourceContentModel, sourceModel } from './knowledge/source.model.js';
import { leadModel } from './leads/lead.model.js';
import { organizationModel } from './organizations/organization.model.js';
import { usageModel } from './usage/usage.model.js';
import { widgetSettingsHistoryModel } from './widget-settings/widget-settings-history.model.js';
import { channelEventModel, channelModel } from './channels/channel.model.js';
import { ChannelReplies } from './channels/channel-replies.js';
import { ChannelsService } from './channels/channels.service.js';
import { guardedFetch } from './net/guarded-fetch.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { AnswerLeases } from './chat/answer-lease.js';
import { ChatService } from './chat/chat.service.js';
import { EndUserTokens } from './chat/end-user-token.js';
import { UnansweredService } from './chat/unanswered.service.js';
import { ChatbotsService } from './chatbots/chatbots.service.js';
import { ConsoleSessionsService } from './console/console-sessions.service.js';
import { ConversationsService } from './conversations/conversations.service.js';
import { IntegrationsService } from './integrations/integrations.service.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';
import { KnowledgeService } from './knowledge/knowledge.service.js';
import { LeadsService } from './leads/leads.service.js';
import { ChatEmailCapture } from './leads/chat-email-capture.js';
import { DefaultModelResolver } from './llm/default-model-resolver.js';
import type { Config } from './config.js';
import { SecretBox } from './crypto/secret-box.js';
import { addressPolicy } from './net/address-policy.js';
import type { Logger } from './logger.js';
import type { OrganizationSettings } from './organizations/organization-settings.js';
import { OrganizationsService } from './organizations/organizations.service.js';
import { monthlyQuotas, planDefaults } from './organizations/plans.js';
import { UsageService } from './usage/usage.service.js';
import { VisitorTokens } from './widget/visitor-token.js';
import { WidgetSettingsService } from './widget-settings/widget-settings.service.js';
import { WidgetHub } from './widget/widget-hub.js';
import { DomainEventBus } from './events/domain-events.js';
import { InvalidationBus } from './cache/invalidation-bus.js';
import { createWebhookModels, Webhooks } from './webhooks/webhooks.js';

/**
 * Every model of the app, bound to one connection (tests run one database per file). Only the composition
 * root (and tests/benches seeding or inspecting data) sees them all; each service receives its own.
 */
export function createModels(connection: Connection) {
  const models = {
    Organization: organizationModel(connection),
    ApiKey: apiKeyModel(connection),
    Chatbot: chatbotModel(connection),
    Usage: usageModel(connection),
    Integration: integrationModel(connection),
    Conversation: conversationModel(connection),
    Message: messageModel(connection),
    Unanswered: unansweredModel(connection),
    Lead: leadModel(connection),
    WidgetSettingsHistory: widgetSettingsHistoryModel(connection),
    Source: sourceModel(connection),
    SourceContent: sourceContentModel(connection),
    Chunk: chunkModel(connection),
    KnowledgeJob: knowledgeJobModel(connection),
    KnowledgeVersion: knowledgeVersionModel(connection),
    IdempotencyKey: idempotencyKeyModel(connection),
    ...analyticsModels(connection),
    ...createWebhookModels(connection),
    Channel: channelModel(connection),
    ChannelEvent: channelEventModel(connection),
    ConsoleSession: consoleSessionModel(connection),
    ConsoleLink: consoleLinkModel(connection),
    Action: actionModel(connection),
    ActionRun: actionRunModel(connection),
    ActionCallIntent: actionCallIntentModel(connection),
    AgentLoop: agentLoopModel(connection),
    AgentLoopExecution: executionModel(connection),
  };
  return {
    ...models,
    all: Object.values(models) as Model<unknown>[],
  };
}

export type Models = ReturnType<typeof createModels>;

/**
 * Creates every collection and index before the app serves: the embedded engine
 * races when two first writes create the same collection implicitly.
 */
export async function ensureCollections(models: Models): Promise<void> {
  for (const model of models.all) {
    await model.createCollection();
    if (model === (models.Chatbot as Model<unknown>)) await makeSlugsGloballyUnique(models.Chatbot);
    await model.createIndexes();
  }
}

/**
 * Every service of the app, wired once; transport adapters receive what they need from here. `invalidations`
 * carries cache invalidations to every node (over Redis when configured; this process alone by default).
 */
export function createServices(
  models: Models,
  config: Config,
  logger: Logger,
  invalidations: InvalidationBus = new InvalidationBus(),
  deployment: { soleServer?: boolean } = {},
) {
  const secrets = new SecretBox(config.SECRET_KEY);
  // A subscriber's failure is logged; a turn or ingestion that announced the event carries on.
  const events = new DomainEventBus((error, event) =>
    logger.error({ err: error, event: event.type }, 'a subscriber of a domain event failed'),
  );
  const apiKeys = new ApiKeysService({ ApiKey: models.ApiKey }, (id): Promise<OrganizationSettings | null> =>
    organizations.settingsOf(id),
  );
  const organizations = new OrganizationsService({ Organization: models.Organization }, apiKeys);
  const consoleSessions = new ConsoleSessionsService(
    { ConsoleSession: models.ConsoleSession, ConsoleLink: models.ConsoleLink },
    apiKeys,
    config.SECRET_KEY,
    config.CONSOLE_SESSION_TTL_MS,
  );
  const chatbots = new ChatbotsService({
    models: { Chatbot: models.Chatbot },
    secrets,
    integrationExists: (organizationId, id): Promise<boolean> => integrations.exists(organizationId, id),
    events,
    invalidations,
  });
  const usage = new UsageService(
    { Usage: models.Usage },
    (id): Promise<OrganizationSettings | null> => organizations.settingsOf(id),
    monthlyQuotas(planDefaults(config)),
    (orgId) => knowledge.sources.countStorage(orgId),
    { events, logger },
  );
  const visitorTokens = new VisitorTokens(config.SECRET_KEY);
  // Pushes to open widgets (e.g. settings changes); the socket server attaches to it when it starts.
  const widgetHub = new WidgetHub();
  // Organizations' model connections follow the same address rules as URL sources.
  const urlPolicy = addressPolicy({
    allowPrivate: config.ALLOW_PRIVATE_URLS,
    allowList: config.URL_FETCH_ALLOWED_ADDRESSES,
  });
  const integrations = new IntegrationsService(
    { Integration: models.Integration },
    secrets,
    urlPolicy,
    (organizationId, id) => chatbots.countUsingIntegration(organizationId, id),
  );
  const modelResolver = new DefaultModelResolver(config, integrations, urlPolicy, {
    timeoutMs: config.MODEL_TIMEOUT_MS,
    idleTimeoutMs: config.MODEL_TIMEOUT_MS,
    maxRetries: config.MODEL_MAX_RETRIES,
    backoffMs: config.MODEL_RETRY_BACKOFF_MS,
  });
  const conversations = new ConversationsService(
    { Conversation: models.Conversation, Message: models.Message },
    events,
    { soleServer: deployment.soleServer },
  );
  const endUserTokens = new EndUserTokens({ maxLifetimeMs: config.END_USER_TOKEN_MAX_LIFETIME_MS });
  const unanswered = new UnansweredService({ Unanswered: models.Unanswered });
  const widgetSettings = new WidgetSettingsService(
    { Chatbot: models.Chatbot, WidgetSettingsHistory: models.WidgetSettingsHistory },
    chatbots,
    logger,
  );
  // Open widgets of the bot restyle without reload.
  widgetSettings.updates.subscribe(({ chatbotId, version, config }) =>
    widgetHub.notifySettingsUpdated(chatbotId, { version, config }),
  );
  const leads = new LeadsService(
    {
      Lead: models.Lead,
      Chatbot: models.Chatbot,
    },
    conversations,
    events,
  );
  const knowledge = new KnowledgeService({
    models: {
      Source: models.Source,
      SourceContent: models.SourceContent,
      Chunk: models.Chunk,
      KnowledgeJob: models.KnowledgeJob,
      KnowledgeVersion: models.KnowledgeVersion,
    },
    config,
    logger,
    chatbots,
    modelResolver,
    events,
    soleServer: deployment.soleServer,
  });
  const actionRunner = new ActionRunner(
    { ActionRun: models.ActionRun, ActionCallIntent: models.ActionCallIntent },
    secrets,
    guardedFetch(urlPolicy),
    logger,
  );
  // After each sweep, chat action calls whose turn stopped mid-request read `interrupted`, not `sending`.
  const answerLeases = new AnswerLeases(conversations.answers, config.ANSWER_LEASE_MS, logger, async () => {
    const closed = await actionRunner.closeAbandonedChatCalls((ids) => conversations.answers.pendingAnswerIds(ids));
    if (closed > 0) logger.warn({ calls: closed }, 'marked chat action calls cut off mid-request as interrupted');
  });
  // Analytics gets its own models; conversations, messages, bots and leads come through their owners.
  const rollups = new AnalyticsRollups(
    {
      AnalyticsDay: models.AnalyticsDay,
      AnalyticsFact: models.AnalyticsFact,
      AnalyticsMark: models.AnalyticsMark,
      AnalyticsBuild: models.AnalyticsBuild,
      AnalyticsRun: models.AnalyticsRun,
    },
    {
      conversationsByIds: (ids) => conversations.conversationRecords(ids),
      messagesByIds: (ids) => conversations.messageRecords(ids),
      recordsOfBot: (chatbotId, created) => conversations.recordsOfBot(chatbotId, created),
      recordsUpdatedBetween: (from, to) => conversations.recordsUpdatedBetween(from, to),
      announced: (conversationId) => conversations.announced(conversationId),
      mayBeDeletedSince: (conversation) => conversations.mayBeDeletedSince(conversation),
    },
    { leaseMs: config.ANALYTICS_RECONCILE_LEASE_MS, pollMs: config.ANALYTICS_RECONCILE_POLL_MS },
    logger,
    () => chatbots.botsOf(),
  );
  const analytics = new AnalyticsService({ chatbots, leads, rollups });
  // The rollups follow every change of a conversation's records as it happens; a change that cannot be
  // applied leaves its days flagged for the reconciliation (and the failure is logged by the bus).
  events.subscribe(
    'conversation.changed',
    ({ organizationId, chatbotId, conversationId, messageIds, recordsCreatedAt }) =>
      rollups.applyChange(chatbotId, conversationId, messageIds ?? []).catch(async (error: unknown) => {
        await rollups.flagDays(
          organizationId,
          chatbotId,
          recordsCreatedAt.map((at) => new Date(at)),
        );
        throw error;
      }),
  );
  events.subscribe('conversation.deleted', ({ organizationId, chatbotId, conversationId, createdFrom, createdTo }) =>
    rollups.removeConversation(organizationId, chatbotId, conversationId).catch(async (error: unknown) => {
      const days: Date[] = [];
      for (let at = Date.parse(createdFrom); at <= Date.parse(createdTo) + 86_400_000; at += 86_400_000) {
        days.push(new Date(Math.min(at, Date.parse(createdTo))));
      }
      await rollups.flagDays(organizationId, chatbotId, days);
      throw error;
    }),
  );
  // Webhooks subscribe here, so no publisher knows about them.
  const webhooks = new Webhooks({
    models: { Webhook: models.Webhook, WebhookEvent: models.WebhookEvent, WebhookDelivery: models.WebhookDelivery },
    config,
    secrets,
    policy: urlPolicy,
    logger,
    assertChatbot: async (organizationId, chatbotId) => void (await chatbots.find(organizationId, chatbotId)),
    invalidations,
  });
  webhooks.subscribeTo(events);
  // Actions call only the host saved with them, through the same address rules as URL sources.
  const actions = new ActionsService({
    models: { Action: models.Action, ActionRun: models.ActionRun },
    secrets,
    policy: urlPolicy,
    chatbots,
    endUserTokens,
    runner: actionRunner,
    invalidations,
  });
  const agentLoops = new AgentLoopsService({
    models: { AgentLoop: models.AgentLoop, Execution: models.AgentLoopExecution },
    chatbots,
    actions,
    modelResolver,
    retriever: knowledge.retriever,
    usage,
    events,
    logger,
    settings: {
      leaseMs: config.AGENT_LOOP_LEASE_MS,
      pollMs: config.AGENT_LOOP_POLL_MS,
      schedulePollMs: config.AGENT_LOOP_POLL_MS,
      maxWaitMs: 30_000,
    },
  });
  // A deleted bot's data goes with it: each owner deletes its own before the bot document is removed.
  for (const owner of [
    conversations,
    unanswered,
    leads,
    widgetSettings,
    knowledge,
    rollups,
    webhooks,
    actions,
    agentLoops,
  ]) {
    events.subscribe('chatbot.deleted', ({ chatbotId }) => owner.deleteForChatbot(chatbotId));
  }
  // What a turn sets off elsewhere: the gap log keeps what the knowledge could not answer, a lead left before
  // the first message is linked to the conversation that message starts, and an email a visitor gives after
  // the bot asked for one becomes a lead.
  events.subscribe('answer.completed', (event) => unanswered.recordGap(event));
  events.subscribe('conversation.created', (event) => leads.attachVisitorConversation(event));
  const chatEmailCapture = new ChatEmailCapture({ answers: conversations.answers, leads, logger });
  events.subscribe('message.received', (event) => chatEmailCapture.onMessageReceived(event));
  const chat = new ChatService({
    chatbots,
    conversations,
    usage,
    modelResolver,
    retriever: knowledge.retriever,
    endUserTokens,
    leases: answerLeases,
    logger,
    events,
    actions,
  });
  const channels = new ChannelsService({
    models: { Channel: models.Channel, ChannelEvent: models.ChannelEvent },
    chatbots,
    secrets,
    events,
    fetch: guardedFetch(urlPolicy),
    urlPolicy,
    apiBaseUrls: {
      telegram: config.TELEGRAM_API_BASE_URL.replace(/\/$/, ''),
      slack: config.SLACK_API_BASE_URL.replace(/\/$/, ''),
      whatsapp: config.WHATSAPP_API_BASE_URL.replace(/\/$/, ''),
      webhook: '',
    },
    logger,
  });
  events.subscribe('chatbot.deleted', ({ chatbotId }) => channels.deleteForChatbot(chatbotId));
  // Messaging platforms are one more door of the chat flow: their turns and replies run as durable jobs.
  const channelReplies = new ChannelReplies({
    models: { ChannelEvent: models.ChannelEvent },
    channels,
    chat,
    conversations,
    logger,
    settings: {
      concurrency: 4,
      maxAttempts: config.CHANNEL_REPLY_MAX_ATTEMPTS,
      backoffMs: config.CHANNEL_REPLY_BACKOFF_MS,
      leaseMs: config.CHANNEL_REPLY_LEASE_MS,
      pollMs: 1_000,
      syncWaitMs: config.CHANNEL_SYNC_REPLY_WAIT_MS,
    },
  });
  return {
    logger,
    config,
    channels,
    channelReplies,
    events,
    secrets,
    apiKeys,
    consoleSessions,
    organizations,
    chatbots,
    usage,
    visitorTokens,
    endUserTokens,
    widgetHub,
    integrations,
    modelResolver,
    conversations,
    unanswered,
    knowledge,
    retriever: knowledge.retriever,
    chat,
    actions,
    agentLoops,
    answerLeases,
    widgetSettings,
    leads,
    analytics,
    rollups,
    webhooks,
    idempotency: new IdempotencyService(
      { IdempotencyKey: models.IdempotencyKey },
      { lockMs: config.IDEMPOTENCY_LOCK_MS },
    ),
  };
}

export type Services = ReturnType<typeof createServices>;
