import { Readable } from 'node:stream';
import { Types } from 'mongoose';
import type { LeadDetail, LeadDto, LeadListItem } from '../../shared/schemas/leads.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import { listFilter, type ListFilters } from '../db/list-filter.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import type { LeadModel } from './lead.model.js';
import type { ChatbotModel } from '../chatbots/chatbot.model.js';
import { AppError } from '../errors/app-error.js';
import type { DomainEvents, EventPublisher } from '../events/domain-events.js';
import { settingsOfBot } from '../widget-settings/widget-settings.service.js';
import { formFields, validateLeadFields } from './lead-fields.js';
import { leadsCsv, type LeadRow } from './leads-csv.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { KeyedGroupCommit } from '../db/group-commit.js';
import type { LeadRecord } from './lead.model.js';
import type { ChatbotRecord } from '../chatbots/chatbot.model.js';
import type { ConversationRecord } from '../conversations/conversation.model.js';

/** One lead form (or in-chat email) sent by a widget visitor of a bot the caller already holds. */
export interface LeadAnswers {
  visitorId: string;
  /** The conversation to link; the visitor's latest conversation with the bot when absent. */
  conversationId?: string | null;
  /** Answers by the configured field keys. */
  fields: Record<string, string>;
  consent?: boolean;
  pageUrl?: string | null;
  referrer?: string | null;
  userAgent?: string | null;
  locale?: string | null;
  /** `form` (default): the configured form. `conversation`: an email the visitor gave the bot in chat. */
  source?: 'form' | 'conversation';
}

/** One lead form (or in-chat email) sent by a widget visitor, naming the bot by id. */
export interface LeadSubmission extends LeadAnswers {
  organizationId: string;
  chatbotId: string;
}

export type LeadFilters = ListFilters;

/** A conversation a widget visitor just started. */
interface VisitorConversation {
  visitorId: string;
  conversationId: Types.ObjectId;
}

/** Transcripts shown with one lead: its newest conversations, each up to this many messages. */
const DETAIL_CONVERSATIONS = 10;
const DETAIL_MESSAGES = 500;
const REDACTED = '[removed]';

/** Only http(s) URLs are kept: anything else could become a script link in a dashboard. */
function httpUrlOrNull(value: string | null | undefined): string | null {
  return value && /^https?:\/\//i.test(value) ? value.slice(0, 2_000) : null;
}

