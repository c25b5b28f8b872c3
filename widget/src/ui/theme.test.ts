import { describe, expect, it } from 'vitest';
import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';
import { contrastRatio, MIN_CONTRAST, textColorOn, themeCss } from './theme.js';

function config(appearance: Partial<WidgetConfig['appearance']>): WidgetConfig {
  return {
    appearance: {
      primaryColor: '#2563eb',
      textColor: '#ffffff',
      position: 'bottom-right',
      offsetX: 20,
      offsetY: 20,
      launcherIconUrl: null,
      avatarUrl: null,
      theme: 'auto',
      cssVariables: {},
      ...appearance,
    },
  } as WidgetConfig;
}

describe('widget theme', () => {
  it('picks a text color with AA contrast for any primary color', () => {
    for (let i = 0; i < 4096; i += 7) {
      const primary = `#${i.toString(16).padStart(3, '0')}`;
      expect(contrastRatio(primary, textColorOn(primary, null))).toBeGreaterThanOrEqual(MIN_CONTRAST);
    }
  });

  it("keeps the owner's text color only when it is readable", () => {
    expect(textColorOn('#1e3a8a', '#fde68a')).toBe('#fde68a');
    expect(textColorOn('#fbbf24', '#ffffff')).toBe('#000000');
  });

  it('never lets a config inject CSS', () => {
    const css = themeCss(
      config({
        primaryColor: 'red;}*{display:none',
        cssVariables: { '--wisp-radius': '4px', '--wisp-font-size': '1px;}*{x:y', '--other': '3px' },
      }),
    );
    expect(css).toBe(
      ':host{--wisp-primary:#2563eb;--wisp-on-primary:#ffffff;--wisp-offset-x:20px;--wisp-offset-y:20px;--wisp-radius:4px}',
    );
  });
});
