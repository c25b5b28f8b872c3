import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { PLANS } from './plans.js';

const organizationSchema = new Schema(
  {
    name: { type: String, required: true, maxlength: 200 },
    plan: { type: String, enum: PLANS, default: 'free', required: true },
    // The operator's overrides of the plan's defaults (null = the plan's; 0 = unlimited).
    monthlyMessageQuota: { type: Number, default: null },
    rateLimitPerMinute: { type: Number, default: null },
    rateLimitBurstPerSecond: { type: Number, default: null },
  },
  { timestamps: true },
);

export type OrganizationDoc = InferSchemaType<typeof organizationSchema>;

export function organizationModel(connection: Connection) {
  return connection.model('Organization', organizationSchema, 'organizations');
}

export type OrganizationModel = ReturnType<typeof organizationModel>;
/** One stored organization as queries return it. */
export type OrganizationRecord = Awaited<ReturnType<OrganizationModel['findOne']>> & object;
