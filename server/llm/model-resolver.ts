import type { Types } from 'mongoose';
import type { BotModels } from './model-client.js';

/** The parts of a chatbot that choose its models. */
export interface BotModelSettings {
  organizationId: Types.ObjectId | string;
  modelSettings?: { integrationId?: Types.ObjectId | string | null; model?: string | null } | null;
}

/** Chooses a bot's chat and embedding models: its integration, else the server default from OPENAI_*. */
export interface ModelResolver {
  forChatbot(bot: BotModelSettings): Promise<BotModels>;
}
