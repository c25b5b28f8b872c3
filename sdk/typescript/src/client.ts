import { OPERATION_CLASSES } from './generated/operations.js';
import { ChatResource } from './resources/chat.js';
import { ChatbotsResource, WidgetSettingsResource } from './resources/chatbots.js';
import {
  ApiKeysResource,
  ConversationsResource,
  IntegrationsResource,
  LeadsResource,
  MessagesResource,
  UsageResource,
  WidgetResource,
} from './resources/records.js';
import { SourcesResource } from './resources/sources.js';
import { Transport, type ClientOptions } from './transport.js';

type Operations = typeof OPERATION_CLASSES;

/**
 * The class of each resource: the generated one (src/generated/operations.ts, one per resource of the API),
 * or a hand-written subclass that adds behaviour (streamed chat, uploads) or the names of earlier versions.
 */
const RESOURCE_CLASSES = {
  ...OPERATION_CLASSES,
  chat: ChatResource,
  sources: SourcesResource,
  chatbots: ChatbotsResource,
  widgetSettings: WidgetSettingsResource,
  conversations: ConversationsResource,
  messages: MessagesResource,
  leads: LeadsResource,
  apiKeys: ApiKeysResource,
  usage: UsageResource,
  integrations: IntegrationsResource,
  widget: WidgetResource,
} satisfies { [K in keyof Operations]: new (transport: Transport) => InstanceType<Operations[K]> };

/** Every resource of the API, one property each (`wisp.webhooks`, `wisp.agentLoops`, …). */
export type WispResources = {
  readonly [K in keyof typeof RESOURCE_CLASSES]: InstanceType<(typeof RESOURCE_CLASSES)[K]>;
};

/**
 * The Wisp API client: `new Wisp({ apiKey, baseUrl })`, then a property per resource and a method per
 * operation, generated from the API's OpenAPI document. Every method takes `RequestOptions` last (signal,
 * timeout, retries, idempotency key).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the constructor sets every property
export interface Wisp extends WispResources {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Wisp {
  constructor(options: ClientOptions) {
    const transport = new Transport(options);
    for (const [name, Class] of Object.entries(RESOURCE_CLASSES)) {
      Object.defineProperty(this, name, { value: new Class(transport), enumerable: true });
    }
  }
}
