import { Router } from 'express';
import type { Models } from '../db/models.js';
import { demoPage } from './demo-page.js';

/** `GET /`: the demo site with the widget of the default organization's first bot (development only). */
export function demoRoutes(models: Models): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const org = await models.Organization.findOne().sort({ createdAt: 1, _id: 1 });
    const bot = org
      ? await models.Chatbot.findOne({ organizationId: org._id, status: 'active' }).sort({ createdAt: 1, _id: 1 })
      : null;
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(demoPage(bot ? { id: bot._id.toString(), name: bot.name } : null));
  });
  return router;
}
