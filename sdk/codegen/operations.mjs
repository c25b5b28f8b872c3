// Reads the API's OpenAPI document and returns what every SDK generates from: the operations
// (name, method, path, parameters, which named models they take and return) and the named models as an
// OpenAPI 3.0 document (the maintained generators, oapi-codegen above all, read 3.0 best).

/**
 * Other APIs' dialects, the door for OpenAI's own clients, the owner console's cookie sign-in (a
 * browser's, not a program's) and channel deliveries (called by messaging platforms): not part of the SDKs.
 */
const SKIPPED_TAGS = new Set(['compatibility', 'OpenAI-compatible', 'Console sessions', 'Channel deliveries']);

/**
 * The SDK name of each operation (`resource.method`) and, for the main resources, the model it returns.
 * The only thing kept by hand: an operation missing here fails generation, so a new route gets a name.
 */
export const OPERATION_NAMES = {
  'GET /api/v1/api-keys': ['api_keys.list', 'ApiKey'],
  'POST /api/v1/api-keys': ['api_keys.create', 'CreatedApiKey'],
  'GET /api/v1/api-keys/{id}': ['api_keys.get', 'ApiKey'],
  'DELETE /api/v1/api-keys/{id}': ['api_keys.revoke', 'ApiKey'],
  'POST /api/v1/api-keys/{id}/rotate': ['api_keys.rotate', 'CreatedApiKey'],
  'GET /api/v1/chatbots': ['chatbots.list', 'Chatbot'],
  'POST /api/v1/chatbots': ['chatbots.create', 'CreatedChatbot'],
  'GET /api/v1/chatbots/{id}': ['chatbots.get', 'Chatbot'],
  'PATCH /api/v1/chatbots/{id}': ['chatbots.update', 'Chatbot'],
  'DELETE /api/v1/chatbots/{id}': ['chatbots.delete', 'Deleted'],
  'POST /api/v1/chatbots/{id}/identity-secret': ['chatbots.rotate_identity_secret', 'IdentitySecret'],
  'GET /api/v1/chatbots/{id}/unanswered': ['chatbots.list_unanswered', 'UnansweredQuestion'],
  'POST /api/v1/chatbots/{id}/unanswered/{gapId}/resolve': ['chatbots.resolve_unanswered', 'UnansweredQuestion'],
  'POST /api/v1/chatbots/{id}/unanswered/{gapId}/answer': ['chatbots.answer_unanswered'],
  'GET /api/v1/usage': ['usage.get', 'Usage'],
  'GET /api/v1/chatbots/{id}/channels': ['channels.list', 'Channel'],
  'POST /api/v1/chatbots/{id}/channels': ['channels.create', 'CreatedChannel'],
  'GET /api/v1/channels/{id}': ['channels.get', 'Channel'],
  'PATCH /api/v1/channels/{id}': ['channels.update', 'Channel'],
  'DELETE /api/v1/channels/{id}': ['channels.delete', 'Deleted'],
  'POST /api/v1/channels/{id}/reconnect': ['channels.reconnect', 'Channel'],
  'GET /api/v1/integrations': ['integrations.list', 'Integration'],
  'POST /api/v1/integrations': ['integrations.create', 'Integration'],
  'GET /api/v1/integrations/{id}': ['integrations.get', 'Integration'],
  'PATCH /api/v1/integrations/{id}': ['integrations.update', 'Integration'],
  'DELETE /api/v1/integrations/{id}': ['integrations.delete', 'Deleted'],
  'POST /api/v1/chat': ['chat.send', 'ChatAnswer'],
  'POST /api/v1/chatbots/{id}/chat': ['chat.send_to_chatbot', 'ChatAnswer'],
  'GET /api/v1/conversations': ['conversations.list', 'ConversationSummary'],
  'GET /api/v1/conversations/{id}': ['conversations.get', 'Conversation'],
  'DELETE /api/v1/conversations/{id}': ['conversations.delete', 'Deleted'],
  'GET /api/v1/conversations/{id}/messages': ['conversations.list_messages', 'Message'],
  'POST /api/v1/messages/{id}/feedback': ['messages.send_feedback', 'Message'],
  'GET /api/v1/chatbots/{id}/widget-settings': ['widget_settings.get', 'WidgetSettings'],
  'PUT /api/v1/chatbots/{id}/widget-settings': ['widget_settings.replace', 'WidgetSettings'],
  'PATCH /api/v1/chatbots/{id}/widget-settings': ['widget_settings.update', 'WidgetSettings'],
  'GET /api/v1/chatbots/{id}/widget-settings/history': ['widget_settings.list_history', 'WidgetSettingsChange'],
  'GET /api/v1/widget-config': ['widget.get_config', 'WidgetConfig'],
  'POST /api/v1/widget/leads': ['widget.create_lead', 'CreatedWidgetLead'],
  'GET /api/v1/leads': ['leads.list', 'LeadSummary'],
  'GET /api/v1/analytics': ['analytics.get', 'AnalyticsReport'],
  'GET /api/v1/leads/export.csv': ['leads.export_csv'],
  'GET /api/v1/leads/{id}': ['leads.get', 'Lead'],
  'DELETE /api/v1/leads/{id}': ['leads.delete', 'Deleted'],
  'GET /api/v1/chatbots/{id}/sources': ['sources.list', 'KnowledgeSource'],
  'POST /api/v1/chatbots/{id}/sources': ['sources.create', 'KnowledgeSource'],
  'POST /api/v1/chatbots/{id}/sources/batch': ['sources.create_batch', 'KnowledgeSourceBatch'],
  'GET /api/v1/sources/{id}': ['sources.get', 'KnowledgeSource'],
  'PATCH /api/v1/sources/{id}': ['sources.update', 'KnowledgeSource'],
  'DELETE /api/v1/sources/{id}': ['sources.delete', 'Deleted'],
  'GET /api/v1/sources/{id}/chunks': ['sources.list_chunks', 'Chunk'],
  'GET /api/v1/sources/{id}/pages': ['sources.list_pages', 'CrawledPage'],
  'POST /api/v1/sources/{id}/reindex': ['sources.reindex', 'KnowledgeSource'],
  'GET /api/v1/webhooks': ['webhooks.list', 'Webhook'],
  'POST /api/v1/webhooks': ['webhooks.create', 'CreatedWebhook'],
  'GET /api/v1/webhooks/{id}': ['webhooks.get', 'Webhook'],
  'PATCH /api/v1/webhooks/{id}': ['webhooks.update', 'Webhook'],
  'DELETE /api/v1/webhooks/{id}': ['webhooks.delete', 'Deleted'],
  'POST /api/v1/webhooks/{id}/rotate-secret': ['webhooks.rotate_secret', 'CreatedWebhook'],
  'POST /api/v1/webhooks/{id}/test': ['webhooks.send_test', 'WebhookTestSent'],
  'GET /api/v1/webhooks/{id}/deliveries': ['webhooks.list_deliveries', 'WebhookDelivery'],
  'POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': ['webhooks.redeliver', 'WebhookDelivery'],
  'POST /api/v1/chatbots/{id}/retrieval-preview': ['sources.preview_retrieval', 'RetrievalPreview'],
  'POST /api/v1/chat/confirm': ['chat.confirm', 'ActionConfirmation'],
  'GET /api/v1/chatbots/{id}/actions': ['actions.list', 'Action'],
  'POST /api/v1/chatbots/{id}/actions': ['actions.create'],
  'POST /api/v1/chatbots/{id}/actions/presets': ['actions.create_from_preset'],
  'GET /api/v1/actions/{id}': ['actions.get'],
  'PATCH /api/v1/actions/{id}': ['actions.update'],
  'DELETE /api/v1/actions/{id}': ['actions.delete'],
  'POST /api/v1/actions/{id}/run': ['actions.run', 'ActionRunResult'],
  'GET /api/v1/actions/{id}/runs': ['actions.list_runs', 'ActionRun'],
  'GET /api/v1/agent-loops': ['agent_loops.list', 'AgentLoop'],
  'POST /api/v1/agent-loops': ['agent_loops.create'],
  'GET /api/v1/agent-loops/{id}': ['agent_loops.get'],
  'PATCH /api/v1/agent-loops/{id}': ['agent_loops.update'],
  'DELETE /api/v1/agent-loops/{id}': ['agent_loops.delete'],
  'POST /api/v1/agent-loops/{id}/run': ['agent_loops.run', 'AgentLoopExecution'],
  'GET /api/v1/agent-loops/{id}/executions': ['agent_loops.list_executions'],
  'GET /api/v1/executions/{id}': ['agent_loops.get_execution'],
};

