import { z } from 'zod';
import { envelopeOf, idOrSlugSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import {
  widgetSettingsChangeSchema,
  widgetSettingsPatchSchema,
  widgetSettingsSchema,
  widgetSettingsStateSchema,
} from '../../shared/schemas/widget-settings.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { WidgetSettingsService } from './widget-settings.service.js';

const idParams = z.object({ id: idOrSlugSchema });

/** The owner's API for a bot's widget settings. */
export function mountWidgetSettingsRoutes(api: ApiRouter, widgetSettings: WidgetSettingsService): void {
  const tag = 'Widget settings';
  const path = '/chatbots/:id/widget-settings';
  api.route(
    {
      method: 'get',
      path,
      tag,
      summary: "Get a bot's widget settings with their version",
      scope: 'knowledge:read',
      params: idParams,
      response: envelopeOf(widgetSettingsStateSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await widgetSettings.get(principal.organizationId, params.id));
    },
  );
  api.route(
    {
      method: 'put',
      path,
      tag,
      summary: 'Replace the widget settings (absent fields go back to their defaults)',
      scope: 'settings:write',
      params: idParams,
      body: widgetSettingsSchema,
      response: envelopeOf(widgetSettingsStateSchema),
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      const actor = { apiKeyId: principal.keyId };
      sendData(res, await widgetSettings.replace(principal.organizationId, params.id, body, actor));
    },
  );
  api.route(
    {
      method: 'patch',
      path,
      tag,
      summary: 'Change some widget settings (leadCapture merges one level; other values replace)',
      scope: 'settings:write',
      params: idParams,
      body: widgetSettingsPatchSchema,
      response: envelopeOf(widgetSettingsStateSchema),
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      const actor = { apiKeyId: principal.keyId };
      sendData(res, await widgetSettings.patch(principal.organizationId, params.id, body, actor));
    },
  );
  api.route(
    {
      method: 'get',
      path: `${path}/history`,
      tag,
      summary: 'The last changes of the widget settings, newest first',
      scope: 'knowledge:read',
      params: idParams,
      query: paginationQuerySchema,
      response: pageOf(widgetSettingsChangeSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await widgetSettings.history(
        principal.organizationId,
        params.id,
        query.page,
        query.perPage,
      );
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
}
