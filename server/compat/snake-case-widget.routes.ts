import type { WidgetSettingsPatch } from '../../shared/schemas/widget-settings.js';
import { envelopeOf } from '../../shared/schemas/common.js';
import {
  snakeWidgetConfigSchema,
  snakeWidgetQuerySchema,
  snakeWidgetSettingsSchema,
  snakeWidgetSettingsStateSchema,
} from '../../shared/schemas/compat.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import type { WidgetSettingsService } from '../widget-settings/widget-settings.service.js';
import { camelKeys, chatbotFor, snakeKeys } from './mapping.js';

/** The snake_case dialect's widget routes; its examples name no bot, so `chatbot_id` is needed only with several. */
export function mountSnakeCaseWidgetRoutes(
  api: ApiRouter,
  chatbots: ChatbotsService,
  widgetSettings: WidgetSettingsService,
): void {
  const common = { root: true, tag: 'compatibility', query: snakeWidgetQuerySchema } as const;
  const botOf = (organizationId: string, named: string | undefined) =>
    chatbotFor(chatbots, organizationId, named, 'chatbot_id');
  api.route(
    {
      ...common,
      method: 'get',
      path: '/api/widget-config',
      summary: "The widget's configuration (appearance, welcome message, quick prompts) in snake_case",
      scope: 'knowledge:read',
      response: envelopeOf(snakeWidgetConfigSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const bot = await chatbots.find(
        principal.organizationId,
        await botOf(principal.organizationId, query.chatbot_id),
      );
      const { config } = await widgetSettings.publicConfig(bot._id.toString());
      sendData(res, snakeKeys(config));
    },
  );
  api.route(
    {
      ...common,
      method: 'get',
      path: '/api/widget-settings',
      summary: 'The widget settings (colors, position, welcome message, behaviour) with their version, in snake_case',
      scope: 'knowledge:read',
      response: envelopeOf(snakeWidgetSettingsStateSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const bot = await botOf(principal.organizationId, query.chatbot_id);
      sendData(res, snakeKeys(await widgetSettings.get(principal.organizationId, bot)));
    },
  );
  api.route(
    {
      ...common,
      method: 'put',
      path: '/api/widget-settings',
      summary: 'Update the widget settings given (snake_case, e.g. `primary_color`); the others stay as they are',
      scope: 'settings:write',
      body: snakeWidgetSettingsSchema,
      response: envelopeOf(snakeWidgetSettingsStateSchema),
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ query, body, principal, res }) => {
      const bot = await botOf(principal.organizationId, query.chatbot_id);
      const patch = camelKeys(body) as WidgetSettingsPatch;
      const state = await widgetSettings.patch(principal.organizationId, bot, patch, { apiKeyId: principal.keyId });
      sendData(res, snakeKeys(state));
    },
  );
}
