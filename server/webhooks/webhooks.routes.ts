import { z } from 'zod';
import { envelopeOf, objectIdSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import {
  createWebhookSchema,
  listDeliveriesQuerySchema,
  updateWebhookSchema,
  WEBHOOK_EVENT_TYPES,
  webhookDeliverySchema,
  webhookSchema,
  webhookWithSecretSchema,
} from '../../shared/schemas/webhooks.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import { webhookBodySchema } from './webhook-payloads.js';
import type { WebhooksService } from './webhooks.service.js';
import { deleteByIdRoute, getByIdRoute, objectIdParams } from '../http/resource-routes.js';

const deliveryParams = z.object({ id: objectIdSchema, deliveryId: objectIdSchema });

const SIGNATURE_NOTE =
  'Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` ' +
  '(the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, ' +
  'several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.';

/** The webhooks API (scopes `webhooks:read` and `webhooks:write`) and the events' payloads in the document. */
export function mountWebhookRoutes(api: ApiRouter, webhooks: WebhooksService): void {
  const tag = 'Webhooks';
  for (const type of WEBHOOK_EVENT_TYPES) {
    api.registry.registerWebhook({
      method: 'post',
      path: type,
      tags: [tag],
      summary: `The \`${type}\` event`,
      description: SIGNATURE_NOTE,
      request: { body: { content: { 'application/json': { schema: webhookBodySchema(type) } } } },
      responses: { 200: { description: 'Any 2xx marks the delivery delivered' } },
    });
  }
  api.route(
    {
      method: 'get',
      path: '/webhooks',
      tag,
      summary: 'List webhook endpoints',
      scope: 'webhooks:read',
      query: paginationQuerySchema,
      response: pageOf(webhookSchema),
    },
    async ({ query, principal, res }) => {
      const { items, total } = await webhooks.list(principal.organizationId, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/webhooks',
      tag,
      summary: 'Add a webhook endpoint; its signing secret (`whsec_...`) is shown in this answer only',
      scope: 'webhooks:write',
      body: createWebhookSchema,
      response: envelopeOf(webhookWithSecretSchema),
      status: 201,
      errors: ['NotFoundError'],
    },
    async ({ body, principal, res }) => {
      sendData(res, await webhooks.create(principal.organizationId, body), 201);
    },
  );
  getByIdRoute(
    api,
    {
      path: '/webhooks/:id',
      tag,
      summary: 'Get a webhook endpoint (and why it was disabled, if it was)',
      scope: 'webhooks:read',
      item: webhookSchema,
    },
    (organizationId, id) => webhooks.get(organizationId, id),
  );
  api.route(
    {
      method: 'patch',
      path: '/webhooks/:id',
      tag,
      summary: 'Update a webhook endpoint (`enabled: true` re-enables one the server disabled)',
      scope: 'webhooks:write',
      params: objectIdParams,
      body: updateWebhookSchema,
      response: envelopeOf(webhookSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await webhooks.update(principal.organizationId, params.id, body));
    },
  );
  deleteByIdRoute(
    api,
    {
      path: '/webhooks/:id',
      tag,
      summary: 'Delete a webhook endpoint and its delivery history',
      scope: 'webhooks:write',
    },
    (organizationId, id) => webhooks.remove(organizationId, id),
  );
  api.route(
    {
      method: 'post',
      path: '/webhooks/:id/rotate-secret',
      tag,
      summary: 'Issue a new signing secret, shown once; the previous one keeps signing beside it for 24 hours',
      scope: 'webhooks:write',
      params: objectIdParams,
      response: envelopeOf(webhookWithSecretSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await webhooks.rotateSecret(principal.organizationId, params.id));
    },
  );
  api.route(
    {
      method: 'post',
      path: '/webhooks/:id/test',
      tag,
      summary: 'Send a `webhook.test` event to this endpoint (queued like any event; see its deliveries)',
      scope: 'webhooks:write',
      params: objectIdParams,
      response: envelopeOf(z.object({ deliveryId: z.string(), messageId: z.string() })),
      status: 202,
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await webhooks.sendTest(principal.organizationId, params.id), 202);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/webhooks/:id/deliveries',
      tag,
      summary:
        'List the endpoint’s deliveries, newest first: status, attempts, last status code and latency, next attempt',
      scope: 'webhooks:read',
      params: objectIdParams,
      query: listDeliveriesQuerySchema,
      response: pageOf(webhookDeliverySchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await webhooks.deliveries(principal.organizationId, params.id, query);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/webhooks/:id/deliveries/:deliveryId/redeliver',
      tag,
      summary: 'Send a delivery again now, with the same `webhook-id` and body and a fresh set of retries',
      scope: 'webhooks:write',
      params: deliveryParams,
      response: envelopeOf(webhookDeliverySchema),
      status: 202,
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await webhooks.redeliver(principal.organizationId, params.id, params.deliveryId), 202);
    },
  );
}
