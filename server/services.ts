import type { Connection, Model } from 'mongoose';
import { actionModel, actionRunModel } from './actions/action.model.js';
import { ActionRunner } from './actions/action-runner.js';
import { ActionsService } from './actions/actions.service.js';
import { ActionConfirmations } from './actions/confirmations.js';
import { agentLoopModel, executionModel } from './agent-loops/agent-loop.model.js';
import { AgentLoopsService } from './agent-loops/agent-loops.service.js';
import { apiKeyModel } from './api-keys/api-key.model.js';
import { guardedFetch } from './net/guarded-fetch.js';
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
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { AnswerLeases } from './chat/answer-lease.js';
import { ChatService } from './chat/chat.service.js';
import { EndUserTokens } from './chat/end-user-token.js';
import { UnansweredService } from './chat/unanswered.service.js';
import { ChatbotsService } from './chatbots/chatbots.service.js';
import { ConversationsService } from './conversations/conversations.service.js';
import { IntegrationsService } from './integrations/integrations.service.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';
import { KnowledgeService } from './knowledge/knowledge.service.js';
import { LeadsService } from './leads/leads.service.js';
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
    Action: actionModel(connection),
    ActionRun: actionRunModel(connection),
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

/** Every service of the app, wired once; transport adapters receive what they need from here. */
export function createServices(models: Models, config: Config, logger: Logger) {
  const secrets = new SecretBox(config.SECRET_KEY);
  const events = new DomainEventBus();
  const apiKeys = new ApiKeysService({ ApiKey: models.ApiKey }, (id): Promise<OrganizationSettings | null> =>
    organizations.settingsOf(id),
  );
  const organizations = new OrganizationsService({ Organization: models.Organization }, apiKeys);
  const chatbots = new ChatbotsService({
    models: { Chatbot: models.Chatbot },
    secrets,
    integrationExists: (organizationId, id): Promise<boolean> => integrations.exists(organizationId, id),
    events,
  });
  const usage = new UsageService(
    { Usage: models.Usage },
    (id): Promise<OrganizationSettings | null> => organizations.settingsOf(id),
    monthlyQuotas(planDefaults(config)),
    (orgId) => knowledge.sources.countStorage(orgId),
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
  const conversations = new ConversationsService({ Conversation: models.Conversation, Message: models.Message });
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
  const leads = new LeadsService({
    Lead: models.Lead,
    Chatbot: models.Chatbot,
    Conversation: models.Conversation,
    Message: models.Message,
  });
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
  });
  const answerLeases = new AnswerLeases({ Message: models.Message }, config.ANSWER_LEASE_MS, logger);
  // Actions call only the host saved with them, through the same address rules as URL sources.
  const actions = new ActionsService({
    models: { Action: models.Action, ActionRun: models.ActionRun },
    secrets,
    policy: urlPolicy,
    chatbots,
    endUserTokens,
    runner: new ActionRunner({ ActionRun: models.ActionRun }, secrets, guardedFetch(urlPolicy), logger),
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
  for (const owner of [conversations, unanswered, leads, widgetSettings, knowledge, actions, agentLoops]) {
    events.subscribe('chatbot.deleted', ({ chatbotId }) => owner.deleteForChatbot(chatbotId));
  }
  const chat = new ChatService({
    models,
    chatbots,
    conversations,
    usage,
    unanswered,
    modelResolver,
    leads,
    retriever: knowledge.retriever,
    endUserTokens,
    leases: answerLeases,
    logger,
    actions,
  });
  return {
    logger,
    config,
    events,
    secrets,
    apiKeys,
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
    actionConfirmations: new ActionConfirmations(
      { Message: models.Message, Conversation: models.Conversation },
      actions,
    ),
    answerLeases,
    widgetSettings,
    leads,
    idempotency: new IdempotencyService({ IdempotencyKey: models.IdempotencyKey }),
  };
}

export type Services = ReturnType<typeof createServices>;
