import { ApiKeysService } from './api-keys/api-keys.service.js';
import { ChatbotsService } from './chatbots/chatbots.service.js';
import type { Config } from './config.js';
import { SecretBox } from './crypto/secret-box.js';
import type { Models } from './db/models.js';
import type { Logger } from './logger.js';
import { OrganizationsService } from './organizations/organizations.service.js';
import { UsageService } from './usage/usage.service.js';
import { VisitorTokens } from './widget/visitor-token.js';

/** Every service of the app, wired once; transport adapters receive what they need from here. */
export function createServices(models: Models, config: Config, logger: Logger) {
  const secrets = new SecretBox(config.SECRET_KEY);
  const apiKeys = new ApiKeysService(models);
  const organizations = new OrganizationsService(models, apiKeys);
  const chatbots = new ChatbotsService(models, secrets);
  const usage = new UsageService(models, config.MONTHLY_MESSAGE_QUOTA);
  const visitorTokens = new VisitorTokens(config.SECRET_KEY);
  return { logger, config, secrets, apiKeys, organizations, chatbots, usage, visitorTokens };
}

export type Services = ReturnType<typeof createServices>;
