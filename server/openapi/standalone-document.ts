import type { RequestHandler } from 'express';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { mountApiRoutes } from '../app.js';
import { parseEnv } from '../config.js';
import { ApiRouter } from '../http/api-router.js';
import { createModels, createServices } from '../services.js';
import { WidgetAccess } from '../widget/widget-access.js';
import { WidgetLimits, widgetLimitSettings } from '../widget/widget-limits.js';
import { buildOpenApiDocument } from './openapi.routes.js';

/** The server URL written into exported documents, fixed so the file changes only with the API. */
export const EXPORTED_SERVER_URL = 'http://localhost:3000';

/**
 * The OpenAPI document exactly as a running server generates it, built from the same route
 * declarations without a database or a listening server (the SDKs are generated from it).
 */
export function buildStandaloneOpenApiDocument(serverUrl = EXPORTED_SERVER_URL) {
  const config = { ...parseEnv({ LOG_LEVEL: 'silent' }), SECRET_KEY: 'document-export-only-'.padEnd(40, '0') };
  const logger = pino({ level: 'silent' });
  // A connection that never connects: routes only keep references to the services they call.
  const services = createServices(createModels(mongoose.createConnection()), config, logger);
  const pass: RequestHandler = (_req, _res, next) => next();
  const api = new ApiRouter({ authenticate: pass, keyRateLimit: pass, publicRateLimit: pass, idempotency: pass });
  const widgetLimits = new WidgetLimits(widgetLimitSettings(config), logger);
  try {
    mountApiRoutes(
      api,
      services,
      config,
      new WidgetAccess(services.widgetSettings, services.visitorTokens),
      widgetLimits,
    );
  } finally {
    widgetLimits.close();
  }
  return buildOpenApiDocument(api, serverUrl);
}

/** The exported file's text: two-space JSON ending in a newline. */
export function standaloneOpenApiJson(): string {
  return `${JSON.stringify(buildStandaloneOpenApiDocument(), null, 2)}\n`;
}
