import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

/** A running app with the bot owner's organization and a second one, for cross-tenant checks. */
export async function startOwnerApp(): Promise<{ t: TestApp; org: TestOrg; other: TestOrg }> {
  const t = await startTestApp();
  return { t, org: await t.createOrg('Owner'), other: await t.createOrg('Other') };
}

/** A bot of `org` named Support, with `overrides`. */
export async function createBot(org: TestOrg, overrides: Record<string, unknown> = {}): Promise<ChatbotDto> {
  return (await org.api.post<ChatbotDto>('/api/v1/chatbots', { name: 'Support', ...overrides })).body.data;
}

/** The owner API path of a bot's widget settings. */
export function settingsPath(bot: { id: string }): string {
  return `/api/v1/chatbots/${bot.id}/widget-settings`;
}
