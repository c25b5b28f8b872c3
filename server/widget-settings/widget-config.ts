import { createHash } from 'node:crypto';
import { widgetSettingsSchema, type WidgetConfig, type WidgetSettings } from '../../shared/schemas/widget-settings.js';

const BLACK = '#000000';
const WHITE = '#ffffff';

/** The defaults of every setting, as a bot without stored settings has them. */
export const DEFAULT_WIDGET_SETTINGS: WidgetSettings = widgetSettingsSchema.parse({});

/** WCAG relative luminance of a `#rgb` or `#rrggbb` color. */
function relativeLuminance(hex: string): number {
  const digits = hex.slice(1);
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join('') : digits;
  const channel = (offset: number) => {
    const value = parseInt(full.slice(offset, offset + 2), 16) / 255;
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/** WCAG contrast ratio of two colors, from 1 to 21. */
function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Black or white, whichever reads better on `background`. */
function readableTextColor(background: string): string {
  return contrastRatio(background, BLACK) >= contrastRatio(background, WHITE) ? BLACK : WHITE;
}

/**
 * Stored settings read through the current schema. Values written by an older schema that no
 * longer pass are dropped field by field (falling back to their defaults) rather than failing the bot.
 */
export function readWidgetSettings(stored: unknown, allowedOrigins: string[]): WidgetSettings {
  const input: Record<string, unknown> = {
    ...(stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {}),
    allowedOrigins,
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const result = widgetSettingsSchema.safeParse(input);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      if (issue.path.length > 0) delete input[String(issue.path[0])];
      else for (const key of (issue as { keys?: string[] }).keys ?? []) delete input[key];
    }
  }
  return { ...DEFAULT_WIDGET_SETTINGS, allowedOrigins };
}

export interface ConfigBot {
  _id: { toString(): string };
  slug: string;
  name: string;
  widgetSettingsVersion?: number | null;
}

/** The public config: only what the widget renders from, never instructions, model settings or secrets. */
export function toWidgetConfig(bot: ConfigBot, settings: WidgetSettings): WidgetConfig {
  const { leadCapture } = settings;
  return {
    botId: bot._id.toString(),
    slug: bot.slug,
    name: settings.displayName ?? bot.name,
    version: bot.widgetSettingsVersion ?? 1,
    appearance: {
      primaryColor: settings.primaryColor,
      textColor: settings.textColor ?? readableTextColor(settings.primaryColor),
      position: settings.position,
      offsetX: settings.offsetX,
      offsetY: settings.offsetY,
      launcherIconUrl: settings.launcherIconUrl,
      avatarUrl: settings.avatarUrl,
      theme: settings.theme,
      cssVariables: { ...settings.cssVariables },
    },
    welcomeMessage: settings.welcomeMessage,
    inputPlaceholder: settings.inputPlaceholder,
    quickPrompts: settings.quickPrompts,
    locale: settings.locale,
    strings: settings.strings,
    openOnLoad: settings.openOnLoad,
    showCitations: settings.showCitations,
    showPoweredBy: settings.showPoweredBy,
    leadCapture: {
      enabled: leadCapture.enabled,
      trigger: leadCapture.trigger,
      afterMessages: leadCapture.afterMessages,
      fields: leadCapture.fields.map(({ key, label, type, required }) => ({ key, label, type, required })),
      consentText: leadCapture.consentText,
    },
  };
}

/** A strong validator of the config's exact bytes, so any visible change (name, slug, settings) changes it. */
export function configEtag(config: WidgetConfig): string {
  return `"${createHash('sha256').update(JSON.stringify(config)).digest('base64url').slice(0, 27)}"`;
}
