import { batch, effect, signal } from '@preact/signals';
import type { MessageDto } from '../../../shared/schemas/chat.js';
import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';
import type { WidgetClientEvents } from '../../../shared/socket-events.js';
import type { ChatContext } from '../chat-context.js';
import type { ChatStore } from './chat-store.js';
import { asksForHuman, cannotAnswer, fieldProblem } from './lead-triggers.js';
import { widgetStrings } from './strings.js';

type Trigger = WidgetConfig['leadCapture']['trigger'];

/** `dismissed` and `thanks` are final for this page: the form is not asked again. */
export type LeadPhase = 'hidden' | 'form' | 'sending' | 'thanks' | 'dismissed';

/** The `lead:submit` payload without the conversation, which the connection adds. */
export type LeadPayload = Omit<Parameters<WidgetClientEvents['lead:submit']>[0], 'conversationId'>;

/** The server's answer to `lead:submit`; null when it never came (offline, timeout). */
export type LeadReply =
  | { data: { leadId: string }; error?: undefined }
  | { data?: undefined; error: { name: string; message: string; details?: unknown } }
  | null;

/** What the lead form needs from the socket. */
export interface LeadSender {
  submitLead(payload: LeadPayload): Promise<LeadReply>;
  /** Sends the visitor messages held while the form came first. */
  releaseHeld(): void;
}

/** What the connection tells the lead capture, so it can decide when to ask. */
export interface LeadTriggers {
  /** True when a visitor message must wait for the form (`before_first_message`). */
  holds(): boolean;
  /** A visitor message was stored. */
  sent(text: string): void;
  /** An answer this tab asked for is complete. */
  answered(answer: MessageDto): void;
}

const LOCALE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

function serverFieldErrors(details: unknown): { fields: Record<string, string>; rest: string[] } | null {
  const issues = (details as { fields?: unknown } | null)?.fields;
  if (!Array.isArray(issues)) return null;
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const issue of issues as Array<{ path?: unknown; message?: unknown }>) {
    if (typeof issue.message !== 'string') continue;
    const path = typeof issue.path === 'string' ? issue.path : '';
    const key = path === 'consent' ? 'consent' : path.startsWith('fields.') ? path.slice(7) : null;
    if (key) fields[key] ??= issue.message;
    else rest.push(issue.message);
  }
  return { fields, rest };
}

/**
 * The lead form's state and its triggers, decided here from the bot's config. Per bot, a lead
 * given is remembered in localStorage (never asked again), a dismissal in sessionStorage.
 */
export function createLeadCapture(ctx: ChatContext, store: ChatStore, locale: string) {
  const { storage } = ctx;
  const phase = signal<LeadPhase>('hidden');
  const reason = signal<Trigger | null>(null);
  /** Error text by field key (and `consent`). */
  const errors = signal<Record<string, string>>({});
  const formError = signal<string | null>(null);
  /** How many messages precede the form in the thread: it (and its thanks) stays there as the chat goes on. */
  const position = signal(0);
  const capture = () => store.settings.peek().leadCapture;
  const t = (key: Parameters<ReturnType<typeof widgetStrings>>[0]) => widgetStrings(store.settings.peek())(key);
  const firstMessageDue = () =>
    !storage.get('conversation') && !store.messages.peek().some((message) => message.role === 'user');

  function ask(trigger: Trigger) {
    const config = capture();
    if (!config.enabled || config.trigger !== trigger || config.fields.length === 0) return;
    if (phase.peek() !== 'hidden' || storage.get('lead') === 'given' || storage.getSession('lead') === 'dismissed')
      return;
    batch(() => {
      reason.value = trigger;
      errors.value = {};
      formError.value = null;
      // After everything on screen, including the reply bubble of a message that triggered it.
      position.value = store.messages.peek().length;
      phase.value = 'form';
    });
  }

  // Opening the panel before the first message (or the owner enabling the form meanwhile) asks first.
  const dispose = effect(() => {
    if (store.open.value && store.settings.value.leadCapture.enabled && firstMessageDue()) ask('before_first_message');
  });

  const triggers: LeadTriggers = {
    holds() {
      if (firstMessageDue()) ask('before_first_message');
      const current = phase.peek();
      return reason.peek() === 'before_first_message' && (current === 'form' || current === 'sending');
    },
    sent(text) {
      if (asksForHuman(text)) ask('human_requested');
      const stored = store.messages.peek().filter((message) => message.role === 'user' && message.id).length;
      if (stored >= capture().afterMessages) ask('after_messages');
    },
    answered(answer) {
      if (cannotAnswer(answer)) ask('cannot_answer');
    },
  };

  return {
    phase,
    position,
    reason,
    errors,
    formError,
    triggers,
    /** Stops the effect above (the widget is being destroyed). */
    dispose,

    /** Checks the answers, then sends them; false when the visitor has something to fix. */
    async submit(sender: LeadSender, values: Record<string, string>, consent: boolean): Promise<boolean> {
      const config = capture();
      const found: Record<string, string> = {};
      const fields: Record<string, string> = {};
      for (const field of config.fields) {
        const value = (values[field.key] ?? '').trim();
        const problem = fieldProblem(field.type, value, field.required);
        if (problem) found[field.key] = t(problem);
        else if (value) fields[field.key] = value;
      }
      if (config.consentText && !consent) found.consent = t('lead.consent');
      const empty = Object.keys(found).length === 0 && Object.keys(fields).length === 0;
      batch(() => {
        errors.value = found;
        formError.value = empty ? t('lead.empty') : null;
      });
      if (empty || Object.keys(found).length > 0) return false;

      phase.value = 'sending';
      const reply = await sender.submitLead({
        fields,
        ...(config.consentText ? { consent } : {}),
        pageUrl: location.href.slice(0, 2000),
        ...(document.referrer ? { referrer: document.referrer.slice(0, 2000) } : {}),
        ...(LOCALE.test(locale) ? { locale } : {}),
      });
      if (reply?.data) {
        storage.set('lead', 'given');
        phase.value = 'thanks';
        ctx.emit('lead', { leadId: reply.data.leadId });
        sender.releaseHeld();
        return true;
      }
      const server = serverFieldErrors(reply?.error.details);
      batch(() => {
        errors.value = server?.fields ?? {};
        formError.value = server ? server.rest.join(' ') || null : t('lead.failed');
        phase.value = 'form';
      });
      return false;
    },

    dismiss(sender: LeadSender) {
      storage.setSession('lead', 'dismissed');
      phase.value = 'dismissed';
      sender.releaseHeld();
    },
  };
}

export type LeadCapture = ReturnType<typeof createLeadCapture>;
