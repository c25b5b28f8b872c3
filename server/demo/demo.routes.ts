import { Router } from 'express';
import type { ChatbotModel } from '../chatbots/chatbot.model.js';
import type { OrganizationModel } from '../organizations/organization.model.js';
import { demoPage } from './demo-page.js';

/**
 * `GET /`: the demo site with the widget of the default organization's first bot (development only).
 * The embed snippet names `PUBLIC_URL`, or else the host the browser used.
 */
export function demoRoutes(
  models: { Chatbot: ChatbotModel; Organization: OrganizationModel },
  publicUrl: string | undefined,
): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const org = await models.Organization.findOne().sort({ createdAt: 1, _id: 1 });
    const bot = org
      ? await models.Chatbot.findOne({ organizationId: org._id, status: 'active' }).sort({ createdAt: 1, _id: 1 })
      : null;
    res.setHeader('Cache-Control', 'no-store');
    const host = (publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`).replace(/\/+$/, '');
    res.type('html').send(demoPage(bot ? { id: bot._id.toString(), slug: bot.slug, name: bot.name } : null, host));
  });
  return router;
}