const SCALARS = new Set(['string', 'number', 'integer', 'boolean']);
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const PAGE_PARAMS = new Set(['page', 'perPage']);

export const pascal = (snake) => snake.replace(/(^|_)([a-z0-9])/g, (_m, _u, c) => c.toUpperCase());
/** `snake_case` as `camelCase` (the TypeScript SDK's method and resource names). */
export const camel = (snake) => snake.replace(/_([a-z0-9])/g, (_m, c) => c.toUpperCase());

/**
 * The `operationId` of an operation in the OpenAPI document: its SDK name in camelCase
 * (`webhooks.rotate_secret` is `webhooksRotateSecret`). Operations the SDKs leave out (see SKIPPED_TAGS)
 * get one made from the method and path (`GET /api/v1/bots/{id}` is `getApiV1BotsById`); both are unique
 * because the method and path are.
 */
export function operationIdOf(method, path, tags = []) {
  const entry = OPERATION_NAMES[`${method.toUpperCase()} ${path}`];
  if (entry && !tags.some((tag) => SKIPPED_TAGS.has(tag))) return camel(entry[0].replace('.', '_'));
  const words = path
    .split('/')
    .filter(Boolean)
    .map((part) => part.match(/^\{(\w+)\}$/)?.[1].replace(/^./, (c) => `By${c.toUpperCase()}`) ?? part)
    .map((part) => part.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c = '') => c.toUpperCase()))
    .map((part) => part.replace(/^./, (c) => c.toUpperCase()));
  return `${method.toLowerCase()}${words.join('')}`;
}

