import type { Connection, Model } from 'mongoose';
import { apiKeyModel } from '../api-keys/api-key.model.js';
import { unansweredModel } from '../chat/unanswered.model.js';
import { chatbotModel } from '../chatbots/chatbot.model.js';
import { makeSlugsGloballyUnique } from '../chatbots/slug-migration.js';
import { conversationModel } from '../conversations/conversation.model.js';
import { messageModel } from '../conversations/message.model.js';
import { idempotencyKeyModel } from '../idempotency/idempotency.model.js';
import { integrationModel } from '../integrations/integration.model.js';
import { chunkModel, knowledgeVersionModel } from '../knowledge/chunk.model.js';
import { knowledgeJobModel } from '../knowledge/job.model.js';
import { sourceContentModel, sourceModel } from '../knowledge/source.model.js';
import { leadModel } from '../leads/lead.model.js';
import { organizationModel } from '../organizations/organization.model.js';
import { usageModel } from '../usage/usage.model.js';
import { widgetSettingsHistoryModel } from '../widget-settings/widget-settings-history.model.js';

/** Every model of the app, bound to one connection (tests run one database per file). */
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
  };
  return {
    ...models,
    /** Models whose documents carry a `chatbotId` and go when their bot is deleted. */
    ownedByChatbot: [
      models.Conversation,
      models.Message,
      models.Unanswered,
      models.Lead,
      models.WidgetSettingsHistory,
      models.KnowledgeJob,
      models.Source,
      models.SourceContent,
      models.Chunk,
      models.KnowledgeVersion,
    ] as Model<unknown>[],
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
