import { z } from 'zod';
import {
  envelopeOf,
  idOrSlugSchema,
  objectIdSchema,
  pageOf,
  paginationQuerySchema,
} from '../../shared/schemas/common.js';
import {
  createSourceSchema,
  createSourcesBatchSchema,
  MAX_BATCH_SOURCES,
  listSourcesQuerySchema,
  retrievalPreviewRequestSchema,
  retrievalPreviewSchema,
  sourceChunkSchema,
  sourcePageSchema,
  sourceSchema,
  updateSourceSchema,
} from '../../shared/schemas/sources.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { KnowledgeService } from './knowledge.service.js';
import { uploadedFile, uploadMiddleware } from './upload.js';
import { deleteByIdRoute, getByIdRoute } from '../http/resource-routes.js';

const botParams = z.object({ id: idOrSlugSchema });
const sourceParams = z.object({ id: objectIdSchema });

export function mountKnowledgeRoutes(api: ApiRouter, knowledge: KnowledgeService, maxUploadBytes: number): void {
  const tag = 'Knowledge';
  const { sources } = knowledge;
  api.route(
    {
      method: 'get',
      path: '/chatbots/:id/sources',
      tag,
      summary: "List a chatbot's knowledge sources",
      scope: 'knowledge:read',
      params: botParams,
      query: paginationQuerySchema.extend(listSourcesQuerySchema.shape),
      response: pageOf(sourceSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { page, perPage, ...filters } = query;
      const { items, total } = await sources.list(principal.organizationId, params.id, filters, page, perPage);
      sendPage(res, items, { page, perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/sources',
      tag,
      summary:
        'Add a source (text or URL as JSON; a file as multipart/form-data with a `file` field); answers 202 and processes it in the background',
      scope: 'knowledge:write',
      params: botParams,
      body: createSourceSchema,
      otherBodies: {
        'multipart/form-data': {
          type: 'object',
          required: ['file'],
          properties: {
            file: { type: 'string', format: 'binary', description: 'PDF, DOCX, Markdown, HTML or plain text' },
            title: { type: 'string', maxLength: 200 },
          },
        },
      },
      response: envelopeOf(sourceSchema),
      status: 202,
      errors: ['NotFoundError', 'UnsupportedMediaTypeError'],
      before: [uploadMiddleware(maxUploadBytes)],
    },
    async ({ params, body, principal, req, res }) => {
      const created = await sources.create(principal.organizationId, params.id, body, uploadedFile(req.file));
      sendData(res, created, 202);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/sources/batch',
      tag,
      summary: `Add up to ${MAX_BATCH_SOURCES} text and URL sources in one request, all or nothing: an invalid item refuses the whole batch (422, each failing field named by its path, e.g. \`sources.3.content\`) and nothing is written; otherwise answers 202 with the sources in the order sent, processed in the background`,
      scope: 'knowledge:write',
      params: botParams,
      body: createSourcesBatchSchema,
      response: envelopeOf(z.array(sourceSchema)),
      status: 202,
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await sources.createMany(principal.organizationId, params.id, body), 202);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/retrieval-preview',
      tag,
      summary:
        'Look a question up in the knowledge without asking the model: the passages an answer would use, with scores, and the confidence',
      scope: 'knowledge:read',
      params: botParams,
      body: retrievalPreviewRequestSchema,
      response: envelopeOf(retrievalPreviewSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await knowledge.search(principal.organizationId, params.id, body.query, body.limit));
    },
  );
  getByIdRoute(
    api,
    {
      path: '/sources/:id',
      tag,
      summary: 'Get a source with its status and counts',
      scope: 'knowledge:read',
      item: sourceSchema,
      params: sourceParams,
    },
    (organizationId, id) => sources.get(organizationId, id),
  );
  api.route(
    {
      method: 'get',
      path: '/sources/:id/chunks',
      tag,
      summary: 'The passages a source was indexed as (text, heading, position, size), in document order',
      scope: 'knowledge:read',
      params: sourceParams,
      query: paginationQuerySchema,
      response: pageOf(sourceChunkSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await sources.chunks(principal.organizationId, params.id, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/sources/:id/pages',
      tag,
      summary: 'The pages a crawl or sitemap source took and skipped, with the reason for each skip',
      scope: 'knowledge:read',
      params: sourceParams,
      query: paginationQuerySchema,
      response: pageOf(sourcePageSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await sources.pages(principal.organizationId, params.id, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'patch',
      path: '/sources/:id',
      tag,
      summary: 'Rename a source (200), or change its content or address, which reprocesses it (202)',
      scope: 'knowledge:write',
      params: sourceParams,
      body: updateSourceSchema,
      response: envelopeOf(sourceSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      const { source, requeued } = await sources.update(principal.organizationId, params.id, body);
      sendData(res, source, requeued ? 202 : 200);
    },
  );
  deleteByIdRoute(
    api,
    {
      path: '/sources/:id',
      tag,
      summary: 'Delete a source; its passages stop appearing in answers at once',
      scope: 'knowledge:write',
      params: sourceParams,
    },
    (organizationId, id) => sources.remove(organizationId, id),
  );
  api.route(
    {
      method: 'post',
      path: '/sources/:id/reindex',
      tag,
      summary: 'Process a source again (refetch a URL); answers 202',
      scope: 'knowledge:write',
      params: sourceParams,
      response: envelopeOf(sourceSchema),
      status: 202,
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await sources.reindex(principal.organizationId, params.id), 202);
    },
  );
}
