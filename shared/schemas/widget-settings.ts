import { z } from 'zod';
import { originSchema } from './chatbots.js';

const hexColor = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, { message: 'must be a hex color like #1f6feb' });

/** An http(s) URL; `javascript:`, `data:` and other schemes are refused. */
export const httpUrlSchema = z
  .string()
  .max(2_000)
  .url({ message: 'must be a URL' })
  .refine((value) => /^https?:\/\//i.test(value), { message: 'must be an http(s) URL' });

/** Custom CSS variables an owner may set, all colors or lengths from a safe list. */
export const CUSTOM_CSS_VARIABLES = [
  '--wisp-radius',
  '--wisp-font-size',
  '--wisp-panel-width',
  '--wisp-panel-height',
  '--wisp-bubble-size',
] as const;

const cssLength = z
  .string()
  .regex(/^\d{1,4}(?:\.\d{1,2})?(?:px|rem|em|%)$/, { message: 'must be a length like 12px or 1rem' });

export const leadFieldSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { message: 'lowercase letters, digits and _' }),
  label: z.string().trim().min(1).max(80),
  type: z.enum(['name', 'email', 'phone', 'company', 'text']),
  required: z.boolean().default(false),
});

/** When the widget asks for the visitor's details. */
export const leadTriggerSchema = z.enum(['before_first_message', 'after_messages', 'cannot_answer', 'human_requested']);

/** Field types a lead holds in its own column; a form may ask for each at most once. */
const SINGLE_USE_FIELD_TYPES = ['name', 'email', 'phone', 'company'] as const;

export const leadCaptureSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    trigger: leadTriggerSchema.default('cannot_answer'),
    /** For `after_messages`: ask after this many visitor messages. */
    afterMessages: z.number().int().min(1).max(50).default(2),
    fields: z.array(leadFieldSchema).max(10).default([]),
    consentText: z.string().trim().max(500).nullable().default(null),
    /** The bot asks for an email in the conversation when it cannot answer. */
    askEmailWhenUnanswered: z.boolean().default(false),
  })
  .superRefine((capture, ctx) => {
    const seenKeys = new Set<string>();
    const seenTypes = new Set<string>();
    capture.fields.forEach((field, index) => {
      if (seenKeys.has(field.key)) {
        ctx.addIssue({ code: 'custom', path: ['fields', index, 'key'], message: `duplicate field key "${field.key}"` });
      }
      if ((SINGLE_USE_FIELD_TYPES as readonly string[]).includes(field.type) && seenTypes.has(field.type)) {
        ctx.addIssue({ code: 'custom', path: ['fields', index, 'type'], message: `only one ${field.type} field` });
      }
      seenKeys.add(field.key);
      seenTypes.add(field.type);
    });
    if (capture.enabled && capture.fields.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'lead capture needs at least one field' });
    }
  });

/** Every owner-tunable widget setting, with its default. */
export const widgetSettingsSchema = z.strictObject({
  primaryColor: hexColor.default('#2563eb'),
  /** Text on the primary color; null = chosen automatically for contrast. */
  textColor: hexColor.nullable().default(null),
  position: z.enum(['bottom-right', 'bottom-left']).default('bottom-right'),
  offsetX: z.number().int().min(0).max(200).default(20),
  offsetY: z.number().int().min(0).max(200).default(20),
  launcherIconUrl: httpUrlSchema.nullable().default(null),
  avatarUrl: httpUrlSchema.nullable().default(null),
  displayName: z.string().trim().min(1).max(60).nullable().default(null),
  welcomeMessage: z.string().trim().max(500).default('Hi! How can I help you today?'),
  inputPlaceholder: z.string().trim().max(100).default('Type your message…'),
  quickPrompts: z.array(z.string().trim().min(1).max(100)).max(6, { message: 'at most 6 quick prompts' }).default([]),
  theme: z.enum(['light', 'dark', 'auto']).default('auto'),
  locale: z
    .string()
    .regex(/^[a-z]{2}(?:-[A-Z]{2})?$/, { message: 'must be a locale like en or en-US' })
    .default('en'),
  strings: z
    // No dots in keys: request bodies refuse dotted keys, and stored documents would read them as paths.
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,39}$/), z.string().max(200))
    .refine((v) => Object.keys(v).length <= 50, { message: 'at most 50 strings' })
    .meta({ propertyNames: { pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,39}$' }, maxProperties: 50 })
    .default({}),
  openOnLoad: z.boolean().default(false),
  showCitations: z.boolean().default(true),
  showPoweredBy: z.boolean().default(true),
  /** The bot's own `allowedOrigins` (one source of truth); empty = any origin. */
  allowedOrigins: z.array(originSchema).max(50).default([]),
  leadCapture: leadCaptureSchema.default({
    enabled: false,
    trigger: 'cannot_answer',
    afterMessages: 2,
    fields: [],
    consentText: null,
    askEmailWhenUnanswered: false,
  }),
  cssVariables: z
    .partialRecord(z.enum(CUSTOM_CSS_VARIABLES), cssLength)
    // Only the listed variables: the document says so, as the generator leaves enum-keyed records open.
    .meta({ additionalProperties: false })
    .default({}),
});

