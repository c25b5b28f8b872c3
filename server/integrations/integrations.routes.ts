import { envelopeOf, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import {
  createIntegrationSchema,
  integrationSchema,
  updateIntegrationSchema,
} from '../../shared/schemas/integrations.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { IntegrationsService } from './integrations.service.js';
import { deleteByIdRoute, getByIdRoute, objectIdParams } from '../http/resource-routes.js';

export function mountIntegrationRoutes(api: ApiRouter, integrations: IntegrationsService): void {
  const tag = 'Model connections';
  api.route(
    {
      method: 'get',
      path: '/integrations',
      tag,
      summary: 'List model connections',
      scope: 'admin',
      query: paginationQuerySchema,
      response: pageOf(integrationSchema),
    },
    async ({ query, principal, res }) => {
      const { items, total } = await integrations.list(principal.organizationId, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/integrations',
      tag,
      summary: 'Add an OpenAI-compatible model connection (the API key is stored encrypted and never returned)',
      scope: 'admin',
      body: createIntegrationSchema,
      response: envelopeOf(integrationSchema),
      status: 201,
    },
    async ({ body, principal, res }) => {
      sendData(res, await integrations.create(principal.organizationId, body), 201);
    },
  );
  getByIdRoute(
    api,
    { path: '/integrations/:id', tag, summary: 'Get a model connection', scope: 'admin', item: integrationSchema },
    (organizationId, id) => integrations.get(organizationId, id),
  );
  api.route(
    {
      method: 'patch',
      path: '/integrations/:id',
      tag,
      summary: 'Update a model connection',
      scope: 'admin',
      params: objectIdParams,
      body: updateIntegrationSchema,
      response: envelopeOf(integrationSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await integrations.update(principal.organizationId, params.id, body));
    },
  );
  deleteByIdRoute(
    api,
    {
      path: '/integrations/:id',
      tag,
      summary: 'Delete a model connection no bot uses',
      scope: 'admin',
      errors: ['ConflictError'],
    },
    (organizationId, id) => integrations.remove(organizationId, id),
  );
}
