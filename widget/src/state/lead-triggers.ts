import type { MessageDto } from '../../../shared/schemas/chat.js';
import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';
import type { StringKey } from './strings.js';

type FieldType = WidgetConfig['leadCapture']['fields'][number]['type'];

/** The server's low-confidence threshold: answers below it go to the gap log, and count as "cannot answer". */
export const LOW_CONFIDENCE = 0.5;

/**
 * Words that ask for a person rather than the bot. English only for now; kept short on purpose,
 * since a false match only offers the form (which the visitor may dismiss).
 */
const ASKS_FOR_HUMAN =
  /\b(?:human|agent|person|someone|somebody|representative|operator|real people|(?:talk|speak|chat) (?:to|with))\b/i;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Same shape as the server's check, so the form never passes what the server refuses. */
const PHONE = /^\+?[0-9(][0-9 ()./-]{3,28}[0-9]$/;

/** Whether a visitor message asks to reach a human (the `human_requested` trigger). */
export function asksForHuman(text: string): boolean {
  return ASKS_FOR_HUMAN.test(text);
}

/** Whether a complete answer is one the bot could not really give (the `cannot_answer` trigger). */
export function cannotAnswer(answer: Pick<MessageDto, 'status' | 'confidence' | 'sources'>): boolean {
  if (answer.status !== 'complete') return false;
  return answer.sources.length === 0 || (answer.confidence !== null && answer.confidence < LOW_CONFIDENCE);
}

/** What is wrong with one trimmed answer of the lead form, as a string key; null when it is fine. */
export function fieldProblem(type: FieldType, value: string, required: boolean): StringKey | null {
  if (!value) return required ? 'lead.required' : null;
  if (type === 'email' && !EMAIL.test(value)) return 'lead.badEmail';
  if (type === 'phone') {
    const digits = value.replace(/\D/g, '').length;
    if (!PHONE.test(value) || digits < 5 || digits > 15) return 'lead.badPhone';
  }
  return null;
}
