import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { pageOf } from '../../shared/schemas/common.js';
import {
  leadDetailSchema,
  leadFiltersQuerySchema,
  leadListItemSchema,
  listLeadsQuerySchema,
} from '../../shared/schemas/leads.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendPage } from '../http/respond.js';
import type { LeadFilters, LeadsService } from './leads.service.js';
import { deleteByIdRoute, getByIdRoute } from '../http/resource-routes.js';

type FilterQuery = z.output<typeof leadFiltersQuerySchema>;

/** The leads API for the bot owner (scope `leads:read`, `leads:write` to erase). */
export function mountLeadRoutes(api: ApiRouter, leads: LeadsService, chatbots: ChatbotsService): void {
  const tag = 'Leads';
  // A chatbot of another organization is 404, like every cross-tenant lookup.
  const filtersOf = async (organizationId: string, query: FilterQuery): Promise<LeadFilters> => ({
    chatbotId: query.chatbotId ? (await chatbots.find(organizationId, query.chatbotId))._id : undefined,
    from: query.from,
    to: query.to,
    q: query.q,
  });
  api.route(
    {
      method: 'get',
      path: '/leads',
      tag,
      summary: 'List leads, newest first (filter by chatbot, date range, text), with their latest conversation',
      scope: 'leads:read',
      query: listLeadsQuerySchema,
      response: pageOf(leadListItemSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const filters = await filtersOf(principal.organizationId, query);
      const { items, total } = await leads.list(principal.organizationId, filters, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  // Declared before `/leads/:id` so the file name is not read as an id.
  api.route(
    {
      method: 'get',
      path: '/leads/export.csv',
      tag,
      summary: 'Export the matching leads as CSV (RFC 4180, streamed; formula-like cells prefixed with a quote)',
      scope: 'leads:read',
      query: leadFiltersQuerySchema,
      produces: 'text/csv',
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const csv = leads.exportCsv(principal.organizationId, await filtersOf(principal.organizationId, query));
      res.status(200);
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="leads-${new Date().toISOString().slice(0, 10)}.csv"`);
      res.setHeader('Cache-Control', 'no-store');
      await pipeline(csv, res);
    },
  );
  getByIdRoute(
    api,
    {
      path: '/leads/:id',
      tag,
      summary: 'Get a lead with the transcripts of its conversations',
      scope: 'leads:read',
      item: leadDetailSchema,
    },
    (organizationId, id) => leads.detail(organizationId, id),
  );
  deleteByIdRoute(
    api,
    {
      path: '/leads/:id',
      tag,
      summary: "Delete a lead: the person's details go, and their conversations keep no name or email",
      scope: 'leads:write',
    },
    (organizationId, id) => leads.remove(organizationId, id),
  );
}
