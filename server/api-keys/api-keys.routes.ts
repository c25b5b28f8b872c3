import { apiKeySchema, createApiKeySchema, createdApiKeySchema } from '../../shared/schemas/api-keys.js';
import { envelopeOf, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { ApiKeysService } from './api-keys.service.js';
import { getByIdRoute, objectIdParams } from '../http/resource-routes.js';

export function mountApiKeyRoutes(api: ApiRouter, apiKeys: ApiKeysService): void {
  const tag = 'API keys';
  api.route(
    {
      method: 'get',
      path: '/api-keys',
      tag,
      summary: 'List API keys',
      scope: 'admin',
      query: paginationQuerySchema,
      response: pageOf(apiKeySchema),
    },
    async ({ query, principal, res }) => {
      const { items, total } = await apiKeys.list(principal.organizationId, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/api-keys',
      tag,
      summary: 'Create an API key (the key is shown once)',
      scope: 'admin',
      body: createApiKeySchema,
      response: envelopeOf(createdApiKeySchema),
      status: 201,
    },
    async ({ body, principal, res }) => {
      sendData(res, await apiKeys.create(principal.organizationId, body.name, body.scopes), 201);
    },
  );
  getByIdRoute(
    api,
    { path: '/api-keys/:id', tag, summary: 'Get an API key', scope: 'admin', item: apiKeySchema },
    (organizationId, id) => apiKeys.get(organizationId, id),
  );
  api.route(
    {
      method: 'post',
      path: '/api-keys/:id/rotate',
      tag,
      summary: 'Rotate an API key: a new key with the same scopes; the old one is revoked',
      scope: 'admin',
      params: objectIdParams,
      response: envelopeOf(createdApiKeySchema),
      status: 201,
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await apiKeys.rotate(principal.organizationId, params.id), 201);
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/api-keys/:id',
      tag,
      summary: 'Revoke an API key',
      scope: 'admin',
      params: objectIdParams,
      response: envelopeOf(apiKeySchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await apiKeys.revoke(principal.organizationId, params.id));
    },
  );
}
