import { createHash } from 'node:crypto';
import { widgetSettingsSchema, type WidgetConfig, type WidgetSettings } from '../../shared/schemas/widget-settings.js';

export { toWidgetConfig, type ConfigBot } from '../../shared/widget-config.js';

/** The defaults of every setting, as a bot without stored settings has them. */
export const DEFAULT_WIDGET_SETTINGS: WidgetSettings = widgetSettingsSchema.parse({});

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

/** A strong validator of the config's exact bytes, so any visible change (name, slug, settings) changes it. */
export function configEtag(config: WidgetConfig): string {
  return `"${createHash('sha256').update(JSON.stringify(config)).digest('base64url').slice(0, 27)}"`;
}
