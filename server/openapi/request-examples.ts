/**
 * An example request body for every documented route that takes one, keyed `METHOD /path` as
 * mounted. The reference at `/docs` shows them and turns each into a ready curl command; a test
 * checks every body route has one and that it validates against the route's own schema.
 */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  'post /api-keys': { name: 'Website chat', scopes: ['chat', 'knowledge:read'] },
  'post /chatbots': {
    name: 'Acme support',
    instructions: 'You are the support assistant of Acme. Answer from the knowledge base.',
    allowedOrigins: ['https://www.example.com'],
  },
  'patch /chatbots/:id': { instructions: 'Answer in two sentences at most.', status: 'active' },
  'post /integrations': {
    name: 'OpenAI',
    baseUrl: 'https://api.openai.com/v1',
    apiKey: 'sk-your-provider-key',
    chatModel: 'gpt-4o-mini',
    embeddingModel: 'text-embedding-3-small',
  },
  'patch /integrations/:id': { chatModel: 'gpt-4o' },
  'post /webhooks': {
    url: 'https://hooks.example.com/wisp',
    events: ['lead.created', 'answer.completed'],
    description: 'CRM sync',
  },
  'patch /webhooks/:id': { enabled: true, events: ['*'] },
  'post /chat': { chatbot: 'demo', message: 'How long does shipping take?', sessionId: 'user-42' },
  'post /chatbots/:id/chat': { message: 'Can I return a tent?', sessionId: 'user-42', stream: false },
  'post /chatbots/:id/unanswered/:gapId/answer': {
    answer: 'Yes: every tent has a two-year warranty that covers broken poles and seams.',
    title: 'Tent warranty',
  },
  'post /messages/:id/feedback': { rating: 'up', comment: 'Clear answer, thanks' },
  'put /chatbots/:id/widget-settings': {
    primaryColor: '#14532d',
    welcomeMessage: 'Hi! Ask me about shipping, returns or our gear.',
    quickPrompts: ['How long does shipping take?'],
  },
  'patch /chatbots/:id/widget-settings': { welcomeMessage: 'Hello again!' },
  'post /chatbots/:id/sources': {
    type: 'text',
    title: 'Shipping',
    content: 'We ship to every address in the EU within 3 working days.',
  },
  'post /chatbots/:id/sources/batch': {
    sources: [
      { type: 'text', title: 'Shipping', content: 'We ship to every address in the EU within 3 working days.' },
      { type: 'text', title: 'Returns', content: 'Unworn items can be returned within 30 days for a full refund.' },
      { type: 'url', url: 'https://example.com/help/payments' },
    ],
  },
  'patch /sources/:id': { title: 'Shipping and delivery' },
  'post /chatbots/:id/channels': {
    type: 'telegram',
    name: 'Acme on Telegram',
    credentials: { botToken: '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw' },
  },
  'post /bots/:bot_id/channels': {
    type: 'webhook',
    name: 'In-app messenger',
    callbackUrl: 'https://messenger.example.com/wisp-answers',
  },
  'patch /channels/:id': { name: 'Support on Slack', credentials: { botToken: 'xoxb-new-bot-token' } },
  'post /chatbots/:id/retrieval-preview': { query: 'How long does shipping take?', limit: 5 },
  'post /console/sessions': { apiKey: 'sk_live_your_key' },
  'post /widget/leads': {
    bot: 'demo',
    visitorToken: 'the visitorToken the widget socket handed out',
    fields: { name: 'Ada Lovelace', email: 'ada@example.com' },
    consent: true,
  },
  'post /chatbots/:id/actions': {
    name: 'order_status',
    description: 'Look up the status of one of the signed-in customer’s orders by its number.',
    parameters: {
      type: 'object',
      properties: { orderNumber: { type: 'string', pattern: '^[0-9]{1,12}$' } },
      required: ['orderNumber'],
    },
    request: {
      method: 'GET',
      url: 'https://shop.example.com/api/orders/{params.orderNumber}',
      query: { email: '{user.email}' },
    },
    auth: { type: 'bearer', token: 'shop-api-token' },
    requiresUser: true,
    responseFields: ['status', 'trackingUrl'],
  },
  'post /agent-loops': {
    name: 'Nightly order check',
    chatbotId: '665f1c2ab9d4e8f0a1b2c3d4',
    instructions: 'Check the order named in the input and summarise its status in one sentence.',
    tools: ['search_knowledge'],
    input: { type: 'object', properties: { orderNumber: { type: 'string' } } },
    schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin' },
    maxSteps: 5,
  },
  'patch /agent-loops/:id': { enabled: false },
  'post /agent-loops/:id/run': { input: { orderNumber: '1001' } },
  'post /chatbots/:id/actions/presets': {
    preset: 'shopify_order_status',
    baseUrl: 'https://acme.myshopify.com',
    accessToken: 'shpat_your_admin_token',
  },
  'post /chat/confirm': { token: 'the requiresAction.token of the answer', approve: true },
  'patch /actions/:id': { description: 'Status and tracking link of an order.', timeoutMs: 5000 },
  'post /actions/:id/run': { parameters: { orderNumber: '1001' }, userToken: 'eyJhbGciOiJIUzI1NiJ9.the-visitor.jwt' },
  // The compatibility dialects (the source documents' own examples, where they give one).
  'put /chatbots/:id': {
    name: 'Acme support',
    instructions: 'You are the support assistant of Acme. Answer from the knowledge base.',
    allowedOrigins: ['https://www.example.com'],
  },
  'post /knowledge': {
    chatbotId: 'demo',
    type: 'text',
    title: 'Return policy',
    content: 'Returns are accepted within 30 days of delivery.',
  },
  'post /bots': { name: 'Support Agent', instructions: 'You are a friendly support agent.' },
  'patch /bots/:id': { instructions: 'Answer in two sentences at most.' },
  'post /bots/:bot_id/integrations': {
    name: 'OpenAI',
    baseUrl: 'https://api.openai.com/v1',
    apiKey: 'sk-your-provider-key',
    chatModel: 'gpt-4o-mini',
  },
  'post /chat/:slug': { message: 'How do I reset my password?', stream: false, conversationId: null },
  'post /v1/api/chat/:slug': { message: 'How do I reset my password?', stream: false, conversationId: null },
  'post /v1/chat/completions': {
    model: 'demo',
    messages: [
      { role: 'user', content: 'Can I return a tent?' },
      { role: 'assistant', content: 'Yes, within 30 days of delivery.' },
      { role: 'user', content: 'How long does shipping take?' },
    ],
    user: 'user-42',
  },
  'post /v1/query': { message: 'Where is my order?', conversation_id: null, user_token: 'jwt_for_authenticated_user' },
  'post /api/sources': {
    type: 'text',
    chatbot_id: 'demo',
    title: 'Return policy',
    content: 'Returns are accepted within 30 days of delivery.',
  },
  'post /api/chat': { message: 'How long does shipping take?', chatbot_id: 'demo', session_id: 'user-42' },
  'put /api/widget-settings': { primary_color: '#14532d', welcome_message: 'Hi! How can we help?' },
};

/** A curl command for one operation, with `$WISP` for the server and `$KEY` for an API key. */
export function curlExample(method: string, documentedPath: string, isPublic: boolean, body: unknown): string {
  const lines = [`curl -X ${method.toUpperCase()} "$WISP${documentedPath}"`];
  if (!isPublic) lines.push(`-H "Authorization: Bearer $KEY"`);
  if (body !== undefined) {
    lines.push(`-H 'content-type: application/json'`);
    lines.push(`-d '${JSON.stringify(body).replace(/'/g, "'\\''")}'`);
  }
  return lines.join(' \\\n  ');
}
