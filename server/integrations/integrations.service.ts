import { Types } from 'mongoose';
import type {
  CreateIntegrationInput,
  IntegrationDto,
  UpdateIntegrationInput,
} from '../../shared/schemas/integrations.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError } from '../errors/app-error.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { refusalAtSave } from '../net/allowed-at-save.js';
import type { IntegrationModel } from './integration.model.js';

type IntegrationRecord = {
  _id: Types.ObjectId;
  name: string;
  baseUrl: string;
  apiKeyEncrypted: string;
  chatModel?: string | null;
  embeddingModel?: string | null;
  createdAt: Date;
  updatedAt: Date;
};

function toDto(doc: IntegrationRecord): IntegrationDto {
  return {
    id: doc._id.toString(),
    name: doc.name,
    baseUrl: doc.baseUrl,
    hasApiKey: Boolean(doc.apiKeyEncrypted),
    chatModel: doc.chatModel ?? null,
    embeddingModel: doc.embeddingModel ?? null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

/** A connection's settings with the key decrypted, for the model resolver only. */
export interface IntegrationSecrets {
  id: string;
  baseUrl: string;
  apiKey: string;
  chatModel: string | null;
  embeddingModel: string | null;
  updatedAt: Date;
}

/** Organization-level model connections; keys are sealed at rest and never returned. */
export class IntegrationsService {
  constructor(
    private readonly models: { Integration: IntegrationModel },
    private readonly secrets: SecretBox,
    private readonly policy: AddressPolicy,
    /** Asks the chatbots capability how many bots use a connection (a used one is not deleted). */
    private readonly chatbotsUsing: (organizationId: string, integrationId: string) => Promise<number>,
  ) {}

  /** Whether the organization has this connection (bots may only point at their own). */
  async exists(organizationId: string, id: string): Promise<boolean> {
    if (!Types.ObjectId.isValid(id)) return false;
    const found = await this.models.Integration.exists({
      _id: new Types.ObjectId(id),
      organizationId: new Types.ObjectId(organizationId),
    });
    return found !== null;
  }

  async create(organizationId: string, input: CreateIntegrationInput): Promise<IntegrationDto> {
    const { apiKey, ...rest } = input;
    await this.assertAllowedBaseUrl(input.baseUrl);
    const doc = await this.models.Integration.create({
      ...rest,
      organizationId: new Types.ObjectId(organizationId),
      apiKeyEncrypted: this.secrets.seal(apiKey),
    });
    return toDto(doc);
  }

  async list(organizationId: string, page: number, perPage: number) {
    const filter = { organizationId: new Types.ObjectId(organizationId) };
    const { items: docs, total } = await findPage(
      this.models.Integration.find(filter).sort(NEWEST_FIRST).lean(),
      this.models.Integration.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toDto), total };
  }

  async get(organizationId: string, id: string): Promise<IntegrationDto> {
    return toDto(await this.find(organizationId, id));
  }

  async update(organizationId: string, id: string, input: UpdateIntegrationInput): Promise<IntegrationDto> {
    const doc = await this.find(organizationId, id);
    const { apiKey, ...rest } = input;
    if (input.baseUrl !== undefined) await this.assertAllowedBaseUrl(input.baseUrl);
    doc.set(rest);
    if (apiKey) doc.apiKeyEncrypted = this.secrets.seal(apiKey);
    await doc.save();
    return toDto(doc);
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    const inUse = await this.chatbotsUsing(doc.organizationId.toString(), doc._id.toString());
    if (inUse > 0) {
      throw new AppError('ConflictError', {
        message: `This model connection is used by ${inUse} chatbot(s); point them elsewhere first`,
        details: { chatbots: inUse },
      });
    }
    await this.models.Integration.deleteOne({ _id: doc._id });
  }

  /** The decrypted settings of a connection of this organization, or null. */
  async secretsOf(organizationId: string, id: string): Promise<IntegrationSecrets | null> {
    const doc = await this.models.Integration.findOne({
      _id: id,
      organizationId: new Types.ObjectId(organizationId),
    }).lean();
    if (!doc) return null;
    return {
      id: doc._id.toString(),
      baseUrl: doc.baseUrl,
      apiKey: this.secrets.open(doc.apiKeyEncrypted),
      chatModel: doc.chatModel ?? null,
      embeddingModel: doc.embeddingModel ?? null,
      updatedAt: doc.updatedAt,
    };
  }

  /** Refuses a base URL whose host is (or resolves to) a private, loopback, link-local or metadata address. */
  private async assertAllowedBaseUrl(baseUrl: string): Promise<void> {
    const refusal = await refusalAtSave(new URL(baseUrl).hostname, this.policy);
    if (!refusal) return;
    throw new AppError('ValidationError', {
      message: `Invalid body: baseUrl: ${refusal}; use a public address (the operator can allow private ones with URL_FETCH_ALLOWED_ADDRESSES)`,
      details: { fields: [{ path: 'baseUrl', message: 'private, loopback, link-local or reserved address' }] },
    });
  }

  private async find(organizationId: string, id: string) {
    const doc = Types.ObjectId.isValid(id)
      ? await this.models.Integration.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw new AppError('NotFoundError', { message: `No model connection with id "${id}"` });
    return doc;
  }
}