/** The document with every operation's `operationId` set (see operationIdOf); the document is changed in place. */
export function withOperationIds(document) {
  const seen = new Set();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      op.operationId = operationIdOf(method, path, op.tags);
      if (seen.has(op.operationId)) throw new Error(`two operations have the operationId ${op.operationId}`);
      seen.add(op.operationId);
    }
  }
  return document;
}

/** `{ operations, models }` from an OpenAPI 3.1 document; throws on an operation without an SDK name. */
export function extractOperations(document) {
  const models = {};
  const byShape = new Map();
  // The same shape under two names becomes one model (the first name wins, so names in the table come first).
  const nameModel = (name, schema) => {
    const converted = toOpenApi30(schema);
    const shape = JSON.stringify(converted);
    const existing = byShape.get(shape);
    if (existing) return existing;
    if (models[name]) throw new Error(`two different shapes are both named ${name}`);
    models[name] = converted;
    byShape.set(shape, name);
    return name;
  };

  const operations = [];
  const unnamed = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op || op.tags?.some((tag) => SKIPPED_TAGS.has(tag))) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const entry = OPERATION_NAMES[key];
      if (!entry) {
        unnamed.push(key);
        continue;
      }
      const [fullName, modelName] = entry;
      const [resource, name] = fullName.split('.');
      const status = Object.keys(op.responses).find((s) => s.startsWith('2'));
      const content = op.responses[status].content ?? {};
      const envelope = content['application/json']?.schema;
      const data = envelope?.properties?.data;
      const parameters = op.parameters ?? [];
      const paginated = parameters.some((p) => p.in === 'query' && p.name === 'page');
      const jsonBody = op.requestBody?.content?.['application/json']?.schema;
      const base = pascal(`${resource}_${name}`);
      operations.push({
        resource,
        name,
        method: method.toUpperCase(),
        path,
        summary: op.summary ?? '',
        public: Array.isArray(op.security) && op.security.length === 0,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters
          .filter((p) => p.in === 'query' && !PAGE_PARAMS.has(p.name))
          .map((p) => ({ name: p.name, required: Boolean(p.required), type: scalarType(p.schema) })),
        paginated,
        body: jsonBody ? nameModel(`${base}Request`, jsonBody) : null,
        // A message the server stores once per id: the SDKs set one, so a retried send is not stored twice.
        messageId: Boolean(jsonBody?.properties?.clientMessageId),
        produces: envelope ? 'json' : 'text',
        model: data && data.type !== 'null' ? nameModel(modelName ?? base, paginated ? data.items : data) : null,
      });
    }
  }
  if (unnamed.length) {
    throw new Error(
      `operations without an SDK name (add them to OPERATION_NAMES in sdk/codegen/operations.mjs): ${unnamed.join(', ')}`,
    );
  }
  const errorSchema = document.paths['/api/v1/chatbots/{id}'].get.responses['404'].content['application/json'].schema;
  nameModel('ErrorBody', errorSchema.properties.error);
  const modelsDocument = {
    openapi: '3.0.3',
    info: { title: `${document.info.title} models`, version: document.info.version },
    paths: {},
    components: { schemas: models },
  };
  return { operations, modelsDocument };
}

