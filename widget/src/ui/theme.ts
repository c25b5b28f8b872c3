import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';

const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const LENGTH = /^\d{1,4}(?:\.\d{1,2})?(?:px|rem|em|%)$/;
const ALLOWED_VARIABLES = [
  '--wisp-radius',
  '--wisp-font-size',
  '--wisp-panel-width',
  '--wisp-panel-height',
  '--wisp-bubble-size',
];
const FALLBACK_PRIMARY = '#2563eb';
/** WCAG 2.1 AA for normal text. */
export const MIN_CONTRAST = 4.5;

function channels(hex: string): [number, number, number] {
  const full = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, (c) => c + c) : hex;
  return [1, 3, 5].map((i) => parseInt(full.slice(i, i + 2), 16) / 255) as [number, number, number];
}

/** Relative luminance as WCAG defines it. */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The text color on the primary color: the owner's when it reaches AA contrast, else black or
 * white, whichever contrasts more (one of them always reaches at least 4.58:1).
 */
export function textColorOn(primary: string, preferred: string | null | undefined): string {
  if (preferred && HEX.test(preferred) && contrastRatio(primary, preferred) >= MIN_CONTRAST) return preferred;
  return contrastRatio(primary, '#ffffff') >= contrastRatio(primary, '#000000') ? '#ffffff' : '#000000';
}

/**
 * The `:host` custom properties for a config. Every value is checked against a strict pattern
 * before it reaches CSS, so a config can never inject rules.
 */
export function themeCss(config: WidgetConfig): string {
  const { appearance } = config;
  const primary = HEX.test(appearance.primaryColor) ? appearance.primaryColor : FALLBACK_PRIMARY;
  const offset = (value: number) => `${Math.max(0, Math.min(200, Math.round(value) || 0))}px`;
  const declarations = [
    `--wisp-primary:${primary}`,
    `--wisp-on-primary:${textColorOn(primary, appearance.textColor)}`,
    `--wisp-offset-x:${offset(appearance.offsetX)}`,
    `--wisp-offset-y:${offset(appearance.offsetY)}`,
  ];
  for (const [name, value] of Object.entries(appearance.cssVariables ?? {})) {
    if (ALLOWED_VARIABLES.includes(name) && LENGTH.test(value)) declarations.push(`${name}:${value}`);
  }
  return `:host{${declarations.join(';')}}`;
}
