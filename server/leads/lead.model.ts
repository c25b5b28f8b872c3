import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** A person who left their details in a bot's widget; one per email per bot. */
const leadSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    /**
     * `email:<address>`, or `visitor:<visitorId>` when no email was given (with `|visitor:<visitorId>`
     * appended for another visitor's submission of a known email). Always set because the
     * embedded engine has no partial indexes: a unique index on `email` alone would treat every
     * missing email as the same value.
     */
    dedupeKey: { type: String, required: true },
    email: { type: String, default: null },
    name: { type: String, default: null },
    phone: { type: String, default: null },
    company: { type: String, default: null },
    /** Answers to the owner's custom text fields, by field key. */
    custom: { type: Schema.Types.Mixed, default: () => ({}) },
    consent: {
      given: { type: Boolean, default: false },
      text: { type: String, default: null },
      at: { type: Date, default: null },
    },
    pageUrl: { type: String, default: null },
    referrer: { type: String, default: null },
    userAgent: { type: String, default: null },
    locale: { type: String, default: null },
    /** The widget visitor who left the lead: the only one whose later submissions change it. */
    visitorId: { type: String, default: null },
    /** Set when another visitor gave an email that already had a lead: that first lead. */
    duplicateOf: { type: Schema.Types.ObjectId, default: null },
    conversationIds: { type: [Schema.Types.ObjectId], default: [] },
  },
  { timestamps: true, minimize: false },
);
leadSchema.index({ chatbotId: 1, dedupeKey: 1 }, { unique: true });
leadSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });
leadSchema.index({ duplicateOf: 1 });
leadSchema.index({ organizationId: 1, chatbotId: 1, createdAt: -1 });
// Each new widget conversation looks its visitor's leads up (`attachToLeads`), and links the latest one.
leadSchema.index({ chatbotId: 1, visitorId: 1, updatedAt: -1 });

export type LeadDoc = InferSchemaType<typeof leadSchema>;

export function leadModel(connection: Connection) {
  return connection.model('Lead', leadSchema, 'leads');
}

export type LeadModel = ReturnType<typeof leadModel>;
/** One stored lead as queries return it. */
export type LeadRecord = Awaited<ReturnType<LeadModel['findOne']>> & object;