function scalarType(schema = {}) {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  return type === 'integer' || type === 'number' || type === 'boolean' ? type : 'string';
}

/** JSON Schema 2020-12 (OpenAPI 3.1) as OpenAPI 3.0 says it: `nullable`, `enum` for `const`, no `examples`. */
export function toOpenApi30(schema) {
  if (Array.isArray(schema)) return schema.map(toOpenApi30);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'examples' || key === 'example' || key === '$schema') continue;
    if (key === 'const') out.enum = [value];
    else if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toOpenApi30(v)]));
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      if (typeof value === 'number') {
        out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
        out[key] = true;
      } else out[key] = value;
    } else out[key] = toOpenApi30(value);
  }
  if (Array.isArray(out.type)) {
    const types = out.type.filter((t) => t !== 'null');
    if (types.length < out.type.length) out.nullable = true;
    if (types.length === 1) out.type = types[0];
    else if (types.length === 0) delete out.type;
    else {
      delete out.type;
      out.anyOf = types.map((type) => ({ type }));
    }
  } else if (out.type === 'null') {
    delete out.type;
    out.nullable = true;
  }
  for (const combinator of ['anyOf', 'oneOf']) {
    if (!Array.isArray(out[combinator])) continue;
    const variants = out[combinator].filter((v) => !(v.nullable && Object.keys(v).length === 1));
    if (variants.length < out[combinator].length) out.nullable = true;
    out[combinator] = variants;
    // "one of these fields is required" constrains values, not shapes: the server checks it, the models need not.
    const onlyRequired = variants.every((v) => Object.keys(v).every((k) => k === 'required'));
    // A choice between scalars is any scalar to the generators (Go would get a union type per field).
    const onlyScalars = variants.every((v) => SCALARS.has(v.type));
    if (onlyScalars && !onlyRequired) out.description ??= `One of: ${variants.map((v) => v.type).join(', ')}.`;
    if (onlyRequired || onlyScalars) delete out[combinator];
    else if (variants.length === 1 && Object.keys(out).every((k) => k === combinator || k === 'nullable')) {
      return { ...variants[0], ...(out.nullable ? { nullable: true } : {}) };
    }
  }
  return out;
}
