import type { BotModelSettings } from '../llm/model-resolver.js';
import type { ChunkModel, KnowledgeVersionModel } from './chunk.model.js';
import type { KnowledgeJobModel } from './job.model.js';
import type { SourceContentModel, SourceModel } from './source.model.js';

/** The collections the knowledge capability owns; other capabilities reach them through its services. */
export interface KnowledgeModels {
  Source: SourceModel;
  SourceContent: SourceContentModel;
  Chunk: ChunkModel;
  KnowledgeJob: KnowledgeJobModel;
  KnowledgeVersion: KnowledgeVersionModel;
}

/** A bot's organization and model settings, as resolving its embedding model needs them (null: bot gone). */
export type BotModelSettingsLookup = (chatbotId: string, organizationId?: string) => Promise<BotModelSettings | null>;
