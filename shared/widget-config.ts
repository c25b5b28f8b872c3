/** The public widget config built from a bot's settings: the server answers it, the console previews it. */
import type { WidgetConfig, WidgetSettings } from './schemas/widget-settings.js';

const BLACK = '#000000';
const WHITE = '#ffffff';

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