function toLeadDto(doc: LeadRecord): LeadDto {
  return {
    id: doc._id.toString(),
    chatbotId: doc.chatbotId.toString(),
    email: doc.email ?? null,
    name: doc.name ?? null,
    phone: doc.phone ?? null,
    company: doc.company ?? null,
    custom: (doc.custom ?? {}) as Record<string, string>,
    consent: {
      given: doc.consent?.given ?? false,
      text: doc.consent?.text ?? null,
      at: doc.consent?.at ? doc.consent.at.toISOString() : null,
    },
    pageUrl: doc.pageUrl ?? null,
    referrer: doc.referrer ?? null,
    userAgent: doc.userAgent ?? null,
    locale: doc.locale ?? null,
    visitorId: doc.visitorId ?? null,
    duplicateOf: doc.duplicateOf ? doc.duplicateOf.toString() : null,
    conversationIds: (doc.conversationIds ?? []).map(String),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

function toConversationLink(doc: ConversationRecord): NonNullable<LeadListItem['conversation']> {
  const id = doc._id.toString();
  return {
    id,
    url: `/api/v1/conversations/${id}`,
    messageCount: doc.messageCount ?? 0,
    lastMessage: doc.lastMessageAt
      ? { preview: doc.lastMessagePreview ?? '', at: doc.lastMessageAt.toISOString() }
      : null,
    createdAt: doc.createdAt.toISOString(),
  };
}

/** Leads per bot: captured from widgets, deduplicated by email, readable and erasable by their organization. */
export class LeadsService {
  constructor(
    private readonly models: {
      Lead: LeadModel;
      Chatbot: ChatbotModel;
    },
    /** The owner of conversations and messages: leads link, read and redact them through it. */
    private readonly conversations: ConversationsService,
    /** Announces `lead.created`. */
    private readonly events: EventPublisher,
  ) {}

  /** New widget conversations waiting to be linked to their visitor's lead, by bot (see `attachToLeads`). */
  private readonly newVisitorConversations = new KeyedGroupCommit<VisitorConversation>((chatbotId, started) =>
    this.attachToLeads(chatbotId, started),
  );

  /** Removes a deleted bot's leads. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    await this.models.Lead.deleteMany({ chatbotId: new Types.ObjectId(chatbotId) });
  }

  /**
   * Validates the answers against the bot's form and stores them. Leads are deduplicated by email
   * (without one, by visitor): the visitor who left a lead may update it, but another visitor giving
   * a known email cannot change or erase what it holds. Their answers become a lead of their own,
   * linked to the first by `duplicateOf`, so nothing sent is lost, and the answer looks the same
   * whether or not the email was known.
   */
  async submit(input: LeadSubmission): Promise<{ leadId: string }> {
    const bot = await this.models.Chatbot.findOne({
      _id: new Types.ObjectId(input.chatbotId),
      organizationId: new Types.ObjectId(input.organizationId),
      status: 'active',
    });
    if (!bot) throw new AppError('NotFoundError', { message: `No active bot "${input.chatbotId}"` });
    return this.submitFor(bot, input);
  }

  /** {@link submit} for an active bot the caller has already looked up, so it is not read twice. */
  async submitFor(bot: ChatbotRecord, input: LeadAnswers): Promise<{ leadId: string }> {
    const capture = settingsOfBot(bot).leadCapture;
    const source = input.source ?? 'form';
    if (source === 'form' ? !capture.enabled : !capture.askEmailWhenUnanswered) {
      throw new AppError('ForbiddenError', { message: 'This bot does not collect visitor details' });
    }
    const consentText = source === 'form' ? capture.consentText : null;
    const values = validateLeadFields(formFields(capture, source), consentText, input.fields, input.consent);
    const conversation = await this.conversationFor(bot._id, input.visitorId, input.conversationId, source);

    const set: Record<string, unknown> = {};
    for (const key of ['email', 'name', 'phone', 'company'] as const) if (values[key]) set[key] = values[key];
    for (const [key, value] of Object.entries(values.custom)) set[`custom.${key}`] = value;
    if (consentText) set.consent = { given: true, text: consentText, at: new Date() };
    const pageUrl = httpUrlOrNull(input.pageUrl);
    const referrer = httpUrlOrNull(input.referrer);
    if (pageUrl) set.pageUrl = pageUrl;
    if (referrer) set.referrer = referrer;
    if (input.userAgent) set.userAgent = input.userAgent.slice(0, 500);
    if (input.locale) set.locale = input.locale;
    const key = values.email ? `email:${values.email}` : `visitor:${input.visitorId}`;
    // Claim the key for this visitor unless someone holds it already; only the holder may write to it.
    const first = await this.upsertLead(bot, key, { visitorId: input.visitorId }, {});
    const own = first.lead.visitorId === input.visitorId;
    const { lead, created } = await this.upsertLead(
      bot,
      own ? key : `${key}|visitor:${input.visitorId}`,
      { visitorId: input.visitorId, ...(own ? {} : { duplicateOf: first.lead._id }) },
      {
        ...(Object.keys(set).length > 0 ? { $set: set } : {}),
        ...(conversation ? { $addToSet: { conversationIds: conversation._id } } : {}),
      },
    );
    if (conversation) await this.linkConversation(conversation, lead._id, values.email, values.name);
    if (created || (own && first.created)) {
      const fields: Record<string, string> = {};
      for (const key of ['email', 'name', 'phone', 'company'] as const) if (values[key]) fields[key] = values[key];
      Object.assign(fields, values.custom);
      await this.events.notifyDurably('lead.created', {
        organizationId: bot.organizationId.toString(),
        chatbotId: bot._id.toString(),
        leadId: lead._id.toString(),
        conversationId: conversation ? conversation._id.toString() : null,
        fields,
        source: source === 'form' ? 'widget' : 'chat',
      });
    }
    return { leadId: lead._id.toString() };
  }

  /** Finds or creates the bot's lead under `dedupeKey`, applying `update`; `created` when this call inserted it. */
  private async upsertLead(
    bot: ChatbotRecord,
    dedupeKey: string,
    onInsert: Record<string, unknown>,
    update: Record<string, unknown>,
  ): Promise<{ lead: LeadRecord; created: boolean }> {
    const filter = { chatbotId: bot._id, dedupeKey };
    // The id is chosen here, so the lead returned tells whether this call inserted it.
    const _id = new Types.ObjectId();
    const full = { ...update, $setOnInsert: { _id, organizationId: bot.organizationId, ...onInsert } };
    // Schema defaults are not added on insert: `custom.<key>` and a default `custom` would collide.
    const options = { upsert: true, returnDocument: 'after', setDefaultsOnInsert: false } as const;
    const lead = await this.models.Lead.findOneAndUpdate(filter, full, options).catch(async (error: unknown) => {
      // Two first submissions raced to insert: the loser's update now finds the winner's lead.
      if (!isDuplicateKeyError(error)) throw error;
      return this.models.Lead.findOneAndUpdate(filter, full, options);
    });
    return { lead, created: lead._id.equals(_id) };
  }

  /** When each lead of these bots of the organization was captured in [from, to) (ms since the epoch). */
  async captureTimes(organizationId: string, chatbotIds: Types.ObjectId[], from: Date, to: Date): Promise<number[]> {
    const leads = await this.models.Lead.find(
      {
        organizationId: new Types.ObjectId(organizationId),
        chatbotId: { $in: chatbotIds },
        createdAt: { $gte: from, $lt: to },
      },
      'createdAt',
    ).lean();
    return leads.map((lead) => lead.createdAt.getTime());
  }

  async list(organizationId: string, filters: LeadFilters, page: number, perPage: number) {
    const filter = this.filterOf(organizationId, filters);
    const { items: docs, total } = await findPage(
      this.models.Lead.find(filter).sort(NEWEST_FIRST),
      this.models.Lead.countDocuments(filter),
      page,
      perPage,
    );
    const latestIds = docs.map((d) => d.conversationIds.at(-1)).filter((id) => id !== undefined);
    const conversations = await this.conversations.byIds(latestIds);
    const byId = new Map(conversations.map((c) => [c._id.toString(), c]));
    const items: LeadListItem[] = docs.map((doc) => {
      const latest = byId.get(String(doc.conversationIds.at(-1)));
      return { ...toLeadDto(doc), conversation: latest ? toConversationLink(latest) : null };
    });
    return { items, total };
  }

  async detail(organizationId: string, id: string): Promise<LeadDetail> {
    const lead = await this.find(organizationId, id);
    const transcripts = await this.conversations.transcripts(
      lead.conversationIds,
      DETAIL_CONVERSATIONS,
      DETAIL_MESSAGES,
    );
    return { ...toLeadDto(lead), conversations: transcripts };
  }

  /** The matching leads as CSV, newest first, read through a cursor so any number of leads streams in flat memory. */
  exportCsv(organizationId: string, filters: LeadFilters): Readable {
    const cursor = this.models.Lead.find(this.filterOf(organizationId, filters))
      .sort({ createdAt: -1, _id: -1 })
      .lean<LeadRow[]>()
      .cursor({ batchSize: 200 });
    return Readable.from(leadsCsv(cursor));
  }

  /**
   * Erases the person: the lead goes (with the leads other visitors left under the same email),
   * and its conversations keep neither their name nor their email, also where the email was typed
   * into a message.
   */
  async remove(organizationId: string, id: string): Promise<void> {
    const lead = await this.find(organizationId, id);
    const duplicates = await this.models.Lead.find({ organizationId: lead.organizationId, duplicateOf: lead._id });
    for (const doc of [...duplicates, lead]) await this.erase(doc);
  }

  private async erase(lead: LeadRecord): Promise<void> {
    await this.conversations.forgetLead(lead._id, lead.conversationIds, lead.email ?? null, REDACTED);
    await this.models.Lead.deleteOne({ _id: lead._id });
  }

  private async find(organizationId: string, id: string): Promise<LeadRecord> {
    const doc = Types.ObjectId.isValid(id)
      ? await this.models.Lead.findOne({
          _id: new Types.ObjectId(id),
          organizationId: new Types.ObjectId(organizationId),
        })
      : null;
    if (!doc) throw new AppError('NotFoundError', { message: `No lead with id "${id}"` });
    return doc;
  }

  private filterOf(organizationId: string, filters: LeadFilters): Record<string, unknown> {
    return listFilter(organizationId, filters, ['name', 'email', 'company']);
  }

  /** The named conversation (it must be this visitor's, with this bot), else the visitor's latest. */
  private async conversationFor(
    chatbotId: Types.ObjectId,
    visitorId: string,
    conversationId: string | null | undefined,
    source: 'form' | 'conversation',
  ): Promise<ConversationRecord | null> {
    if (!conversationId) {
      return this.conversations.latestForVisitor(chatbotId, visitorId);
    }
    const found = await this.conversations.ofBot(chatbotId, conversationId);
    // Only the visitor's own widget conversations: ids are guessable, and API conversations belong to no visitor.
    // The chat engine itself links the conversation the email was given in, whichever door it came through.
    if (!found || (source === 'form' && found.visitorId !== visitorId)) {
      throw new AppError('NotFoundError', { message: `No conversation with id "${conversationId}" for this visitor` });
    }
    return found;
  }

  /**
   * Subscriber of `conversation.created`: links a widget visitor's lead to a conversation that started after
   * the form was sent (the `before_first_message` trigger asks before any conversation exists). Most visitors
   * left no lead, so the conversations a bot's visitors started together are looked up in one read (see
   * `attachToLeads`), not one update each.
   */
  async attachVisitorConversation(event: DomainEvents['conversation.created']): Promise<void> {
    if (!event.visitorId) return;
    await this.newVisitorConversations.add(event.chatbotId, {
      visitorId: event.visitorId,
      conversationId: new Types.ObjectId(event.conversationId),
    });
  }

  /** One bot's new visitor conversations: one read finds the visitors with a lead, and only theirs are linked. */
  private async attachToLeads(chatbotId: string, started: VisitorConversation[]): Promise<unknown[]> {
    const botId = new Types.ObjectId(chatbotId);
    const visitorIds = [...new Set(started.map((item) => item.visitorId))];
    const withLead = await this.models.Lead.find({ chatbotId: botId, visitorId: { $in: visitorIds } }, 'visitorId')
      .lean<Array<{ visitorId: string }>>()
      .then((leads) => new Set(leads.map((lead) => lead.visitorId)));
    // Each link fails alone (its subscriber call rejects), as when each conversation was linked by itself.
    const errors: unknown[] = [];
    for (const [index, { visitorId, conversationId }] of started.entries()) {
      if (!withLead.has(visitorId)) continue;
      try {
        const lead = await this.models.Lead.findOneAndUpdate(
          { chatbotId: botId, visitorId },
          { $addToSet: { conversationIds: conversationId } },
          { returnDocument: 'after', sort: { updatedAt: -1 } },
        );
        if (lead) await this.conversations.linkLead(conversationId, lead._id, lead.email ?? null, lead.name ?? null);
      } catch (error) {
        errors[index] = error;
      }
    }
    return errors;
  }

  private async linkConversation(
    conversation: ConversationRecord,
    leadId: Types.ObjectId,
    email: string | null,
    name: string | null,
  ): Promise<void> {
    await this.conversations.linkLead(conversation._id, leadId, email, name);
  }
}
