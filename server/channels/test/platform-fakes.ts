import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call Wisp made to a fake platform, as the platform saw it. */
export interface PlatformCall {
  platform: 'telegram' | 'slack' | 'whatsapp' | 'callback';
  method: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  rawBody: string;
  /** What the fake answered, where a test needs it (Telegram: the sent message). */
  result?: unknown;
}

/** Loopback stand-ins for the Telegram Bot API, Slack Web API, WhatsApp Cloud API and a webhook callback receiver. */
export interface PlatformFakes {
  url: string;
  telegramUrl: string;
  slackUrl: string;
  whatsappUrl: string;
  callbackUrl: string;
  /** Every accepted call, in arrival order. */
  calls: PlatformCall[];
  /** Tokens the fakes accept (Telegram bot tokens, Slack bot tokens, WhatsApp access tokens). */
  acceptToken(token: string): void;
  /** The token stops working, as after a revocation. */
  revokeToken(token: string): void;
  /** The next `count` sending calls to `platform` fail with `status` (a platform outage). */
  failNext(platform: PlatformCall['platform'], count: number, status?: number): void;
  /** The calls of one platform method, e.g. `sendMessage`. */
  callsOf(method: string): PlatformCall[];
  stop(): Promise<void>;
}

const SENDING = new Set(['sendMessage', 'chat.postMessage', 'messages', 'callback']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Telegram's InlineKeyboardMarkup: rows of buttons, each with a text and at most 64 bytes of callback_data. */
function isInlineKeyboard(markup: unknown): boolean {
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  return (
    Array.isArray(rows) &&
    rows.every(
      (row) =>
        Array.isArray(row) &&
        row.every((button: { text?: unknown; callback_data?: unknown }) => {
          const data = button.callback_data;
          const dataOk = typeof data === 'string' && Buffer.byteLength(data) >= 1 && Buffer.byteLength(data) <= 64;
          return typeof button.text === 'string' && button.text !== '' && dataOk;
        }),
    )
  );
}

/** A Cloud API interactive message of reply buttons: a body of at most 1024 characters, 1 to 3 buttons. */
function isReplyButtons(body: Record<string, unknown>): boolean {
  const interactive = body.interactive as
    | {
        type?: unknown;
        body?: { text?: unknown };
        action?: { buttons?: Array<{ type?: unknown; reply?: { id?: unknown; title?: unknown } }> };
      }
    | undefined;
  const buttons = interactive?.action?.buttons;
  const text = interactive?.body?.text;
  return (
    interactive?.type === 'button' &&
    typeof text === 'string' &&
    text.length >= 1 &&
    text.length <= 1024 &&
    Array.isArray(buttons) &&
    buttons.length >= 1 &&
    buttons.length <= 3 &&
    buttons.every(
      ({ type, reply }) =>
        type === 'reply' &&
        typeof reply?.id === 'string' &&
        reply.id.length >= 1 &&
        reply.id.length <= 256 &&
        typeof reply.title === 'string' &&
        reply.title.length >= 1 &&
        reply.title.length <= 20,
    )
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the fakes. Each checks what the real platform checks of a request (the token in the path or the
 * `Authorization` header, a JSON body with the required fields) and answers as the real one does, including
 * its way of refusing a bad token (Telegram 401, Slack `ok: false, invalid_auth`, Graph API 401).
 */
export async function startPlatformFakes(): Promise<PlatformFakes> {
  const tokens = new Set<string>();
  const failures = new Map<string, { count: number; status: number }>();
  const calls: PlatformCall[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawBody = await readBody(req);
    const isJson = (req.headers['content-type'] ?? '').startsWith('application/json');
    const body = (rawBody && isJson ? JSON.parse(rawBody) : {}) as Record<string, unknown>;
    if (req.method === 'POST' && !isJson) return json(res, 415, { error: 'JSON bodies only' });
    const [, platform = '', ...rest] = (req.url ?? '').split('?')[0]!.split('/');
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const record = (method: string) => {
      const failure = failures.get(platform);
      if (SENDING.has(method) && failure && failure.count > 0) {
        failure.count -= 1;
        json(res, failure.status, { ok: false, error: 'fake outage' });
        return false;
      }
      calls.push({ platform: platform as PlatformCall['platform'], method, headers: req.headers, body, rawBody });
      return true;
    };

    if (platform === 'telegram') {
      const [botPart = '', method = ''] = rest;
      if (!tokens.has(botPart.replace(/^bot/, '')))
        return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const missing = {
        setWebhook: ['url'],
        sendMessage: ['chat_id', 'text'],
        sendChatAction: ['chat_id', 'action'],
        answerCallbackQuery: ['callback_query_id'],
      }[method]?.filter((field) => body[field] === undefined || body[field] === '');
      if (missing?.length)
        return json(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${missing[0]} is empty` });
      if (method === 'setWebhook' && !/^[A-Za-z0-9_-]{1,256}$/.test(String(body.secret_token ?? '')))
        return json(res, 400, {
          ok: false,
          error_code: 400,
          description: 'Bad Request: secret token contains unallowed characters',
        });
      if (body.reply_markup !== undefined && !isInlineKeyboard(body.reply_markup))
        return json(res, 400, {
          ok: false,
          error_code: 400,
          description: "Bad Request: can't parse reply keyboard markup",
        });
      if (!record(method)) return;
      // sendMessage answers the sent Message, whose id later updates (a button press) refer to.
      const result =
        method === 'getMe'
          ? { id: 1, is_bot: true, username: 'acme_bot' }
          : method === 'sendMessage'
            ? { message_id: 500 + calls.length, chat: { id: Number(body.chat_id) }, text: body.text }
            : true;
      calls[calls.length - 1]!.result = result;
      return json(res, 200, { ok: true, result });
    }
    if (platform === 'slack') {
      const method = rest[0] ?? '';
      if (!tokens.has(bearer)) return json(res, 200, { ok: false, error: bearer ? 'invalid_auth' : 'not_authed' });
      if (method === 'chat.postMessage' && (!body.channel || !body.text))
        return json(res, 200, { ok: false, error: 'no_text' });
      if (method === 'chat.update' && (!body.channel || !body.ts))
        return json(res, 200, { ok: false, error: 'message_not_found' });
      if (method === 'chat.postEphemeral' && (!body.channel || !body.user || !body.text))
        return json(res, 200, { ok: false, error: body.user ? 'no_text' : 'user_not_found' });
      if (!record(method)) return;
      return json(res, 200, {
        ok: true,
        team_id: 'T1',
        user_id: 'UBOT',
        ts: `1800000000.${String(calls.length).padStart(6, '0')}`,
      });
    }
    if (platform === 'whatsapp') {
      const method = rest[1] ?? 'phone-number';
      if (!tokens.has(bearer))
        return json(res, 401, { error: { message: 'Invalid OAuth access token', type: 'OAuthException', code: 190 } });
      const text = body.text as { body?: string } | undefined;
      const content = body.type === 'text' ? Boolean(text?.body) : body.type === 'interactive' && isReplyButtons(body);
      if (method === 'messages' && (body.messaging_product !== 'whatsapp' || !body.to || !content))
        return json(res, 400, { error: { message: 'Invalid parameter', type: 'OAuthException', code: 100 } });
      if (!record(method)) return;
      const result = { messaging_product: 'whatsapp', messages: [{ id: `wamid.OUT${calls.length}` }], id: rest[0] };
      calls[calls.length - 1]!.result = result;
      return json(res, 200, result);
    }
    if (platform === 'callback' && record('callback')) return json(res, 200, { received: true });
    if (!res.headersSent) json(res, 404, { error: 'unknown fake path' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => json(res, 500, { error: 'fake failed' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    telegramUrl: `${url}/telegram`,
    slackUrl: `${url}/slack`,
    whatsappUrl: `${url}/whatsapp`,
    callbackUrl: `${url}/callback`,
    calls,
    acceptToken: (token) => void tokens.add(token),
    revokeToken: (token) => void tokens.delete(token),
    failNext: (platform, count, status = 500) => void failures.set(platform, { count, status }),
    callsOf: (method) => calls.filter((call) => call.method === method),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
