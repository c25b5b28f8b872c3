import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs and checks widget visitor tokens: proof that a visitor id was issued by this
 * server for this bot, so public widget calls (lead capture, history) cannot be made
 * for another visitor's conversations. Stateless, so any node can check it.
 */
export class VisitorTokens {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = createHmac('sha256', 'wisp-visitor-token').update(secretKey).digest();
  }

  issue(chatbotId: string, visitorId: string): string {
    return `${visitorId}.${this.signature(chatbotId, visitorId)}`;
  }

  /** The visitor id the token was issued for, or null when it is not valid for this bot. */
  verify(chatbotId: string, token: string): string | null {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const visitorId = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.signature(chatbotId, visitorId));
    return given.length === expected.length && timingSafeEqual(given, expected) ? visitorId : null;
  }

  private signature(chatbotId: string, visitorId: string): string {
    return createHmac('sha256', this.key).update(`${chatbotId}:${visitorId}`).digest('base64url');
  }
}
