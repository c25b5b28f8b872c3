import type { Types } from 'mongoose';
import type { OrganizationDoc } from './organization.model.js';

/** An organization's plan and the operator's overrides, as other capabilities read them. */
export type OrganizationSettings = Pick<
  OrganizationDoc,
  'plan' | 'monthlyMessageQuota' | 'rateLimitPerMinute' | 'rateLimitBurstPerSecond'
>;

/** How api keys and usage ask the organizations capability for them (null: no such organization). */
export type OrganizationSettingsLookup = (
  organizationId: string | Types.ObjectId,
) => Promise<OrganizationSettings | null>;
