import type { RequestHandler } from 'express';
import { clientIpKey } from '../http/client-ip.js';
import type { WidgetLimitName, WidgetLimits } from './widget-limits.js';

/** An HTTP guard counting one hit per client address (Express's `req.ip`) against a widget limit. */
export function widgetIpLimit(limits: WidgetLimits, name: WidgetLimitName): RequestHandler {
  return (req, _res, next) => {
    limits.take([[name, clientIpKey(req.ip)]]).then(() => next(), next);
  };
}