export type WidgetSettings = z.infer<typeof widgetSettingsSchema>;

/** What `GET /api/v1/widget-config` returns: only what the widget needs, nothing private. */
export const widgetConfigSchema = z.object({
  botId: z.string(),
  slug: z.string(),
  name: z.string(),
  version: z.number().int(),
  appearance: z.object({
    primaryColor: z.string(),
    textColor: z.string(),
    position: z.enum(['bottom-right', 'bottom-left']),
    offsetX: z.number(),
    offsetY: z.number(),
    launcherIconUrl: z.string().nullable(),
    avatarUrl: z.string().nullable(),
    theme: z.enum(['light', 'dark', 'auto']),
    cssVariables: z.record(z.string(), z.string()),
  }),
  welcomeMessage: z.string(),
  inputPlaceholder: z.string(),
  quickPrompts: z.array(z.string()),
  locale: z.string(),
  strings: z.record(z.string(), z.string()),
  openOnLoad: z.boolean(),
  showCitations: z.boolean(),
  showPoweredBy: z.boolean(),
  leadCapture: z.object({
    enabled: z.boolean(),
    trigger: leadTriggerSchema,
    afterMessages: z.number(),
    fields: z.array(
      z.object({ key: z.string(), label: z.string(), type: leadFieldSchema.shape.type, required: z.boolean() }),
    ),
    consentText: z.string().nullable(),
  }),
});

export type WidgetConfig = z.infer<typeof widgetConfigSchema>;

type WithoutDefault<T> = T extends z.ZodDefault<infer Inner> ? Inner : T;

/** The same fields, each optional and without its default, so a partial update leaves absent ones alone. */
function optionalFields<T extends z.ZodRawShape>(shape: T): { [K in keyof T]: z.ZodOptional<WithoutDefault<T[K]>> } {
  return Object.fromEntries(
    Object.entries(shape).map(([key, schema]) => [
      key,
      z.optional(schema instanceof z.ZodDefault ? schema.unwrap() : schema),
    ]),
  ) as { [K in keyof T]: z.ZodOptional<WithoutDefault<T[K]>> };
}

/**
 * Body of `PATCH /api/v1/chatbots/:id/widget-settings`: any subset of the settings.
 * `leadCapture` merges one level deep; every other value (arrays, `strings`, `cssVariables`) replaces.
 */
export const widgetSettingsPatchSchema = z.strictObject({
  ...optionalFields(widgetSettingsSchema.shape),
  leadCapture: z.strictObject(optionalFields(leadCaptureSchema.shape)).optional(),
});

export type WidgetSettingsPatch = z.infer<typeof widgetSettingsPatchSchema>;

/** A bot's widget settings as the owner API returns them. */
export const widgetSettingsStateSchema = z.object({
  chatbotId: z.string(),
  /** Starts at 1 (the defaults) and grows by one with every change. */
  version: z.number().int(),
  /** When the settings last changed (the bot's creation time until then). */
  updatedAt: z.string(),
  settings: widgetSettingsSchema,
});

export type WidgetSettingsState = z.infer<typeof widgetSettingsStateSchema>;

/** One change in `GET /api/v1/chatbots/:id/widget-settings/history`, newest first. */
export const widgetSettingsChangeSchema = z.object({
  version: z.number().int(),
  operation: z.enum(['replace', 'patch']),
  /** Top-level settings whose value changed. */
  changedFields: z.array(z.string()),
  /** The id of the API key that made the change. */
  apiKeyId: z.string().nullable(),
  /** The settings as they were after this change. */
  settings: widgetSettingsSchema,
  createdAt: z.string(),
});

export type WidgetSettingsChange = z.infer<typeof widgetSettingsChangeSchema>;

/** Query of the public `GET /api/v1/widget-config`: the bot's id or slug (both unique across the server). */
export const widgetConfigQuerySchema = z.object({
  bot: z
    .string()
    .min(1)
    .max(80)
    .regex(/^[a-zA-Z0-9-]+$/, { message: 'must be a bot id or slug' }),
});
