/** Fixed loopback ports of the e2e stack: the API (and widget), and the host pages on another origin. */
export const API_PORT = Number(process.env.E2E_API_PORT ?? 4310);
export const HOST_PORT = Number(process.env.E2E_HOST_PORT ?? 4311);
export const API_ORIGIN = `http://127.0.0.1:${API_PORT}`;
export const HOST_ORIGIN = `http://127.0.0.1:${HOST_PORT}`;

/** The bots the stack seeds, by slug. */
export const BOTS = {
  /** Allows the host origin; no knowledge, so the test model echoes the question. */
  echo: 'e2e-echo',
  /** Allows the host origin and answers from two sources (citations). */
  docs: 'e2e-docs',
  /** Allows only https://shop.example, so the host origin is refused. */
  locked: 'e2e-locked',
  /** Like echo, for tests that change its settings while a widget is open. */
  restyle: 'e2e-restyle',
  /** Lead form before the first message: name and email required, with a consent box. */
  leadFirst: 'e2e-lead-first',
  /** Lead form after two visitor messages, nothing required. */
  leadAfter: 'e2e-lead-after',
  /** Lead form when the bot cannot answer; no knowledge, so every answer has confidence 0. */
  leadUnsure: 'e2e-lead-unsure',
  /** Lead form when the bot cannot answer, with a text source it can answer from. */
  leadDocs: 'e2e-lead-docs',
  /** Has a `cancel_order` action (POST to the host pages' shop) that needs the visitor's confirmation. */
  actions: 'e2e-actions',
  /** Lead form when the visitor asks for a human. */
  leadHuman: 'e2e-lead-human',
} as const;

/**
 * An admin API key of the seeded organization, fixed so tests (another process) can call the API.
 * It exists only in the stack's throwaway in-memory database.
 */
export const E2E_ADMIN_KEY = 'sk_live_e2eAdminKeyForTheThrowawayStackOnly0000';
