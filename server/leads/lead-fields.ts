import { z } from 'zod';
import type { FieldIssue } from '../../shared/errors.js';
import type { WidgetSettings } from '../../shared/schemas/widget-settings.js';
import { AppError } from '../errors/app-error.js';

type LeadCapture = WidgetSettings['leadCapture'];
type LeadField = LeadCapture['fields'][number];

/** A submission's answers sorted into the lead's columns. */
export interface LeadValues {
  email: string | null;
  name: string | null;
  phone: string | null;
  company: string | null;
  custom: Record<string, string>;
}

const emailSchema = z.email().max(254);
const PHONE = /^\+?[0-9(][0-9 ()./-]{3,28}[0-9]$/;
const CONTROL_CHARACTERS = /\p{Cc}/u;
const MAX_LENGTH: Record<LeadField['type'], number> = { name: 100, email: 254, phone: 32, company: 100, text: 1_000 };

/** The form a bot asks: its configured fields, or only an email when the bot asked in the conversation. */
export function formFields(capture: LeadCapture, source: 'form' | 'conversation'): LeadField[] {
  if (source === 'form') return capture.fields;
  return [{ key: 'email', label: 'Email', type: 'email', required: true }];
}

function problem(field: LeadField, value: string): string | null {
  if (value.length > MAX_LENGTH[field.type]) return `must be at most ${MAX_LENGTH[field.type]} characters`;
  if (field.type === 'email' && !emailSchema.safeParse(value).success) return 'must be an email address';
  if (field.type === 'phone') {
    const digits = value.replace(/\D/g, '').length;
    if (!PHONE.test(value) || digits < 5 || digits > 15) return 'must be a phone number like +1 555 123 4567';
  }
  if (field.type !== 'text' && CONTROL_CHARACTERS.test(value)) return 'must be a single line of text';
  return null;
}

/**
 * Checks answers against the bot's form (unknown keys, required fields, email and phone
 * shapes, the consent box) and throws one 422 naming every failing field.
 */
export function validateLeadFields(
  fields: LeadField[],
  consentText: string | null,
  answers: Record<string, string>,
  consent: boolean | undefined,
): LeadValues {
  const issues: FieldIssue[] = [];
  const values: LeadValues = { email: null, name: null, phone: null, company: null, custom: {} };
  const known = new Set(fields.map((f) => f.key));
  for (const key of Object.keys(answers)) {
    if (!known.has(key)) issues.push({ path: `fields.${key}`, message: 'is not a field of this form' });
  }
  for (const field of fields) {
    const value = (answers[field.key] ?? '').trim();
    if (!value) {
      if (field.required) issues.push({ path: `fields.${field.key}`, message: `${field.label} is required` });
      continue;
    }
    const failure = problem(field, value);
    if (failure) issues.push({ path: `fields.${field.key}`, message: failure });
    else if (field.type === 'text') values.custom[field.key] = value;
    else values[field.type] = field.type === 'email' ? value.toLowerCase() : value;
  }
  const answered = [values.email, values.name, values.phone, values.company].some(Boolean);
  if (issues.length === 0 && !answered && Object.keys(values.custom).length === 0) {
    issues.push({ path: 'fields', message: 'fill in at least one field' });
  }
  if (consentText && consent !== true) {
    issues.push({ path: 'consent', message: 'the consent box must be ticked to send this form' });
  }
  if (issues.length > 0) {
    throw new AppError('ValidationError', {
      message: `Invalid lead: ${issues
        .slice(0, 3)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
      details: { fields: issues },
    });
  }
  return values;
}
