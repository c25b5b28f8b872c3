import { z } from 'zod';
import {
  actionRunSchema,
  actionSchema,
  createActionSchema,
  runActionSchema,
  updateActionSchema,
} from '../../shared/schemas/actions.js';
import {
  envelopeOf,
  idOrSlugSchema,
  objectIdSchema,
  pageOf,
  paginationQuerySchema,
} from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { ActionsService } from './actions.service.js';
import { actionFromPreset, actionPresetSchema } from './presets.js';

const idParams = z.object({ id: objectIdSchema });
const botParams = z.object({ id: idOrSlugSchema });

/** What `POST /actions/:id/run` answers: how the call went and what a model would have seen. */
const runOutcomeSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed', 'refused']),
  httpStatus: z.number().int().nullable(),
  result: z.unknown(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});

export function mountActionRoutes(api: ApiRouter, actions: ActionsService): void {
  const tag = 'Actions';
  api.route(
    {
      method: 'get',
      path: '/chatbots/:id/actions',
      tag,
      summary: "List a chatbot's actions (HTTP tools the model may call)",
      scope: 'actions:write',
      params: botParams,
      query: paginationQuerySchema,
      response: pageOf(actionSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await actions.list(principal.organizationId, params.id, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/actions',
      tag,
      summary:
        'Add an action: a JSON-Schema-checked tool over one HTTP request to a fixed host (auth stored encrypted, never returned)',
      scope: 'actions:write',
      params: botParams,
      body: createActionSchema,
      response: envelopeOf(actionSchema),
      status: 201,
      errors: ['NotFoundError', 'ValidationError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await actions.create(principal.organizationId, params.id, body), 201);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/actions/presets',
      tag,
      summary:
        'Add a vendor action from a few fields: Shopify order status, Stripe subscription status, Calendly scheduling link',
      scope: 'actions:write',
      params: botParams,
      body: actionPresetSchema,
      response: envelopeOf(actionSchema),
      status: 201,
      errors: ['NotFoundError', 'ValidationError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await actions.create(principal.organizationId, params.id, actionFromPreset(body)), 201);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/actions/:id',
      tag,
      summary: 'Get an action',
      scope: 'actions:write',
      params: idParams,
      response: envelopeOf(actionSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await actions.get(principal.organizationId, params.id));
    },
  );
  api.route(
    {
      method: 'patch',
      path: '/actions/:id',
      tag,
      summary: 'Update an action (a new request is checked again: fixed host, declared placeholders, allowed address)',
      scope: 'actions:write',
      params: idParams,
      body: updateActionSchema,
      response: envelopeOf(actionSchema),
      errors: ['NotFoundError', 'ValidationError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await actions.update(principal.organizationId, params.id, body));
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/actions/:id',
      tag,
      summary: 'Delete an action',
      scope: 'actions:write',
      params: idParams,
      response: envelopeOf(z.object({ id: z.string(), deleted: z.literal(true) })),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      await actions.remove(principal.organizationId, params.id);
      sendData(res, { id: params.id, deleted: true });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/actions/:id/run',
      tag,
      summary:
        'Run an action outside the chat (the call is the confirmation); the connected system’s failures are a `failed` status, not an error',
      scope: 'actions:run',
      params: idParams,
      body: runActionSchema,
      response: envelopeOf(runOutcomeSchema),
      errors: ['NotFoundError', 'ValidationError'],
    },
    async ({ params, body, principal, res }) => {
      const { problems: _problems, ...outcome } = await actions.runFromApi(principal.organizationId, params.id, body);
      sendData(res, outcome);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/actions/:id/runs',
      tag,
      summary: 'List invocations of an action from chats, agent loops and the API, newest first',
      scope: 'actions:run',
      params: idParams,
      query: paginationQuerySchema,
      response: pageOf(actionRunSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await actions.runs(principal.organizationId, params.id, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
}
