import type { Request } from 'express';
import { z } from 'zod';
import {
  channelSchema,
  createChannelSchema,
  createdChannelSchema,
  updateChannelSchema,
} from '../../shared/schemas/channels.js';
import { envelopeOf, idOrSlugSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import { AppError } from '../errors/app-error.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { ChannelReplies } from './channel-replies.js';
import type { ChannelsService } from './channels.service.js';
import { rawBodyOf } from './raw-body.js';
import { deleteByIdRoute, getByIdRoute, objectIdParams } from '../http/resource-routes.js';

const INBOUND_CHECK =
  "Public (no API key); each delivery is verified the platform's way (Telegram secret token, Slack signing secret, WhatsApp X-Hub-Signature-256, Standard Webhooks signature) and refused with 401 otherwise.";

export function mountChannelRoutes(api: ApiRouter, channels: ChannelsService, replies: ChannelReplies): void {
  const tag = 'Channels';
  // The same collection under the bots dialect's path.
  for (const { base, param, routeTag } of [
    { base: '/chatbots', param: 'id', routeTag: tag },
    { base: '/bots', param: 'bot_id', routeTag: 'compatibility' },
  ]) {
    const botParams = z.object({ [param]: idOrSlugSchema });
    const botOf = (params: Record<string, string>) => params[param] ?? '';
    api.route(
      {
        method: 'get',
        path: `${base}/:${param}/channels`,
        tag: routeTag,
        summary: "List the bot's messaging channels",
        scope: 'channels:read',
        params: botParams,
        query: paginationQuerySchema,
        response: pageOf(channelSchema),
        errors: ['NotFoundError'],
      },
      async ({ params, query, principal, res }) => {
        const { items, total } = await channels.list(
          principal.organizationId,
          botOf(params),
          query.page,
          query.perPage,
        );
        sendPage(res, items, { page: query.page, perPage: query.perPage, total });
      },
    );
    api.route(
      {
        method: 'post',
        path: `${base}/:${param}/channels`,
        tag: routeTag,
        summary:
          'Connect the bot to a messaging platform (credentials are checked with the platform, stored encrypted and never returned)',
        scope: 'channels:write',
        params: botParams,
        body: createChannelSchema,
        response: envelopeOf(createdChannelSchema),
        status: 201,
        errors: ['NotFoundError', 'UnavailableError'],
      },
      async ({ params, body, principal, res }) => {
        sendData(res, await channels.create(principal.organizationId, botOf(params), body), 201);
      },
    );
  }
  getByIdRoute(
    api,
    {
      path: '/channels/:id',
      tag,
      summary: 'Get a channel, its status and when it last received an event',
      scope: 'channels:read',
      item: channelSchema,
    },
    (organizationId, id) => channels.get(organizationId, id),
  );
  api.route(
    {
      method: 'patch',
      path: '/channels/:id',
      tag,
      summary: 'Rename a channel, replace its credentials (checked with the platform) or its callback URL',
      scope: 'channels:write',
      params: objectIdParams,
      body: updateChannelSchema,
      response: envelopeOf(channelSchema),
      errors: ['NotFoundError', 'UnavailableError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await channels.update(principal.organizationId, params.id, body));
    },
  );
  deleteByIdRoute(
    api,
    {
      path: '/channels/:id',
      tag,
      summary: 'Delete a channel (Wisp unregisters itself from the platform where it registered)',
      scope: 'channels:write',
    },
    (organizationId, id) => channels.remove(organizationId, id),
  );
  api.route(
    {
      method: 'post',
      path: '/channels/:id/reconnect',
      tag,
      summary: 'Check the credentials again; a connected channel sends the answers it held back',
      scope: 'channels:write',
      params: objectIdParams,
      response: envelopeOf(channelSchema),
      errors: ['NotFoundError', 'UnavailableError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await channels.reconnect(principal.organizationId, params.id));
    },
  );
  api.route(
    {
      method: 'post',
      path: '/channels/:id/events',
      tag: 'Channel deliveries',
      summary:
        'The channel\'s inbound URL: the platform delivers messages (and Approve / Decline answers to paused actions) here; they are acknowledged at once and answered through the platform (a webhook channel\'s `"reply": "sync"` answers in the response; its `"type": "confirm"` answers a paused action by its token, 404 when nothing of this channel and user waits for it)',
      scope: 'public',
      publicCheck: INBOUND_CHECK,
      publicLimit: 'signed',
      params: objectIdParams,
      response: envelopeOf(z.object({ accepted: z.number().int() })),
      errors: ['NotFoundError', 'UnauthorizedError', 'UnsupportedMediaTypeError', 'PayloadTooLargeError'],
    },
    async ({ params, req, res }) => {
      const { rawBody, body } = await inboundBody(req);
      const answer = await replies.receive(params.id, { headers: req.headers, rawBody, body });
      if (answer.kind === 'respond') res.status(answer.status).json(answer.body);
      else if (answer.kind === 'accepted') sendData(res, { accepted: answer.accepted });
      else if (answer.kind === 'answered')
        sendData(res, {
          text: answer.text,
          conversationId: answer.conversationId,
          messageId: answer.messageId,
          requiresAction: answer.requiresAction,
        });
      else sendData(res, { eventId: answer.eventId, status: 'queued' }, 202);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/channels/:id/events',
      tag: 'Channel deliveries',
      summary: "The platform's subscription check (WhatsApp: echoes `hub.challenge` when `hub.verify_token` matches)",
      scope: 'public',
      publicCheck: 'Public (no API key); answers only with the channel’s verify token.',
      params: objectIdParams,
      query: z.object({
        'hub.mode': z.string().max(50).optional(),
        'hub.verify_token': z.string().max(200).optional(),
        'hub.challenge': z.string().max(200).optional(),
      }),
      produces: 'text/plain',
      errors: ['NotFoundError', 'ForbiddenError'],
    },
    async ({ params, query, res }) => {
      const channel = await channels.findForInbound(params.id);
      const adapter = channels.adapterOf(channel.type);
      if (!adapter.challenge)
        throw new AppError('NotFoundError', { message: `A ${channel.type} channel has no subscription check` });
      res.type('text/plain').send(adapter.challenge(query, channels.open(channel)));
    },
  );
}

const MAX_FORM_BYTES = 1_000_000;

/**
 * The delivery's exact bytes and its parsed body: JSON (kept by the JSON parser), or a form, which Slack
 * uses for interactivity payloads (`payload=<JSON>`, signed like its events), read here from the stream.
 */
async function inboundBody(req: Request): Promise<{ rawBody: Buffer; body: unknown }> {
  const raw = rawBodyOf(req);
  if (raw) return { rawBody: raw, body: req.body };
  if (req.is('application/x-www-form-urlencoded') && req.readable) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_FORM_BYTES) throw new AppError('PayloadTooLargeError', { message: 'The form is over 1 MB' });
      chunks.push(chunk as Buffer);
    }
    const rawBody = Buffer.concat(chunks);
    return { rawBody, body: Object.fromEntries(new URLSearchParams(rawBody.toString('utf8'))) };
  }
  throw new AppError('UnsupportedMediaTypeError', {
    message:
      'Send the event as JSON (Content-Type: application/json), or a Slack interactivity form (application/x-www-form-urlencoded)',
  });
}
