import type { Types } from 'mongoose';
import { ReadCache } from '../cache/read-cache.js';
import type { OrganizationSettings } from './organization-settings.js';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../shared/schemas/api-keys.js';
import type { ApiKeysService } from '../api-keys/api-keys.service.js';
import type { OrganizationModel } from './organization.model.js';
import { overridesOf, type Plan } from './plans.js';

export interface CreatedOrganization {
  id: string;
  name: string;
  adminKey: string;
}

/**
 * How long an organization's plan and limits stay cached: the operator changes them from the CLI (another
 * process), and a running server applies a change within 5 seconds, as the API key cache already does.
 */
const SETTINGS_CACHE_MS = 5_000;

type OrganizationSettingsRecord = OrganizationSettings & { _id: Types.ObjectId };

/** Organizations own every resource; each starts with one admin key, shown once. */
export class OrganizationsService {
  /** Read on every chat turn (the quota) and every key resolution. */
  private readonly settings = new ReadCache<OrganizationSettingsRecord>(SETTINGS_CACHE_MS);

  constructor(
    private readonly models: { Organization: OrganizationModel },
    private readonly apiKeys: ApiKeysService,
  ) {}

  async create(name: string, plan: Plan = 'free'): Promise<CreatedOrganization> {
    const org = await this.models.Organization.create({ name, plan });
    const key = await this.apiKeys.create(org._id.toString(), 'Admin key', [...API_KEY_SCOPES] as ApiKeyScope[]);
    return { id: org._id.toString(), name: org.name, adminKey: key.key };
  }

  /** The organization's plan and operator overrides (quotas, rate limits), or null when it does not exist. */
  settingsOf(organizationId: string | Types.ObjectId): Promise<OrganizationSettingsRecord | null> {
    return this.settings.get(organizationId.toString(), () =>
      this.models.Organization.findById(organizationId, {
        plan: 1,
        monthlyMessageQuota: 1,
        rateLimitPerMinute: 1,
        rateLimitBurstPerSecond: 1,
      })
        .lean<OrganizationSettingsRecord>()
        .exec(),
    );
  }

  /** The oldest organization (the one a fresh install created), or null on an empty database. */
  first() {
    return this.models.Organization.findOne().sort({ createdAt: 1, _id: 1 });
  }

  async list() {
    const orgs = await this.models.Organization.find().sort({ createdAt: 1 }).lean();
    return orgs.map((org) => ({ id: org._id.toString(), name: org.name, plan: org.plan, ...overridesOf(org) }));
  }

  /** On an empty database, creates the first organization so a fresh install is usable at once. */
  async bootstrap(): Promise<CreatedOrganization | null> {
    if ((await this.models.Organization.estimatedDocumentCount()) > 0) return null;
    return this.create('Default organization');
  }
}
