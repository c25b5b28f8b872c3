import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io';
import type { ErrorName } from '../../shared/errors.js';
import { widgetHandshakeSchema } from '../../shared/schemas/widget-socket.js';
import type { WidgetClientEvents, WidgetServerEvents, WidgetSocketData } from '../../shared/socket-events.js';
import type { Types } from 'mongoose';
import { AppError } from '../errors/app-error.js';
import type { Services } from '../services.js';
import type { WidgetAccess } from './widget-access.js';

export type WidgetSocket = Socket<WidgetClientEvents, WidgetServerEvents, Record<string, never>, WidgetSocketData>;

/** What the middleware leaves for the connection handler besides `socket.data`. */
export interface HandshakeResult {
  visitorToken: string;
}

/** The error a refused handshake reaches the widget with (`connect_error`: message plus `data.name` and `data.details`). */
export function handshakeError(
  name: ErrorName,
  message: string,
  details: unknown = null,
): Error & { data: { name: ErrorName; details: unknown } } {
  return Object.assign(new Error(message), { data: { name, details } });
}

/**
 * Checks a widget handshake: the bot exists and is active, the page's origin is allowed,
 * the visitor id is this visitor's, and the end-user token (if any) is signed by the bot.
 * Fills `socket.data`; throws an AppError for the widget to show.
 */
export async function acceptHandshake(
  socket: WidgetSocket,
  services: Pick<Services, 'chatbots' | 'conversations' | 'visitorTokens' | 'endUserTokens'>,
  access: WidgetAccess,
): Promise<HandshakeResult> {
  const parsed = widgetHandshakeSchema.safeParse(socket.handshake.auth);
  if (!parsed.success) throw new AppError('BadRequestError', { message: 'The widget handshake is invalid' });
  const auth = parsed.data;
  // The same gate as the widget's HTTP doors: an active bot's id or slug, used from an origin it allows.
  const bot = await access.bot(auth.bot, socket.handshake.headers.origin);
  const chatbotId = bot._id.toString();

  const user = auth.userToken
    ? await services.endUserTokens.verify(auth.userToken, services.chatbots.identitySecretOf(bot))
    : null;
  const { visitorId, latest } = await resolveVisitor(
    services.conversations,
    access,
    bot._id,
    auth.visitorId,
    auth.visitorToken,
  );
  socket.data = {
    organizationId: bot.organizationId.toString(),
    chatbotId,
    visitorId,
    conversationId: latest ? latest._id.toString() : null,
    user,
    pageUrl: auth.pageUrl && /^https?:\/\//i.test(auth.pageUrl) ? auth.pageUrl : null,
  };
  return { visitorToken: services.visitorTokens.issue(chatbotId, visitorId) };
}

/**
 * A valid token proves the visitor id was issued here. Without one, a fresh id is accepted;
 * an id that already has conversations is not (it could be someone else's), so a new one is issued.
 * One lookup answers both questions: the visitor's latest conversation, which also says whether
 * the id was used (a newly issued random id has none, so it needs no lookup of its own).
 */
async function resolveVisitor(
  conversations: Services['conversations'],
  access: WidgetAccess,
  chatbotId: Types.ObjectId,
  claimed: string,
  token: string | undefined,
): Promise<{ visitorId: string; latest: Awaited<ReturnType<Services['conversations']['latestForVisitor']>> }> {
  const latest = await conversations.latestForVisitor(chatbotId, claimed);
  if (latest === null || access.verifiedVisitor(chatbotId.toString(), token) === claimed) {
    return { visitorId: claimed, latest };
  }
  return { visitorId: `v_${randomBytes(16).toString('base64url')}`, latest: null };
}
