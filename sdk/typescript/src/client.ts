import { ChatResource } from './resources/chat.js';
import { ChatbotsResource, SourcesResource, WidgetSettingsResource } from './resources/chatbots.js';
import {
  ApiKeysResource,
  ConversationsResource,
  IntegrationsResource,
  LeadsResource,
  MessagesResource,
  UsageResource,
  WidgetResource,
} from './resources/records.js';
import { Transport, type ClientOptions } from './transport.js';

/**
 * The Wisp API client: `new Wisp({ apiKey, baseUrl })`, then a property per resource.
 * Every method takes `RequestOptions` last (signal, timeout, retries, idempotency key).
 */
export class Wisp {
  readonly chatbots: ChatbotsResource;
  readonly sources: SourcesResource;
  readonly widgetSettings: WidgetSettingsResource;
  readonly chat: ChatResource;
  readonly conversations: ConversationsResource;
  readonly messages: MessagesResource;
  readonly leads: LeadsResource;
  readonly apiKeys: ApiKeysResource;
  readonly usage: UsageResource;
  readonly integrations: IntegrationsResource;
  readonly widget: WidgetResource;

  constructor(options: ClientOptions) {
    const transport = new Transport(options);
    this.chatbots = new ChatbotsResource(transport);
    this.sources = new SourcesResource(transport);
    this.widgetSettings = new WidgetSettingsResource(transport);
    this.chat = new ChatResource(transport);
    this.conversations = new ConversationsResource(transport);
    this.messages = new MessagesResource(transport);
    this.leads = new LeadsResource(transport);
    this.apiKeys = new ApiKeysResource(transport);
    this.usage = new UsageResource(transport);
    this.integrations = new IntegrationsResource(transport);
    this.widget = new WidgetResource(transport);
  }
}
