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
import type { Models } from './db/models.js';
import type { Logger } from './logger.js';
import { OrganizationsService } from './organizations/organizations.service.js';
import { monthlyQuotas, planDefaults } from './organizations/plans.js';
import { UsageService } from './usage/usage.service.js';
import { VisitorTokens } from './widget/visitor-token.js';
import { WidgetSettingsService } from './widget-settings/widget-settings.service.js';
import { WidgetHub } from './widget/widget-hub.js';

/** Every service of the app, wired once; transport adapters receive what they need from here. */
export function createServices(models: Models, config: Config, logger: Logger) {
  const secrets = new SecretBox(config.SECRET_KEY);
  const apiKeys = new ApiKeysService(models);
  const organizations = new OrganizationsService(models, apiKeys);
  const chatbots = new ChatbotsService(models, secrets);
  // The storage counter is read at report time, after the knowledge capability below is wired.
  const usage = new UsageService(models, monthlyQuotas(planDefaults(config)), (orgId) =>
    knowledge.sources.countStorage(orgId),
  );
  const visitorTokens = new VisitorTokens(config.SECRET_KEY);
  // Pushes to open widgets (e.g. settings changes); the socket server attaches to it when it starts.
  const widgetHub = new WidgetHub();
  // Organizations' model connections follow the same address rules as URL sources.
  const urlPolicy = addressPolicy({
    allowPrivate: config.ALLOW_PRIVATE_URLS,
    allowList: config.URL_FETCH_ALLOWED_ADDRESSES,
  });
  const integrations = new IntegrationsService(models, secrets, urlPolicy);
  const modelResolver = new DefaultModelResolver(config, integrations, urlPolicy, {
    timeoutMs: config.MODEL_TIMEOUT_MS,
    idleTimeoutMs: config.MODEL_TIMEOUT_MS,
    maxRetries: config.MODEL_MAX_RETRIES,
    backoffMs: config.MODEL_RETRY_BACKOFF_MS,
  });
  const conversations = new ConversationsService(models);
  const endUserTokens = new EndUserTokens({ maxLifetimeMs: config.END_USER_TOKEN_MAX_LIFETIME_MS });
  const unanswered = new UnansweredService(models);
  const widgetSettings = new WidgetSettingsService(models, chatbots, logger);
  // Open widgets of the bot restyle without reload.
  widgetSettings.updates.subscribe(({ chatbotId, version, config }) =>
    widgetHub.notifySettingsUpdated(chatbotId, { version, config }),
  );
  const leads = new LeadsService(models);
  const knowledge = new KnowledgeService({ models, config, logger, chatbots, modelResolver });
  const answerLeases = new AnswerLeases(models, config.ANSWER_LEASE_MS, logger);
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
  });
  return {
    logger,
    config,
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
    answerLeases,
    widgetSettings,
    leads,
    idempotency: new IdempotencyService(models),
  };
}

export type Services = ReturnType<typeof createServices>;
