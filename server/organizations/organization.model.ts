import { Schema, type Connection, type InferSchemaType } from 'mongoose';

const organizationSchema = new Schema(
  {
    name: { type: String, required: true, maxlength: 200 },
    plan: { type: String, enum: ['free', 'pro'], default: 'free', required: true },
    /** Overrides the server's default monthly message quota when set. */
    monthlyMessageQuota: { type: Number, default: null },
  },
  { timestamps: true },
);

export type OrganizationDoc = InferSchemaType<typeof organizationSchema>;

export function organizationModel(connection: Connection) {
  return connection.model('Organization', organizationSchema, 'organizations');
}
