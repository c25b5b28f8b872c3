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
} as const;
