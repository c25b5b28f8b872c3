import { Router } from 'express';
import type { Services } from '../services.js';
import { demoPage } from './demo-page.js';

/**
 * `GET /`: the demo site with the widget of the default organization's first bot (development only).
 * The embed snippet names `PUBLIC_URL`, or else the host the browser used.
 */
export function demoRoutes(
  services: Pick<Services, 'organizations' | 'chatbots'>,
  publicUrl: string | undefined,
): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const org = await services.organizations.first();
    const bot = org ? await services.chatbots.firstActive(org._id) : null;
    res.setHeader('Cache-Control', 'no-store');
    const host = (publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`).replace(/\/+$/, '');
    res.type('html').send(demoPage(bot ? { id: bot._id.toString(), slug: bot.slug, name: bot.name } : null, host));
  });
  return router;
}
