import { computed, signal } from '@preact/signals';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { api, apiPage } from './api.js';

/** The organization's bots, as the bot picker and every bot page see them. */
export const bots = signal<ChatbotDto[]>([]);
export const botsError = signal<string | null>(null);

const CHOSEN_BOT = 'wisp-console-bot';
/** The bot the knowledge, widget and gaps pages work on (remembered per browser: an id, not a secret). */
export const chosenBotId = signal<string | null>(localStorage.getItem(CHOSEN_BOT));
export const chosenBot = computed(
  () => bots.value.find((bot) => bot.id === chosenBotId.value) ?? bots.value[0] ?? null,
);

export function chooseBot(id: string | null): void {
  chosenBotId.value = id;
  if (id) localStorage.setItem(CHOSEN_BOT, id);
  else localStorage.removeItem(CHOSEN_BOT);
}

export async function loadBots(): Promise<void> {
  try {
    const all: ChatbotDto[] = [];
    for (let page = 1; page <= 20; page += 1) {
      const { items, total } = await apiPage<ChatbotDto>(`/chatbots?perPage=100&page=${page}`);
      all.push(...items);
      if (all.length >= total) break;
    }
    bots.value = all;
    botsError.value = null;
  } catch (error) {
    botsError.value = error instanceof Error ? error.message : String(error);
  }
}

export function botName(id: string): string {
  return bots.value.find((bot) => bot.id === id)?.name ?? id;
}

/** Signs out: the server revokes the session and clears its cookie. */
export async function signOut(): Promise<void> {
  await api('DELETE', '/console/sessions/current');
}
