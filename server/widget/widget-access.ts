import { AppError } from '../errors/app-error.js';
import type { WidgetSettingsService } from '../widget-settings/widget-settings.service.js';
import type { VisitorTokens } from './visitor-token.js';

/** A bot as the public widget doors see it: active, named by id or slug. */
export type PublicBot = Awaited<ReturnType<WidgetSettingsService['resolvePublicBot']>>;

/**
 * The one origin rule of every public widget door (config, leads, socket, CORS preflight): a bot
 * that lists no origins may be used from anywhere; one that lists some only from a page whose
 * `Origin` is listed. A request without an `Origin` (a script, or a same-origin GET) is refused
 * then, as the socket handshake always did: nothing proves it comes from a listed site.
 */
export function originAllowed(allowedOrigins: readonly string[], origin: string | undefined): boolean {
  if (allowedOrigins.length === 0) return true;
  return origin !== undefined && allowedOrigins.includes(origin.toLowerCase());
}

/** Where a refusal's message and details name the page's origin. */
function originRefused(origin: string | undefined): AppError {
  const named = origin === undefined ? null : origin.slice(0, 200);
  return new AppError('ForbiddenError', {
    message: `This bot's widget may not be used from ${named ?? 'a page that sends no Origin header'}: add the site to the bot's allowedOrigins`,
    details: { origin: named },
  });
}

/**
 * The gate of the widget's public doors (HTTP config and leads, the socket handshake and its
 * events, CORS preflights): which bot, whether the page's origin may use it, which visitor.
 * Every door asks here, so they all answer by the same rules.
 */
export class WidgetAccess {
  constructor(
    private readonly bots: Pick<WidgetSettingsService, 'resolvePublicBot' | 'anyActiveBotAllows'>,
    private readonly visitorTokens: VisitorTokens,
  ) {}

  /** The active bot `idOrSlug` names (id or slug, both unique across the server); NotFoundError otherwise. */
  resolve(idOrSlug: string): Promise<PublicBot> {
    return this.bots.resolvePublicBot(idOrSlug);
  }

  /** Throws ForbiddenError unless a page on `origin` may use `bot`'s widget. */
  requireOrigin(bot: PublicBot, origin: string | undefined): void {
    if (!originAllowed(bot.allowedOrigins ?? [], origin)) throw originRefused(origin);
  }

  /** {@link resolve} and {@link requireOrigin} at once: the bot a page on `origin` may use. */
  async bot(idOrSlug: string, origin: string | undefined): Promise<PublicBot> {
    const bot = await this.resolve(idOrSlug);
    this.requireOrigin(bot, origin);
    return bot;
  }

  /** The visitor id `token` was issued for with this bot, or null when it proves none. */
  verifiedVisitor(chatbotId: string, token: string | undefined): string | null {
    return token ? this.visitorTokens.verify(chatbotId, token) : null;
  }

  /** {@link verifiedVisitor}, or UnauthorizedError where a door requires the proof. */
  requireVisitor(chatbotId: string, token: string): string {
    const visitorId = this.verifiedVisitor(chatbotId, token);
    if (!visitorId) throw new AppError('UnauthorizedError', { message: 'The visitor token is not valid for this bot' });
    return visitorId;
  }

  /**
   * Whether a CORS preflight from `origin` may be granted: for a named bot, when that bot allows
   * the origin; with no bot named (a POST's bot is in its body), when any active bot does. The
   * real request is still checked by its door.
   */
  async preflightAllowed(origin: string, idOrSlug: string | null): Promise<boolean> {
    if (idOrSlug === null) return this.bots.anyActiveBotAllows(origin);
    const bot = await this.resolve(idOrSlug).catch(() => null);
    return bot !== null && originAllowed(bot.allowedOrigins ?? [], origin);
  }
}
