/**
 * Generated from sdk/openapi.json by openapi-typescript: do not edit. Regenerate with `npm run sdk:generate`.
 */

export interface paths {
    "/api/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List API keys
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/api-keys" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["apiKeysList"];
        put?: never;
        /**
         * Create an API key (the key is shown once)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/api-keys" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"Website chat","scopes":["chat","knowledge:read"]}'
         *     ```
         */
        post: operations["apiKeysCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an API key
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/api-keys/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["apiKeysGet"];
        put?: never;
        post?: never;
        /**
         * Revoke an API key
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/api-keys/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["apiKeysRevoke"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/api-keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate an API key: a new key with the same scopes; the old one is revoked
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/api-keys/{id}/rotate" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["apiKeysRotate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/console/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the organization's console sessions, newest first (active, expired and revoked)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/console/sessions" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1ConsoleSessions"];
        put?: never;
        /**
         * Sign in to the owner console: exchanges an API key (or a one-time console link) for an HttpOnly session cookie with the key’s scopes; answers the CSRF token to send as X-CSRF-Token on every change
         * @description Public (no API key); checked against the bot's allowed origins.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/console/sessions" \
         *       -H 'content-type: application/json' \
         *       -d '{"apiKey":"sk_live_your_key"}'
         *     ```
         */
        post: operations["postApiV1ConsoleSessions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/console/sessions/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The console session this request carries, with its scopes and CSRF token
         * @description Requires an API key (any scope) or a console session.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/console/sessions/current" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1ConsoleSessionsCurrent"];
        put?: never;
        post?: never;
        /**
         * Sign out: revokes the console session this request carries and clears its cookie
         * @description Requires an API key (any scope) or a console session.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/console/sessions/current" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["deleteApiV1ConsoleSessionsCurrent"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/console/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a console session: its next request answers 401
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/console/sessions/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["deleteApiV1ConsoleSessionsById"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List chatbots
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["chatbotsList"];
        put?: never;
        /**
         * Create a chatbot (its identity secret is shown once)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"Acme support","instructions":"You are the support assistant of Acme. Answer from the knowledge base.","allowedOrigins":["https://www.example.com"]}'
         *     ```
         */
        post: operations["chatbotsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a chatbot by id or slug
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["chatbotsGet"];
        /**
         * Replace a chatbot's settings: fields left out take their defaults (as at creation), except the slug, which is kept
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PUT "$WISP/api/v1/chatbots/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"Acme support","instructions":"You are the support assistant of Acme. Answer from the knowledge base.","allowedOrigins":["https://www.example.com"]}'
         *     ```
         */
        put: operations["putApiV1ChatbotsById"];
        post?: never;
        /**
         * Delete a chatbot with its sources, chunks, conversations and leads
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/chatbots/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["chatbotsDelete"];
        options?: never;
        head?: never;
        /**
         * Update a chatbot
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/chatbots/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"instructions":"Answer in two sentences at most.","status":"active"}'
         *     ```
         */
        patch: operations["chatbotsUpdate"];
        trace?: never;
    };
    "/api/v1/chatbots/{id}/identity-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate the identity secret used to sign end-user tokens (shown once)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/identity-secret" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["chatbotsRotateIdentitySecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This month's messages, tokens, sources and storage
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/usage" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["usageGet"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/integrations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List model connections
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/integrations" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["integrationsList"];
        put?: never;
        /**
         * Add an OpenAI-compatible model connection (the API key is stored encrypted and never returned)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/integrations" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"OpenAI","baseUrl":"https://api.openai.com/v1","apiKey":"sk-your-provider-key","chatModel":"gpt-4o-mini","embeddingModel":"text-embedding-3-small"}'
         *     ```
         */
        post: operations["integrationsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/integrations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a model connection
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/integrations/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["integrationsGet"];
        put?: never;
        post?: never;
        /**
         * Delete a model connection no bot uses
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/integrations/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["integrationsDelete"];
        options?: never;
        head?: never;
        /**
         * Update a model connection
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/integrations/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"chatModel":"gpt-4o"}'
         *     ```
         */
        patch: operations["integrationsUpdate"];
        trace?: never;
    };
    "/api/v1/chat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a message to a chatbot and get its answer. JSON by default; with `stream: true`, Server-Sent Events: `data: {"chunk": "..."}` as tokens arrive, one `data: {"done": true, ...}` with the same fields as the JSON answer, then `data: [DONE]`.
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chat" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"chatbot":"demo","message":"How long does shipping take?","sessionId":"user-42"}'
         *     ```
         */
        post: operations["chatSend"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/chat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a message to this chatbot. JSON by default; with `stream: true`, Server-Sent Events: `data: {"chunk": "..."}` as tokens arrive, one `data: {"done": true, ...}` with the same fields as the JSON answer, then `data: [DONE]`.
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/chat" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"message":"Can I return a tent?","sessionId":"user-42","stream":false}'
         *     ```
         */
        post: operations["chatSendToChatbot"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/unanswered": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The gap log: questions answered with low confidence or none (greetings and small talk left out), repeats counted together, most repeated first; open ones unless `status` says otherwise
         * @description Requires scope `conversations:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}/unanswered" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["chatbotsListUnanswered"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/unanswered/{gapId}/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mark a question of the gap log resolved (it opens again if visitors ask it and it is still unanswered)
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/unanswered/{gapId}/resolve" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["chatbotsResolveUnanswered"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/unanswered/{gapId}/answer": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Answer a question of the gap log: the question and answer become a text source of the bot (processed in the background like any source), and the question is marked resolved
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/unanswered/{gapId}/answer" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"answer":"Yes: every tent has a two-year warranty that covers broken poles and seams.","title":"Tent warranty"}'
         *     ```
         */
        post: operations["chatbotsAnswerUnanswered"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/conversations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List conversations (filter by chatbot, date range, text)
         * @description Requires scope `conversations:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/conversations" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["conversationsList"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/conversations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a conversation with its messages
         * @description Requires scope `conversations:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/conversations/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["conversationsGet"];
        put?: never;
        post?: never;
        /**
         * Delete a conversation and its messages
         * @description Requires scope `conversations:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/conversations/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["conversationsDelete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/conversations/{id}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A page of a conversation's messages, oldest first
         * @description Requires scope `conversations:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/conversations/{id}/messages" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["conversationsListMessages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/messages/{id}/feedback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Record the end user's thumbs up or down on an answer
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/messages/{id}/feedback" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"rating":"up","comment":"Clear answer, thanks"}'
         *     ```
         */
        post: operations["messagesSendFeedback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/widget-settings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a bot's widget settings with their version
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}/widget-settings" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["widgetSettingsGet"];
        /**
         * Replace the widget settings (absent fields go back to their defaults)
         * @description Requires scope `settings:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PUT "$WISP/api/v1/chatbots/{id}/widget-settings" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"primaryColor":"#14532d","welcomeMessage":"Hi! Ask me about shipping, returns or our gear.","quickPrompts":["How long does shipping take?"]}'
         *     ```
         */
        put: operations["widgetSettingsReplace"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change some widget settings (leadCapture merges one level; other values replace)
         * @description Requires scope `settings:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/chatbots/{id}/widget-settings" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"welcomeMessage":"Hello again!"}'
         *     ```
         */
        patch: operations["widgetSettingsUpdate"];
        trace?: never;
    };
    "/api/v1/chatbots/{id}/widget-settings/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The last changes of the widget settings, newest first
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}/widget-settings/history" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["widgetSettingsListHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/widget-config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The public config a widget renders from (by bot id or slug)
         * @description Public (no API key); checked against the bot's allowed origins.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/widget-config"
         *     ```
         */
        get: operations["widgetGetConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/leads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List leads, newest first (filter by chatbot, date range, text), with their latest conversation
         * @description Requires scope `leads:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/leads" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["leadsList"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/leads/export.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export the matching leads as CSV (RFC 4180, streamed; formula-like cells prefixed with a quote)
         * @description Requires scope `leads:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/leads/export.csv" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["leadsExportCsv"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/leads/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a lead with the transcripts of its conversations
         * @description Requires scope `leads:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/leads/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["leadsGet"];
        put?: never;
        post?: never;
        /**
         * Delete a lead: the person's details go, and their conversations keep no name or email
         * @description Requires scope `leads:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/leads/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["leadsDelete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/analytics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage figures of the organization or one chatbot: totals, a series by day, week or month in a time zone, and the most asked questions, unanswered questions and cited sources
         * @description Requires scope `analytics:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/analytics" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["analyticsGet"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a chatbot's knowledge sources
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}/sources" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["sourcesList"];
        put?: never;
        /**
         * Add a source (text or URL as JSON; a file as multipart/form-data with a `file` field); answers 202 and processes it in the background
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/sources" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"type":"text","title":"Shipping","content":"We ship to every address in the EU within 3 working days."}'
         *     ```
         */
        post: operations["sourcesCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/sources/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Add up to 100 text and URL sources in one request, all or nothing: an invalid item refuses the whole batch (422, each failing field named by its path, e.g. `sources.3.content`) and nothing is written; otherwise answers 202 with the sources in the order sent, processed in the background
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/sources/batch" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"sources":[{"type":"text","title":"Shipping","content":"We ship to every address in the EU within 3 working days."},{"type":"text","title":"Returns","content":"Unworn items can be returned within 30 days for a full refund."},{"type":"url","url":"https://example.com/help/payments"}]}'
         *     ```
         */
        post: operations["sourcesCreateBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/retrieval-preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Look a question up in the knowledge without asking the model: the passages an answer would use, with scores, and the confidence
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/retrieval-preview" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"query":"How long does shipping take?","limit":5}'
         *     ```
         */
        post: operations["sourcesPreviewRetrieval"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sources/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a source with its status and counts
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/sources/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["sourcesGet"];
        put?: never;
        post?: never;
        /**
         * Delete a source; its passages stop appearing in answers at once
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/sources/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["sourcesDelete"];
        options?: never;
        head?: never;
        /**
         * Rename a source (200), or change its content or address, which reprocesses it (202)
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/sources/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"title":"Shipping and delivery"}'
         *     ```
         */
        patch: operations["sourcesUpdate"];
        trace?: never;
    };
    "/api/v1/sources/{id}/chunks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The passages a source was indexed as (text, heading, position, size), in document order
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/sources/{id}/chunks" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["sourcesListChunks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sources/{id}/pages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The pages a crawl or sitemap source took and skipped, with the reason for each skip
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/sources/{id}/pages" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["sourcesListPages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sources/{id}/reindex": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Process a source again (refetch a URL); answers 202
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/sources/{id}/reindex" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["sourcesReindex"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/widget/leads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submit the widget's lead form (same as the socket's lead:submit)
         * @description Public (no API key); checked against the bot's allowed origins.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/widget/leads" \
         *       -H 'content-type: application/json' \
         *       -d '{"bot":"demo","visitorToken":"the visitorToken the widget socket handed out","fields":{"name":"Ada Lovelace","email":"ada@example.com"},"consent":true}'
         *     ```
         */
        post: operations["widgetCreateLead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List webhook endpoints
         * @description Requires scope `webhooks:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/webhooks" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["webhooksList"];
        put?: never;
        /**
         * Add a webhook endpoint; its signing secret (`whsec_...`) is shown in this answer only
         * @description Requires scope `webhooks:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/webhooks" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"url":"https://hooks.example.com/wisp","events":["lead.created","answer.completed"],"description":"CRM sync"}'
         *     ```
         */
        post: operations["webhooksCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a webhook endpoint (and why it was disabled, if it was)
         * @description Requires scope `webhooks:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/webhooks/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["webhooksGet"];
        put?: never;
        post?: never;
        /**
         * Delete a webhook endpoint and its delivery history
         * @description Requires scope `webhooks:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/webhooks/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["webhooksDelete"];
        options?: never;
        head?: never;
        /**
         * Update a webhook endpoint (`enabled: true` re-enables one the server disabled)
         * @description Requires scope `webhooks:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/webhooks/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"enabled":true,"events":["*"]}'
         *     ```
         */
        patch: operations["webhooksUpdate"];
        trace?: never;
    };
    "/api/v1/webhooks/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Issue a new signing secret, shown once; the previous one keeps signing beside it for 24 hours
         * @description Requires scope `webhooks:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/webhooks/{id}/rotate-secret" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["webhooksRotateSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a `webhook.test` event to this endpoint (queued like any event; see its deliveries)
         * @description Requires scope `webhooks:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/webhooks/{id}/test" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["webhooksSendTest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the endpoint’s deliveries, newest first: status, attempts, last status code and latency, next attempt
         * @description Requires scope `webhooks:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/webhooks/{id}/deliveries" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["webhooksListDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a delivery again now, with the same `webhook-id` and body and a fresh set of retries
         * @description Requires scope `webhooks:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["webhooksRedeliver"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chat/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Approve or decline the action a chat answer paused for (its `requiresAction.token`), and get the bot’s follow-up answer. The token runs the action once: the same confirmation sent again replays the stored outcome and follow-up, or resumes one a crash cut off (the action’s stored result is reused, never sent again); deciding otherwise the second time is 409. With `stream: true`, Server-Sent Events as for `/chat`: the action’s `{"action"}` events, `{"chunk"}` lines, one `{"done": true, ...}`, then `[DONE]`
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chat/confirm" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"token":"the requiresAction.token of the answer","approve":true}'
         *     ```
         */
        post: operations["chatConfirm"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/actions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a chatbot's actions (HTTP tools the model may call)
         * @description Requires scope `actions:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}/actions" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["actionsList"];
        put?: never;
        /**
         * Add an action: a JSON-Schema-checked tool over one HTTP request to a fixed host (auth stored encrypted, never returned)
         * @description Requires scope `actions:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/actions" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"order_status","description":"Look up the status of one of the signed-in customer’s orders by its number.","parameters":{"type":"object","properties":{"orderNumber":{"type":"string","pattern":"^[0-9]{1,12}$"}},"required":["orderNumber"]},"request":{"method":"GET","url":"https://shop.example.com/api/orders/{params.orderNumber}","query":{"email":"{user.email}"}},"auth":{"type":"bearer","token":"shop-api-token"},"requiresUser":true,"responseFields":["status","trackingUrl"]}'
         *     ```
         */
        post: operations["actionsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/actions/presets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Add a vendor action from a few fields: Shopify order status, Stripe subscription status, Calendly scheduling link
         * @description Requires scope `actions:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/actions/presets" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"preset":"shopify_order_status","baseUrl":"https://acme.myshopify.com","accessToken":"shpat_your_admin_token"}'
         *     ```
         */
        post: operations["actionsCreateFromPreset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/actions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an action
         * @description Requires scope `actions:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/actions/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["actionsGet"];
        put?: never;
        post?: never;
        /**
         * Delete an action
         * @description Requires scope `actions:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/actions/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["actionsDelete"];
        options?: never;
        head?: never;
        /**
         * Update an action (a new request is checked again: fixed host, declared placeholders, allowed address)
         * @description Requires scope `actions:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/actions/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"description":"Status and tracking link of an order.","timeoutMs":5000}'
         *     ```
         */
        patch: operations["actionsUpdate"];
        trace?: never;
    };
    "/api/v1/actions/{id}/run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run an action outside the chat (the call is the confirmation); the connected system’s failures are a `failed` status, not an error
         * @description Requires scope `actions:run`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/actions/{id}/run" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"parameters":{"orderNumber":"1001"},"userToken":"eyJhbGciOiJIUzI1NiJ9.the-visitor.jwt"}'
         *     ```
         */
        post: operations["actionsRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/actions/{id}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List invocations of an action from chats, agent loops and the API, newest first
         * @description Requires scope `actions:run`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/actions/{id}/runs" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["actionsListRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/agent-loops": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List agent loops
         * @description Requires scope `agent_loops:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/agent-loops" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["agentLoopsList"];
        put?: never;
        /**
         * Create an agent loop: a goal, tools (action ids, search_knowledge), an input schema, limits and an optional cron schedule
         * @description Requires scope `agent_loops:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/agent-loops" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"Nightly order check","chatbotId":"665f1c2ab9d4e8f0a1b2c3d4","instructions":"Check the order named in the input and summarise its status in one sentence.","tools":["search_knowledge"],"input":{"type":"object","properties":{"orderNumber":{"type":"string"}}},"schedule":{"cron":"0 6 * * *","timezone":"Europe/Berlin"},"maxSteps":5}'
         *     ```
         */
        post: operations["agentLoopsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/agent-loops/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an agent loop
         * @description Requires scope `agent_loops:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/agent-loops/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["agentLoopsGet"];
        put?: never;
        post?: never;
        /**
         * Delete an agent loop (its executions stay listed under /executions/:id)
         * @description Requires scope `agent_loops:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/agent-loops/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["agentLoopsDelete"];
        options?: never;
        head?: never;
        /**
         * Update an agent loop
         * @description Requires scope `agent_loops:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/agent-loops/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"enabled":false}'
         *     ```
         */
        patch: operations["agentLoopsUpdate"];
        trace?: never;
    };
    "/api/v1/agent-loops/{id}/run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run an agent loop: 202 with the queued execution, or with `?wait=true` 200 with the finished one (202 if still running after 30 s)
         * @description Requires scope `agent_loops:run`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/agent-loops/{id}/run" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"input":{"orderNumber":"1001"}}'
         *     ```
         */
        post: operations["agentLoopsRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/agent-loops/{id}/executions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a loop's executions, newest first
         * @description Requires scope `agent_loops:run`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/agent-loops/{id}/executions" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["agentLoopsListExecutions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/executions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an execution: status, steps (model and tool calls with tokens and timing), output, error
         * @description Requires scope `agent_loops:run`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/executions/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["agentLoopsGetExecution"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/knowledge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List knowledge sources: one chatbot's (`chatbotId`) or the whole organization's
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/knowledge" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1Knowledge"];
        put?: never;
        /**
         * Add knowledge to a chatbot (`chatbotId` plus a source as `POST /chatbots/{id}/sources` takes it; a file as multipart/form-data); answers 202, queued
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/knowledge" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"chatbotId":"demo","type":"text","title":"Return policy","content":"Returns are accepted within 30 days of delivery."}'
         *     ```
         */
        post: operations["postApiV1Knowledge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bots": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List bots
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/bots" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1Bots"];
        put?: never;
        /**
         * Create a bot (its identity secret is shown once)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/bots" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"Support Agent","instructions":"You are a friendly support agent."}'
         *     ```
         */
        post: operations["postApiV1Bots"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bots/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a bot by id or slug
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/bots/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1BotsById"];
        put?: never;
        post?: never;
        /**
         * Delete a bot with its sources, chunks, conversations and leads
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/bots/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["deleteApiV1BotsById"];
        options?: never;
        head?: never;
        /**
         * Update a bot
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/bots/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"instructions":"Answer in two sentences at most."}'
         *     ```
         */
        patch: operations["patchApiV1BotsById"];
        trace?: never;
    };
    "/api/v1/bots/{bot_id}/integrations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The model connection this bot uses (none: the server default)
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/bots/{bot_id}/integrations" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1BotsByBotIdIntegrations"];
        put?: never;
        /**
         * Add a model connection and make this bot use it (`modelSettings.integrationId`); other bots may use it too
         * @description Requires scope `admin`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/bots/{bot_id}/integrations" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"OpenAI","baseUrl":"https://api.openai.com/v1","apiKey":"sk-your-provider-key","chatModel":"gpt-4o-mini"}'
         *     ```
         */
        post: operations["postApiV1BotsByBotIdIntegrations"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bots/{bot_id}/conversations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List this bot's conversations (filter by date range, text)
         * @description Requires scope `conversations:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/bots/{bot_id}/conversations" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1BotsByBotIdConversations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chat/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a message to the chatbot with this slug (or id). JSON: the chat answer plus `metadata: { model, tokens }`. With `stream: true`, Server-Sent Events: `data: {"chunk": "..."}` lines, then `data: [DONE]`; the conversation id is in the `Wisp-Conversation-Id` header
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chat/{slug}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"message":"How do I reset my password?","stream":false,"conversationId":null}'
         *     ```
         */
        post: operations["postApiV1ChatBySlug"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api/chat/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a message to the chatbot with this slug (or id). JSON: the chat answer plus `metadata: { model, tokens }`. With `stream: true`, Server-Sent Events: `data: {"chunk": "..."}` lines, then `data: [DONE]`; the conversation id is in the `Wisp-Conversation-Id` header
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/v1/api/chat/{slug}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"message":"How do I reset my password?","stream":false,"conversationId":null}'
         *     ```
         */
        post: operations["postV1ApiChatBySlug"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/query": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ask the bot: answers `answer`, `sources[]` (document id and passage excerpt), `confidence` and `conversation_id`. `user_token` is the end user's JWT signed with the bot's identity secret; `chatbot_id` may be left out while the organization has one bot
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/v1/query" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"message":"Where is my order?","conversation_id":null,"user_token":"jwt_for_authenticated_user"}'
         *     ```
         */
        post: operations["postV1Query"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List knowledge sources (URLs, files, text): the organization's, or one chatbot's with `chatbot_id`
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/sources" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiSources"];
        put?: never;
        /**
         * Add a source to a chatbot (`type` url or text as JSON; a file as multipart/form-data with `file` and `chatbot_id`); answers 202, queued
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/sources" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"type":"text","chatbot_id":"demo","title":"Return policy","content":"Returns are accepted within 30 days of delivery."}'
         *     ```
         */
        post: operations["postApiSources"];
        /**
         * Remove a source (`?id=`); its passages stop appearing in answers at once
         * @description Requires scope `knowledge:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/sources" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["deleteApiSources"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/chat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a message to the chatbot `chatbot_id` and get its answer, with snake_case fields
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/chat" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"message":"How long does shipping take?","chatbot_id":"demo","session_id":"user-42"}'
         *     ```
         */
        post: operations["postApiChat"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/leads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List captured leads, newest first, with contact details and their latest conversation
         * @description Requires scope `leads:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/leads" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiLeads"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/widget-config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The widget's configuration (appearance, welcome message, quick prompts) in snake_case
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/widget-config" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiWidgetConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/widget-settings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The widget settings (colors, position, welcome message, behaviour) with their version, in snake_case
         * @description Requires scope `knowledge:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/widget-settings" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiWidgetSettings"];
        /**
         * Update the widget settings given (snake_case, e.g. `primary_color`); the others stay as they are
         * @description Requires scope `settings:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PUT "$WISP/api/widget-settings" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"primary_color":"#14532d","welcome_message":"Hi! How can we help?"}'
         *     ```
         */
        put: operations["putApiWidgetSettings"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/chat/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * OpenAI's chat completions, answered by a chatbot: `model` is the bot's slug or id, the last `user` message is the question and earlier user/assistant messages the history (`user` or `conversation_id` continues a stored conversation). With `stream: true`, Server-Sent Events of `ChatCompletionChunk` objects ending in `data: [DONE]`. Citations and confidence are in `wisp`. Sampling fields (temperature, max_tokens, tools, ...) are accepted and ignored: the bot's model settings decide; `n` must be 1. Errors are OpenAI's error body
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/v1/chat/completions" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"model":"demo","messages":[{"role":"user","content":"Can I return a tent?"},{"role":"assistant","content":"Yes, within 30 days of delivery."},{"role":"user","content":"How long does shipping take?"}],"user":"user-42"}'
         *     ```
         */
        post: operations["postV1ChatCompletions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The organization's chatbots as OpenAI models: `id` is the slug to send as `model`
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/v1/models" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getV1Models"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One chatbot as an OpenAI model, by slug or id
         * @description Requires scope `chat`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/v1/models/{model}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getV1ModelsByModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/chatbots/{id}/channels": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the bot's messaging channels
         * @description Requires scope `channels:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/chatbots/{id}/channels" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["channelsList"];
        put?: never;
        /**
         * Connect the bot to a messaging platform (credentials are checked with the platform, stored encrypted and never returned)
         * @description Requires scope `channels:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/chatbots/{id}/channels" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"type":"telegram","name":"Acme on Telegram","credentials":{"botToken":"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}}'
         *     ```
         */
        post: operations["channelsCreate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/bots/{bot_id}/channels": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the bot's messaging channels
         * @description Requires scope `channels:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/bots/{bot_id}/channels" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["getApiV1BotsByBotIdChannels"];
        put?: never;
        /**
         * Connect the bot to a messaging platform (credentials are checked with the platform, stored encrypted and never returned)
         * @description Requires scope `channels:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/bots/{bot_id}/channels" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"type":"webhook","name":"In-app messenger","callbackUrl":"https://messenger.example.com/wisp-answers"}'
         *     ```
         */
        post: operations["postApiV1BotsByBotIdChannels"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/channels/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a channel, its status and when it last received an event
         * @description Requires scope `channels:read`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/channels/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        get: operations["channelsGet"];
        put?: never;
        post?: never;
        /**
         * Delete a channel (Wisp unregisters itself from the platform where it registered)
         * @description Requires scope `channels:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X DELETE "$WISP/api/v1/channels/{id}" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        delete: operations["channelsDelete"];
        options?: never;
        head?: never;
        /**
         * Rename a channel, replace its credentials (checked with the platform) or its callback URL
         * @description Requires scope `channels:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X PATCH "$WISP/api/v1/channels/{id}" \
         *       -H "Authorization: Bearer $KEY" \
         *       -H 'content-type: application/json' \
         *       -d '{"name":"Support on Slack","credentials":{"botToken":"xoxb-new-bot-token"}}'
         *     ```
         */
        patch: operations["channelsUpdate"];
        trace?: never;
    };
    "/api/v1/channels/{id}/reconnect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Check the credentials again; a connected channel sends the answers it held back
         * @description Requires scope `channels:write`.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/channels/{id}/reconnect" \
         *       -H "Authorization: Bearer $KEY"
         *     ```
         */
        post: operations["channelsReconnect"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/channels/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The platform's subscription check (WhatsApp: echoes `hub.challenge` when `hub.verify_token` matches)
         * @description Public (no API key); answers only with the channel’s verify token.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X GET "$WISP/api/v1/channels/{id}/events"
         *     ```
         */
        get: operations["getApiV1ChannelsByIdEvents"];
        put?: never;
        /**
         * The channel's inbound URL: the platform delivers messages (and Approve / Decline answers to paused actions) here; they are acknowledged at once and answered through the platform (a webhook channel's `"reply": "sync"` answers in the response; its `"type": "confirm"` answers a paused action by its token, 404 when nothing of this channel and user waits for it)
         * @description Public (no API key); each delivery is verified the platform's way (Telegram secret token, Slack signing secret, WhatsApp X-Hub-Signature-256, Standard Webhooks signature) and refused with 401 otherwise.
         *
         *     Example:
         *
         *     ```sh
         *     curl -X POST "$WISP/api/v1/channels/{id}/events"
         *     ```
         */
        post: operations["postApiV1ChannelsByIdEvents"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    "message.received": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `message.received` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "message.received";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            conversationId: string;
                            messageId: string;
                            /** @description `widget`, `api`, or a channel name */
                            channel: string;
                            text: string;
                            visitorId: string | null;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "answer.completed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `answer.completed` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "answer.completed";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            conversationId: string;
                            messageId: string;
                            questionMessageId: string;
                            /** @description `widget`, `api`, or a channel name */
                            channel: string;
                            text: string;
                            confidence: number;
                            answered: boolean;
                            citations: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                            }[];
                            model: string | null;
                            usage: {
                                promptTokens: number;
                                completionTokens: number;
                            };
                            firstTokenMs: number | null;
                            durationMs: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "answer.failed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `answer.failed` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "answer.failed";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            conversationId: string;
                            messageId: string;
                            questionMessageId: string;
                            /** @description `widget`, `api`, or a channel name */
                            channel: string;
                            reason: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "conversation.created": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `conversation.created` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "conversation.created";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            conversationId: string;
                            /** @description `widget`, `api`, or a channel name */
                            channel: string;
                            visitorId: string | null;
                            userSub: string | null;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "lead.created": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `lead.created` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "lead.created";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            leadId: string;
                            conversationId: string | null;
                            fields: {
                                [key: string]: string;
                            };
                            /** @enum {string} */
                            source: "widget" | "api" | "chat";
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "message.feedback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `message.feedback` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "message.feedback";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            conversationId: string;
                            messageId: string;
                            /** @enum {string|null} */
                            rating: "up" | "down" | null;
                            comment: string | null;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "source.ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `source.ready` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "source.ready";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            sourceId: string;
                            type: string;
                            title: string;
                            chunkCount: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "source.failed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `source.failed` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "source.failed";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            sourceId: string;
                            type: string;
                            title: string;
                            reason: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "integration.failed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `integration.failed` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "integration.failed";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string | null;
                            integrationId: string | null;
                            provider: string;
                            model: string;
                            reason: string;
                            attempts: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "quota.warning": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `quota.warning` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "quota.warning";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            /** @enum {string} */
                            quota: "messages";
                            /** @description The month, `YYYY-MM` (UTC) */
                            period: string;
                            used: number;
                            limit: number;
                            ratio: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "agent_loop.completed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `agent_loop.completed` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "agent_loop.completed";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            loopId: string;
                            executionId: string;
                            /** @description `completed`, `failed`, `step_limit`, `token_limit`, `timeout` or `interrupted` */
                            status: string;
                            output: string | null;
                            error: string | null;
                            steps: number;
                            durationMs: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "agent_loop.failed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `agent_loop.failed` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "agent_loop.failed";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            loopId: string;
                            executionId: string;
                            /** @description `completed`, `failed`, `step_limit`, `token_limit`, `timeout` or `interrupted` */
                            status: string;
                            output: string | null;
                            error: string | null;
                            steps: number;
                            durationMs: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "channel.disconnected": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `channel.disconnected` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "channel.disconnected";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            chatbotId: string;
                            channelId: string;
                            /** @description The platform: `telegram`, `slack`, `whatsapp` or `webhook` */
                            type: string;
                            reason: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "webhook.test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The `webhook.test` event
         * @description Sent as `POST` with a JSON body `{ type, timestamp, data }`, signed per Standard Webhooks: headers `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, several space-separated while a rotated secret still signs). Answer 2xx within 10 s; 410 disables the endpoint.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        type: "webhook.test";
                        /** @description When the event happened (ISO 8601) */
                        timestamp: string;
                        data: {
                            organizationId: string;
                            /** @description When it happened (ISO 8601) */
                            occurredAt: string;
                            webhookId: string;
                            message: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Any 2xx marks the delivery delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        ChatCompletionChunk: {
            id: string;
            /** @constant */
            object: "chat.completion.chunk";
            created: number;
            model: string;
            system_fingerprint: null;
            choices: {
                index: number;
                delta: {
                    /** @constant */
                    role?: "assistant";
                    content?: string;
                };
                logprobs: null;
                finish_reason: ("stop" | "length" | "content_filter") | null;
            }[];
            usage?: {
                prompt_tokens: number;
                completion_tokens: number;
                total_tokens: number;
            } | null;
            wisp?: {
                conversation_id: string;
                message_id: string;
                user_message_id: string;
                sources: {
                    source_id: string;
                    title: string;
                    url: string | null;
                    excerpt: string;
                    score: number;
                }[];
                confidence: number;
                /** @description The language model that wrote the answer (null: none) */
                model: string | null;
                finish_reason: string;
                /** @description Set when the answer paused to ask before running an action (`finish_reason` `requires_action`): approve or decline it with `POST /api/v1/chat/confirm` `{ "token", "approve" }` and the same API key; the token works once */
                requires_action: {
                    token: string;
                    action: string;
                    description: string;
                    arguments: unknown;
                } | null;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    apiKeysList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            prefix: string;
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            createdAt: string;
                            lastUsedAt: string | null;
                            revokedAt: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    apiKeysCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Website chat",
                 *       "scopes": [
                 *         "chat",
                 *         "knowledge:read"
                 *       ]
                 *     }
                 */
                "application/json": {
                    name: string;
                    scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            prefix: string;
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            createdAt: string;
                            lastUsedAt: string | null;
                            revokedAt: string | null;
                            key: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    apiKeysGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            prefix: string;
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            createdAt: string;
                            lastUsedAt: string | null;
                            revokedAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    apiKeysRevoke: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            prefix: string;
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            createdAt: string;
                            lastUsedAt: string | null;
                            revokedAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    apiKeysRotate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            prefix: string;
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            createdAt: string;
                            lastUsedAt: string | null;
                            revokedAt: string | null;
                            key: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1ConsoleSessions: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            keyId: string | null;
                            /** @enum {string} */
                            via: "api-key" | "link";
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            userAgent: string | null;
                            createdAt: string;
                            lastUsedAt: string | null;
                            expiresAt: string;
                            revokedAt: string | null;
                            current: boolean;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1ConsoleSessions: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "apiKey": "sk_live_your_key"
                 *     }
                 */
                "application/json": {
                    apiKey?: string;
                    link?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            keyId: string | null;
                            /** @enum {string} */
                            via: "api-key" | "link";
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            userAgent: string | null;
                            createdAt: string;
                            lastUsedAt: string | null;
                            expiresAt: string;
                            revokedAt: string | null;
                            current: boolean;
                            organizationId: string;
                            csrfToken: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1ConsoleSessionsCurrent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            keyId: string | null;
                            /** @enum {string} */
                            via: "api-key" | "link";
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            userAgent: string | null;
                            createdAt: string;
                            lastUsedAt: string | null;
                            expiresAt: string;
                            revokedAt: string | null;
                            current: boolean;
                            organizationId: string;
                            csrfToken: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    deleteApiV1ConsoleSessionsCurrent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            keyId: string | null;
                            /** @enum {string} */
                            via: "api-key" | "link";
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            userAgent: string | null;
                            createdAt: string;
                            lastUsedAt: string | null;
                            expiresAt: string;
                            revokedAt: string | null;
                            current: boolean;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    deleteApiV1ConsoleSessionsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            keyId: string | null;
                            /** @enum {string} */
                            via: "api-key" | "link";
                            scopes: ("chat" | "knowledge:read" | "knowledge:write" | "conversations:read" | "conversations:write" | "leads:read" | "leads:write" | "settings:write" | "analytics:read" | "webhooks:read" | "webhooks:write" | "channels:read" | "channels:write" | "actions:write" | "actions:run" | "agent_loops:write" | "agent_loops:run" | "admin")[];
                            userAgent: string | null;
                            createdAt: string;
                            lastUsedAt: string | null;
                            expiresAt: string;
                            revokedAt: string | null;
                            current: boolean;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Acme support",
                 *       "instructions": "You are the support assistant of Acme. Answer from the knowledge base.",
                 *       "allowedOrigins": [
                 *         "https://www.example.com"
                 *       ]
                 *     }
                 */
                "application/json": {
                    name: string;
                    slug?: string;
                    /** @default  */
                    instructions?: string;
                    /**
                     * @default {
                     *       "integrationId": null,
                     *       "model": null,
                     *       "temperature": 0.3,
                     *       "maxTokens": 800
                     *     }
                     */
                    modelSettings?: {
                        /** @default null */
                        integrationId?: string | null;
                        /** @default null */
                        model?: string | null;
                        /** @default 0.3 */
                        temperature?: number;
                        /** @default 800 */
                        maxTokens?: number;
                    };
                    /** @default [] */
                    allowedOrigins?: string[];
                    /**
                     * @default active
                     * @enum {string}
                     */
                    status?: "active" | "disabled";
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                            identitySecret: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    putApiV1ChatbotsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Acme support",
                 *       "instructions": "You are the support assistant of Acme. Answer from the knowledge base.",
                 *       "allowedOrigins": [
                 *         "https://www.example.com"
                 *       ]
                 *     }
                 */
                "application/json": {
                    name: string;
                    slug?: string;
                    /** @default  */
                    instructions?: string;
                    /**
                     * @default {
                     *       "integrationId": null,
                     *       "model": null,
                     *       "temperature": 0.3,
                     *       "maxTokens": 800
                     *     }
                     */
                    modelSettings?: {
                        /** @default null */
                        integrationId?: string | null;
                        /** @default null */
                        model?: string | null;
                        /** @default 0.3 */
                        temperature?: number;
                        /** @default 800 */
                        maxTokens?: number;
                    };
                    /** @default [] */
                    allowedOrigins?: string[];
                    /**
                     * @default active
                     * @enum {string}
                     */
                    status?: "active" | "disabled";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "instructions": "Answer in two sentences at most.",
                 *       "status": "active"
                 *     }
                 */
                "application/json": {
                    name?: string;
                    slug?: string;
                    instructions?: string;
                    modelSettings?: {
                        integrationId?: string | null;
                        model?: string | null;
                        temperature?: number;
                        maxTokens?: number;
                    };
                    allowedOrigins?: string[];
                    /** @enum {string} */
                    status?: "active" | "disabled";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsRotateIdentitySecret: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            identitySecret: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    usageGet: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            period: string;
                            /** @enum {string} */
                            plan: "free" | "pro" | "enterprise";
                            messages: {
                                used: number;
                                /** @description The monthly message quota; null = unlimited */
                                limit: number | null;
                                /** @description When the period ends and the count starts again (ISO 8601, UTC) */
                                resetsAt: string;
                            };
                            tokens: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            modelFailures: number;
                            modelRetries: number;
                            sources: number;
                            storage: {
                                characters: number;
                                chunks: number;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    integrationsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            baseUrl: string;
                            hasApiKey: boolean;
                            chatModel: string | null;
                            embeddingModel: string | null;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    integrationsCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "OpenAI",
                 *       "baseUrl": "https://api.openai.com/v1",
                 *       "apiKey": "sk-your-provider-key",
                 *       "chatModel": "gpt-4o-mini",
                 *       "embeddingModel": "text-embedding-3-small"
                 *     }
                 */
                "application/json": {
                    name: string;
                    /** Format: uri */
                    baseUrl: string;
                    apiKey: string;
                    /** @default null */
                    chatModel?: string | null;
                    /** @default null */
                    embeddingModel?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            baseUrl: string;
                            hasApiKey: boolean;
                            chatModel: string | null;
                            embeddingModel: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    integrationsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            baseUrl: string;
                            hasApiKey: boolean;
                            chatModel: string | null;
                            embeddingModel: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    integrationsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    integrationsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "chatModel": "gpt-4o"
                 *     }
                 */
                "application/json": {
                    name?: string;
                    /** Format: uri */
                    baseUrl?: string;
                    apiKey?: string;
                    chatModel?: string | null;
                    embeddingModel?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            baseUrl: string;
                            hasApiKey: boolean;
                            chatModel: string | null;
                            embeddingModel: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatSend: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "chatbot": "demo",
                 *       "message": "How long does shipping take?",
                 *       "sessionId": "user-42"
                 *     }
                 */
                "application/json": {
                    message: string;
                    conversationId?: string;
                    sessionId?: string;
                    /** @default false */
                    stream?: boolean;
                    clientMessageId?: string;
                    userToken?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                    chatbotId?: string;
                    chatbot?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            response: string;
                            conversationId: string;
                            messageId: string;
                            userMessageId: string;
                            sources: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            tokensUsed: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            model: string | null;
                            finishReason: string;
                            requiresAction?: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatSendToChatbot: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "message": "Can I return a tent?",
                 *       "sessionId": "user-42",
                 *       "stream": false
                 *     }
                 */
                "application/json": {
                    message: string;
                    conversationId?: string;
                    sessionId?: string;
                    /** @default false */
                    stream?: boolean;
                    clientMessageId?: string;
                    userToken?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            response: string;
                            conversationId: string;
                            messageId: string;
                            userMessageId: string;
                            sources: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            tokensUsed: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            model: string | null;
                            finishReason: string;
                            requiresAction?: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsListUnanswered: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                status?: "open" | "resolved" | "all";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            question: string;
                            count: number;
                            lastConfidence: number;
                            firstAskedAt: string;
                            lastAskedAt: string;
                            /** @enum {string} */
                            status: "open" | "resolved";
                            resolvedAt: string | null;
                            sourceId: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsResolveUnanswered: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
                gapId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            question: string;
                            count: number;
                            lastConfidence: number;
                            firstAskedAt: string;
                            lastAskedAt: string;
                            /** @enum {string} */
                            status: "open" | "resolved";
                            resolvedAt: string | null;
                            sourceId: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatbotsAnswerUnanswered: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
                gapId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "answer": "Yes: every tent has a two-year warranty that covers broken poles and seams.",
                 *       "title": "Tent warranty"
                 *     }
                 */
                "application/json": {
                    answer: string;
                    title?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            gap: {
                                id: string;
                                question: string;
                                count: number;
                                lastConfidence: number;
                                firstAskedAt: string;
                                lastAskedAt: string;
                                /** @enum {string} */
                                status: "open" | "resolved";
                                resolvedAt: string | null;
                                sourceId: string | null;
                            };
                            source: {
                                id: string;
                                chatbotId: string;
                                /** @enum {string} */
                                type: "text" | "url" | "file";
                                title: string;
                                /** @enum {string} */
                                status: "queued" | "processing" | "ready" | "failed";
                                failureReason: string | null;
                                /** @enum {string|null} */
                                stage: "fetching" | "chunking" | "embedding" | null;
                                url: string | null;
                                crawl: {
                                    /**
                                     * @default page
                                     * @enum {string}
                                     */
                                    mode: "page" | "sitemap" | "site";
                                    /** @default 25 */
                                    maxPages: number;
                                } | null;
                                finalUrl: string | null;
                                lastFetchedAt: string | null;
                                file: {
                                    name: string;
                                    mimeType: string;
                                    size: number;
                                } | null;
                                counts: {
                                    characters: number;
                                    chunks: number;
                                    pages: number;
                                };
                                attempts: number;
                                createdAt: string;
                                updatedAt: string;
                                readyAt: string | null;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    conversationsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                chatbotId?: string;
                from?: string;
                to?: string;
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            channel: "api" | "widget" | "telegram" | "slack" | "whatsapp" | "webhook";
                            sessionId: string | null;
                            visitorId: string | null;
                            user: {
                                sub: string | null;
                                name: string | null;
                                email: string | null;
                            } | null;
                            leadId: string | null;
                            messageCount: number;
                            lastMessage: {
                                preview: string;
                                at: string;
                            } | null;
                            metadata: {
                                [key: string]: unknown;
                            };
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    conversationsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            channel: "api" | "widget" | "telegram" | "slack" | "whatsapp" | "webhook";
                            sessionId: string | null;
                            visitorId: string | null;
                            user: {
                                sub: string | null;
                                name: string | null;
                                email: string | null;
                            } | null;
                            leadId: string | null;
                            messageCount: number;
                            lastMessage: {
                                preview: string;
                                at: string;
                            } | null;
                            metadata: {
                                [key: string]: unknown;
                            };
                            createdAt: string;
                            updatedAt: string;
                            messages: {
                                id: string;
                                conversationId: string;
                                /** @enum {string} */
                                role: "user" | "assistant";
                                content: string;
                                /** @enum {string} */
                                status: "complete" | "pending" | "failed";
                                clientMessageId: string | null;
                                sources: {
                                    sourceId: string;
                                    title: string;
                                    url: string | null;
                                    excerpt: string;
                                    score: number;
                                }[];
                                confidence: number | null;
                                /** @enum {string|null} */
                                feedback: "up" | "down" | null;
                                /** @enum {string|null} */
                                notice: "knowledge_only" | "ask_email" | null;
                                toolCalls?: {
                                    name: string;
                                    arguments?: unknown;
                                    status: string;
                                    result?: unknown;
                                    error: string | null;
                                }[];
                                pendingAction?: {
                                    action: string;
                                    description: string;
                                    arguments?: unknown;
                                };
                                createdAt: string;
                            }[];
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    conversationsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    conversationsListMessages: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            conversationId: string;
                            /** @enum {string} */
                            role: "user" | "assistant";
                            content: string;
                            /** @enum {string} */
                            status: "complete" | "pending" | "failed";
                            clientMessageId: string | null;
                            sources: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number | null;
                            /** @enum {string|null} */
                            feedback: "up" | "down" | null;
                            /** @enum {string|null} */
                            notice: "knowledge_only" | "ask_email" | null;
                            toolCalls?: {
                                name: string;
                                arguments?: unknown;
                                status: string;
                                result?: unknown;
                                error: string | null;
                            }[];
                            pendingAction?: {
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                            createdAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    messagesSendFeedback: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "rating": "up",
                 *       "comment": "Clear answer, thanks"
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    rating: "up" | "down";
                    comment?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            conversationId: string;
                            /** @enum {string} */
                            role: "user" | "assistant";
                            content: string;
                            /** @enum {string} */
                            status: "complete" | "pending" | "failed";
                            clientMessageId: string | null;
                            sources: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number | null;
                            /** @enum {string|null} */
                            feedback: "up" | "down" | null;
                            /** @enum {string|null} */
                            notice: "knowledge_only" | "ask_email" | null;
                            toolCalls?: {
                                name: string;
                                arguments?: unknown;
                                status: string;
                                result?: unknown;
                                error: string | null;
                            }[];
                            pendingAction?: {
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                            createdAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    widgetSettingsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            chatbotId: string;
                            version: number;
                            updatedAt: string;
                            settings: {
                                /** @default #2563eb */
                                primaryColor: string;
                                /** @default null */
                                textColor: string | null;
                                /**
                                 * @default bottom-right
                                 * @enum {string}
                                 */
                                position: "bottom-right" | "bottom-left";
                                /** @default 20 */
                                offsetX: number;
                                /** @default 20 */
                                offsetY: number;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                launcherIconUrl: string | null;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                avatarUrl: string | null;
                                /** @default null */
                                displayName: string | null;
                                /** @default Hi! How can I help you today? */
                                welcomeMessage: string;
                                /** @default Type your message… */
                                inputPlaceholder: string;
                                /** @default [] */
                                quickPrompts: string[];
                                /**
                                 * @default auto
                                 * @enum {string}
                                 */
                                theme: "light" | "dark" | "auto";
                                /** @default en */
                                locale: string;
                                /** @default {} */
                                strings: {
                                    [key: string]: string;
                                };
                                /** @default false */
                                openOnLoad: boolean;
                                /** @default true */
                                showCitations: boolean;
                                /** @default true */
                                showPoweredBy: boolean;
                                /** @default [] */
                                allowedOrigins: string[];
                                /**
                                 * @default {
                                 *       "enabled": false,
                                 *       "trigger": "cannot_answer",
                                 *       "afterMessages": 2,
                                 *       "fields": [],
                                 *       "consentText": null,
                                 *       "askEmailWhenUnanswered": false
                                 *     }
                                 */
                                leadCapture: {
                                    /** @default false */
                                    enabled: boolean;
                                    /**
                                     * @default cannot_answer
                                     * @enum {string}
                                     */
                                    trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                    /** @default 2 */
                                    afterMessages: number;
                                    /** @default [] */
                                    fields: {
                                        key: string;
                                        label: string;
                                        /** @enum {string} */
                                        type: "name" | "email" | "phone" | "company" | "text";
                                        /** @default false */
                                        required: boolean;
                                    }[];
                                    /** @default null */
                                    consentText: string | null;
                                    /** @default false */
                                    askEmailWhenUnanswered: boolean;
                                };
                                /** @default {} */
                                cssVariables: {
                                    "--wisp-radius"?: string;
                                    "--wisp-font-size"?: string;
                                    "--wisp-panel-width"?: string;
                                    "--wisp-panel-height"?: string;
                                    "--wisp-bubble-size"?: string;
                                };
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    widgetSettingsReplace: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "primaryColor": "#14532d",
                 *       "welcomeMessage": "Hi! Ask me about shipping, returns or our gear.",
                 *       "quickPrompts": [
                 *         "How long does shipping take?"
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @default #2563eb */
                    primaryColor?: string;
                    /** @default null */
                    textColor?: string | null;
                    /**
                     * @default bottom-right
                     * @enum {string}
                     */
                    position?: "bottom-right" | "bottom-left";
                    /** @default 20 */
                    offsetX?: number;
                    /** @default 20 */
                    offsetY?: number;
                    /**
                     * Format: uri
                     * @default null
                     */
                    launcherIconUrl?: string | null;
                    /**
                     * Format: uri
                     * @default null
                     */
                    avatarUrl?: string | null;
                    /** @default null */
                    displayName?: string | null;
                    /** @default Hi! How can I help you today? */
                    welcomeMessage?: string;
                    /** @default Type your message… */
                    inputPlaceholder?: string;
                    /** @default [] */
                    quickPrompts?: string[];
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    theme?: "light" | "dark" | "auto";
                    /** @default en */
                    locale?: string;
                    /** @default {} */
                    strings?: {
                        [key: string]: string;
                    };
                    /** @default false */
                    openOnLoad?: boolean;
                    /** @default true */
                    showCitations?: boolean;
                    /** @default true */
                    showPoweredBy?: boolean;
                    /** @default [] */
                    allowedOrigins?: string[];
                    /**
                     * @default {
                     *       "enabled": false,
                     *       "trigger": "cannot_answer",
                     *       "afterMessages": 2,
                     *       "fields": [],
                     *       "consentText": null,
                     *       "askEmailWhenUnanswered": false
                     *     }
                     */
                    leadCapture?: {
                        /** @default false */
                        enabled?: boolean;
                        /**
                         * @default cannot_answer
                         * @enum {string}
                         */
                        trigger?: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                        /** @default 2 */
                        afterMessages?: number;
                        /** @default [] */
                        fields?: {
                            key: string;
                            label: string;
                            /** @enum {string} */
                            type: "name" | "email" | "phone" | "company" | "text";
                            /** @default false */
                            required?: boolean;
                        }[];
                        /** @default null */
                        consentText?: string | null;
                        /** @default false */
                        askEmailWhenUnanswered?: boolean;
                    };
                    /** @default {} */
                    cssVariables?: {
                        "--wisp-radius"?: string;
                        "--wisp-font-size"?: string;
                        "--wisp-panel-width"?: string;
                        "--wisp-panel-height"?: string;
                        "--wisp-bubble-size"?: string;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            chatbotId: string;
                            version: number;
                            updatedAt: string;
                            settings: {
                                /** @default #2563eb */
                                primaryColor: string;
                                /** @default null */
                                textColor: string | null;
                                /**
                                 * @default bottom-right
                                 * @enum {string}
                                 */
                                position: "bottom-right" | "bottom-left";
                                /** @default 20 */
                                offsetX: number;
                                /** @default 20 */
                                offsetY: number;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                launcherIconUrl: string | null;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                avatarUrl: string | null;
                                /** @default null */
                                displayName: string | null;
                                /** @default Hi! How can I help you today? */
                                welcomeMessage: string;
                                /** @default Type your message… */
                                inputPlaceholder: string;
                                /** @default [] */
                                quickPrompts: string[];
                                /**
                                 * @default auto
                                 * @enum {string}
                                 */
                                theme: "light" | "dark" | "auto";
                                /** @default en */
                                locale: string;
                                /** @default {} */
                                strings: {
                                    [key: string]: string;
                                };
                                /** @default false */
                                openOnLoad: boolean;
                                /** @default true */
                                showCitations: boolean;
                                /** @default true */
                                showPoweredBy: boolean;
                                /** @default [] */
                                allowedOrigins: string[];
                                /**
                                 * @default {
                                 *       "enabled": false,
                                 *       "trigger": "cannot_answer",
                                 *       "afterMessages": 2,
                                 *       "fields": [],
                                 *       "consentText": null,
                                 *       "askEmailWhenUnanswered": false
                                 *     }
                                 */
                                leadCapture: {
                                    /** @default false */
                                    enabled: boolean;
                                    /**
                                     * @default cannot_answer
                                     * @enum {string}
                                     */
                                    trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                    /** @default 2 */
                                    afterMessages: number;
                                    /** @default [] */
                                    fields: {
                                        key: string;
                                        label: string;
                                        /** @enum {string} */
                                        type: "name" | "email" | "phone" | "company" | "text";
                                        /** @default false */
                                        required: boolean;
                                    }[];
                                    /** @default null */
                                    consentText: string | null;
                                    /** @default false */
                                    askEmailWhenUnanswered: boolean;
                                };
                                /** @default {} */
                                cssVariables: {
                                    "--wisp-radius"?: string;
                                    "--wisp-font-size"?: string;
                                    "--wisp-panel-width"?: string;
                                    "--wisp-panel-height"?: string;
                                    "--wisp-bubble-size"?: string;
                                };
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    widgetSettingsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "welcomeMessage": "Hello again!"
                 *     }
                 */
                "application/json": {
                    primaryColor?: string;
                    textColor?: string | null;
                    /** @enum {string} */
                    position?: "bottom-right" | "bottom-left";
                    offsetX?: number;
                    offsetY?: number;
                    /** Format: uri */
                    launcherIconUrl?: string | null;
                    /** Format: uri */
                    avatarUrl?: string | null;
                    displayName?: string | null;
                    welcomeMessage?: string;
                    inputPlaceholder?: string;
                    quickPrompts?: string[];
                    /** @enum {string} */
                    theme?: "light" | "dark" | "auto";
                    locale?: string;
                    strings?: {
                        [key: string]: string;
                    };
                    openOnLoad?: boolean;
                    showCitations?: boolean;
                    showPoweredBy?: boolean;
                    allowedOrigins?: string[];
                    leadCapture?: {
                        enabled?: boolean;
                        /** @enum {string} */
                        trigger?: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                        afterMessages?: number;
                        fields?: {
                            key: string;
                            label: string;
                            /** @enum {string} */
                            type: "name" | "email" | "phone" | "company" | "text";
                            /** @default false */
                            required?: boolean;
                        }[];
                        consentText?: string | null;
                        askEmailWhenUnanswered?: boolean;
                    };
                    cssVariables?: {
                        "--wisp-radius"?: string;
                        "--wisp-font-size"?: string;
                        "--wisp-panel-width"?: string;
                        "--wisp-panel-height"?: string;
                        "--wisp-bubble-size"?: string;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            chatbotId: string;
                            version: number;
                            updatedAt: string;
                            settings: {
                                /** @default #2563eb */
                                primaryColor: string;
                                /** @default null */
                                textColor: string | null;
                                /**
                                 * @default bottom-right
                                 * @enum {string}
                                 */
                                position: "bottom-right" | "bottom-left";
                                /** @default 20 */
                                offsetX: number;
                                /** @default 20 */
                                offsetY: number;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                launcherIconUrl: string | null;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                avatarUrl: string | null;
                                /** @default null */
                                displayName: string | null;
                                /** @default Hi! How can I help you today? */
                                welcomeMessage: string;
                                /** @default Type your message… */
                                inputPlaceholder: string;
                                /** @default [] */
                                quickPrompts: string[];
                                /**
                                 * @default auto
                                 * @enum {string}
                                 */
                                theme: "light" | "dark" | "auto";
                                /** @default en */
                                locale: string;
                                /** @default {} */
                                strings: {
                                    [key: string]: string;
                                };
                                /** @default false */
                                openOnLoad: boolean;
                                /** @default true */
                                showCitations: boolean;
                                /** @default true */
                                showPoweredBy: boolean;
                                /** @default [] */
                                allowedOrigins: string[];
                                /**
                                 * @default {
                                 *       "enabled": false,
                                 *       "trigger": "cannot_answer",
                                 *       "afterMessages": 2,
                                 *       "fields": [],
                                 *       "consentText": null,
                                 *       "askEmailWhenUnanswered": false
                                 *     }
                                 */
                                leadCapture: {
                                    /** @default false */
                                    enabled: boolean;
                                    /**
                                     * @default cannot_answer
                                     * @enum {string}
                                     */
                                    trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                    /** @default 2 */
                                    afterMessages: number;
                                    /** @default [] */
                                    fields: {
                                        key: string;
                                        label: string;
                                        /** @enum {string} */
                                        type: "name" | "email" | "phone" | "company" | "text";
                                        /** @default false */
                                        required: boolean;
                                    }[];
                                    /** @default null */
                                    consentText: string | null;
                                    /** @default false */
                                    askEmailWhenUnanswered: boolean;
                                };
                                /** @default {} */
                                cssVariables: {
                                    "--wisp-radius"?: string;
                                    "--wisp-font-size"?: string;
                                    "--wisp-panel-width"?: string;
                                    "--wisp-panel-height"?: string;
                                    "--wisp-bubble-size"?: string;
                                };
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    widgetSettingsListHistory: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            version: number;
                            /** @enum {string} */
                            operation: "replace" | "patch";
                            changedFields: string[];
                            apiKeyId: string | null;
                            settings: {
                                /** @default #2563eb */
                                primaryColor: string;
                                /** @default null */
                                textColor: string | null;
                                /**
                                 * @default bottom-right
                                 * @enum {string}
                                 */
                                position: "bottom-right" | "bottom-left";
                                /** @default 20 */
                                offsetX: number;
                                /** @default 20 */
                                offsetY: number;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                launcherIconUrl: string | null;
                                /**
                                 * Format: uri
                                 * @default null
                                 */
                                avatarUrl: string | null;
                                /** @default null */
                                displayName: string | null;
                                /** @default Hi! How can I help you today? */
                                welcomeMessage: string;
                                /** @default Type your message… */
                                inputPlaceholder: string;
                                /** @default [] */
                                quickPrompts: string[];
                                /**
                                 * @default auto
                                 * @enum {string}
                                 */
                                theme: "light" | "dark" | "auto";
                                /** @default en */
                                locale: string;
                                /** @default {} */
                                strings: {
                                    [key: string]: string;
                                };
                                /** @default false */
                                openOnLoad: boolean;
                                /** @default true */
                                showCitations: boolean;
                                /** @default true */
                                showPoweredBy: boolean;
                                /** @default [] */
                                allowedOrigins: string[];
                                /**
                                 * @default {
                                 *       "enabled": false,
                                 *       "trigger": "cannot_answer",
                                 *       "afterMessages": 2,
                                 *       "fields": [],
                                 *       "consentText": null,
                                 *       "askEmailWhenUnanswered": false
                                 *     }
                                 */
                                leadCapture: {
                                    /** @default false */
                                    enabled: boolean;
                                    /**
                                     * @default cannot_answer
                                     * @enum {string}
                                     */
                                    trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                    /** @default 2 */
                                    afterMessages: number;
                                    /** @default [] */
                                    fields: {
                                        key: string;
                                        label: string;
                                        /** @enum {string} */
                                        type: "name" | "email" | "phone" | "company" | "text";
                                        /** @default false */
                                        required: boolean;
                                    }[];
                                    /** @default null */
                                    consentText: string | null;
                                    /** @default false */
                                    askEmailWhenUnanswered: boolean;
                                };
                                /** @default {} */
                                cssVariables: {
                                    "--wisp-radius"?: string;
                                    "--wisp-font-size"?: string;
                                    "--wisp-panel-width"?: string;
                                    "--wisp-panel-height"?: string;
                                    "--wisp-bubble-size"?: string;
                                };
                            };
                            createdAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    widgetGetConfig: {
        parameters: {
            query: {
                bot: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            botId: string;
                            slug: string;
                            name: string;
                            version: number;
                            appearance: {
                                primaryColor: string;
                                textColor: string;
                                /** @enum {string} */
                                position: "bottom-right" | "bottom-left";
                                offsetX: number;
                                offsetY: number;
                                launcherIconUrl: string | null;
                                avatarUrl: string | null;
                                /** @enum {string} */
                                theme: "light" | "dark" | "auto";
                                cssVariables: {
                                    [key: string]: string;
                                };
                            };
                            welcomeMessage: string;
                            inputPlaceholder: string;
                            quickPrompts: string[];
                            locale: string;
                            strings: {
                                [key: string]: string;
                            };
                            openOnLoad: boolean;
                            showCitations: boolean;
                            showPoweredBy: boolean;
                            leadCapture: {
                                enabled: boolean;
                                /** @enum {string} */
                                trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                afterMessages: number;
                                fields: {
                                    key: string;
                                    label: string;
                                    /** @enum {string} */
                                    type: "name" | "email" | "phone" | "company" | "text";
                                    required: boolean;
                                }[];
                                consentText: string | null;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    leadsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                chatbotId?: string;
                from?: string;
                to?: string;
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            email: string | null;
                            name: string | null;
                            phone: string | null;
                            company: string | null;
                            custom: {
                                [key: string]: string;
                            };
                            consent: {
                                given: boolean;
                                text: string | null;
                                at: string | null;
                            };
                            pageUrl: string | null;
                            referrer: string | null;
                            userAgent: string | null;
                            locale: string | null;
                            visitorId: string | null;
                            duplicateOf: string | null;
                            conversationIds: string[];
                            createdAt: string;
                            updatedAt: string;
                            conversation: {
                                id: string;
                                url: string;
                                messageCount: number;
                                lastMessage: {
                                    preview: string;
                                    at: string;
                                } | null;
                                createdAt: string;
                            } | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    leadsExportCsv: {
        parameters: {
            query?: {
                chatbotId?: string;
                from?: string;
                to?: string;
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    leadsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            email: string | null;
                            name: string | null;
                            phone: string | null;
                            company: string | null;
                            custom: {
                                [key: string]: string;
                            };
                            consent: {
                                given: boolean;
                                text: string | null;
                                at: string | null;
                            };
                            pageUrl: string | null;
                            referrer: string | null;
                            userAgent: string | null;
                            locale: string | null;
                            visitorId: string | null;
                            duplicateOf: string | null;
                            conversationIds: string[];
                            createdAt: string;
                            updatedAt: string;
                            conversations: {
                                id: string;
                                chatbotId: string;
                                /** @enum {string} */
                                channel: "api" | "widget" | "telegram" | "slack" | "whatsapp" | "webhook";
                                sessionId: string | null;
                                visitorId: string | null;
                                user: {
                                    sub: string | null;
                                    name: string | null;
                                    email: string | null;
                                } | null;
                                leadId: string | null;
                                messageCount: number;
                                lastMessage: {
                                    preview: string;
                                    at: string;
                                } | null;
                                metadata: {
                                    [key: string]: unknown;
                                };
                                createdAt: string;
                                updatedAt: string;
                                messages: {
                                    id: string;
                                    conversationId: string;
                                    /** @enum {string} */
                                    role: "user" | "assistant";
                                    content: string;
                                    /** @enum {string} */
                                    status: "complete" | "pending" | "failed";
                                    clientMessageId: string | null;
                                    sources: {
                                        sourceId: string;
                                        title: string;
                                        url: string | null;
                                        excerpt: string;
                                        score: number;
                                    }[];
                                    confidence: number | null;
                                    /** @enum {string|null} */
                                    feedback: "up" | "down" | null;
                                    /** @enum {string|null} */
                                    notice: "knowledge_only" | "ask_email" | null;
                                    toolCalls?: {
                                        name: string;
                                        arguments?: unknown;
                                        status: string;
                                        result?: unknown;
                                        error: string | null;
                                    }[];
                                    pendingAction?: {
                                        action: string;
                                        description: string;
                                        arguments?: unknown;
                                    };
                                    createdAt: string;
                                }[];
                            }[];
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    leadsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    analyticsGet: {
        parameters: {
            query?: {
                /** @description One chatbot (id or slug); the whole organization when omitted */
                chatbotId?: string;
                /** @description Start of the period. A date alone means that local day in `timezone`; a date-time without an offset is a local time in `timezone`. */
                from?: string;
                /** @description End of the period. A date alone means that local day in `timezone` (included); a date-time without an offset is a local time in `timezone`. */
                to?: string;
                granularity?: "day" | "week" | "month";
                /** @description IANA time zone the days, weeks and months are cut in, e.g. Europe/Paris */
                timezone?: string;
                /** @description Length of each top list (1-50) */
                top?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            chatbotId: string | null;
                            /** @description Start of the period covered (inclusive), on a quarter hour */
                            from: string;
                            /** @description End of the period covered (exclusive), on a quarter hour */
                            to: string;
                            timezone: string;
                            /** @enum {string} */
                            granularity: "day" | "week" | "month";
                            lowConfidenceThreshold: number;
                            totals: {
                                /** @description Conversations started */
                                conversations: number;
                                /** @description Messages sent by visitors or API users */
                                visitorMessages: number;
                                /** @description Answers completed */
                                answers: number;
                                /** @description Distinct end users who sent a message: widget visitor, API session, else the conversation */
                                uniqueVisitors: number;
                                /** @description Answers with confidence at or above `lowConfidenceThreshold` */
                                answered: number;
                                /** @description Answers that cited sources but scored below the threshold */
                                lowConfidence: number;
                                /** @description Answers for which the knowledge had no passage at all */
                                unanswered: number;
                                answeredShare: number | null;
                                lowConfidenceShare: number | null;
                                unansweredShare: number | null;
                                feedback: {
                                    up: number;
                                    down: number;
                                };
                                tokens: {
                                    prompt: number;
                                    completion: number;
                                    total: number;
                                };
                                /** @description Answers that failed (not cancelled by the client, not interrupted) */
                                modelFailures: number;
                                firstTokenMs: {
                                    p50: number | null;
                                    p95: number | null;
                                    samples: number;
                                };
                                /** @description Leads captured */
                                leads: number;
                                /** @description The same figures per door: `widget`, `api` */
                                byChannel: {
                                    [key: string]: {
                                        /** @description Conversations started */
                                        conversations: number;
                                        /** @description Messages sent by visitors or API users */
                                        visitorMessages: number;
                                        /** @description Answers completed */
                                        answers: number;
                                        /** @description Distinct end users who sent a message: widget visitor, API session, else the conversation */
                                        uniqueVisitors: number;
                                        /** @description Answers with confidence at or above `lowConfidenceThreshold` */
                                        answered: number;
                                        /** @description Answers that cited sources but scored below the threshold */
                                        lowConfidence: number;
                                        /** @description Answers for which the knowledge had no passage at all */
                                        unanswered: number;
                                        answeredShare: number | null;
                                        lowConfidenceShare: number | null;
                                        unansweredShare: number | null;
                                        feedback: {
                                            up: number;
                                            down: number;
                                        };
                                        tokens: {
                                            prompt: number;
                                            completion: number;
                                            total: number;
                                        };
                                        /** @description Answers that failed (not cancelled by the client, not interrupted) */
                                        modelFailures: number;
                                        firstTokenMs: {
                                            p50: number | null;
                                            p95: number | null;
                                            samples: number;
                                        };
                                    };
                                };
                            };
                            series: {
                                /** @description Conversations started */
                                conversations: number;
                                /** @description Messages sent by visitors or API users */
                                visitorMessages: number;
                                /** @description Answers completed */
                                answers: number;
                                /** @description Distinct end users who sent a message: widget visitor, API session, else the conversation */
                                uniqueVisitors: number;
                                /** @description Answers with confidence at or above `lowConfidenceThreshold` */
                                answered: number;
                                /** @description Answers that cited sources but scored below the threshold */
                                lowConfidence: number;
                                /** @description Answers for which the knowledge had no passage at all */
                                unanswered: number;
                                answeredShare: number | null;
                                lowConfidenceShare: number | null;
                                unansweredShare: number | null;
                                feedback: {
                                    up: number;
                                    down: number;
                                };
                                tokens: {
                                    prompt: number;
                                    completion: number;
                                    total: number;
                                };
                                /** @description Answers that failed (not cancelled by the client, not interrupted) */
                                modelFailures: number;
                                firstTokenMs: {
                                    p50: number | null;
                                    p95: number | null;
                                    samples: number;
                                };
                                /** @description Leads captured */
                                leads: number;
                                /** @description The same figures per door: `widget`, `api` */
                                byChannel: {
                                    [key: string]: {
                                        /** @description Conversations started */
                                        conversations: number;
                                        /** @description Messages sent by visitors or API users */
                                        visitorMessages: number;
                                        /** @description Answers completed */
                                        answers: number;
                                        /** @description Distinct end users who sent a message: widget visitor, API session, else the conversation */
                                        uniqueVisitors: number;
                                        /** @description Answers with confidence at or above `lowConfidenceThreshold` */
                                        answered: number;
                                        /** @description Answers that cited sources but scored below the threshold */
                                        lowConfidence: number;
                                        /** @description Answers for which the knowledge had no passage at all */
                                        unanswered: number;
                                        answeredShare: number | null;
                                        lowConfidenceShare: number | null;
                                        unansweredShare: number | null;
                                        feedback: {
                                            up: number;
                                            down: number;
                                        };
                                        tokens: {
                                            prompt: number;
                                            completion: number;
                                            total: number;
                                        };
                                        /** @description Answers that failed (not cancelled by the client, not interrupted) */
                                        modelFailures: number;
                                        firstTokenMs: {
                                            p50: number | null;
                                            p95: number | null;
                                            samples: number;
                                        };
                                    };
                                };
                                start: string;
                                end: string;
                            }[];
                            top: {
                                /** @description Most asked questions, by normalized text */
                                questions: {
                                    question: string;
                                    normalized: string;
                                    count: number;
                                }[];
                                /** @description Most asked questions whose answer went to the gap log */
                                unanswered: {
                                    question: string;
                                    normalized: string;
                                    count: number;
                                }[];
                                sources: {
                                    sourceId: string;
                                    title: string;
                                    url: string | null;
                                    count: number;
                                }[];
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                status?: "queued" | "processing" | "ready" | "failed";
                type?: "text" | "url" | "file";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "type": "text",
                 *       "title": "Shipping",
                 *       "content": "We ship to every address in the EU within 3 working days."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    type: "text";
                    title: string;
                    content: string;
                } | {
                    /** @enum {string} */
                    type: "url";
                    /** Format: uri */
                    url: string;
                    title?: string;
                    /**
                     * @default {
                     *       "mode": "page",
                     *       "maxPages": 25
                     *     }
                     */
                    crawl?: {
                        /**
                         * @default page
                         * @enum {string}
                         */
                        mode?: "page" | "sitemap" | "site";
                        /** @default 25 */
                        maxPages?: number;
                    };
                } | {
                    /** @enum {string} */
                    type: "file";
                    title?: string;
                };
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description PDF, DOCX, Markdown, HTML or plain text
                     */
                    file: string;
                    title?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnsupportedMediaTypeError */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesCreateBatch: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "sources": [
                 *         {
                 *           "type": "text",
                 *           "title": "Shipping",
                 *           "content": "We ship to every address in the EU within 3 working days."
                 *         },
                 *         {
                 *           "type": "text",
                 *           "title": "Returns",
                 *           "content": "Unworn items can be returned within 30 days for a full refund."
                 *         },
                 *         {
                 *           "type": "url",
                 *           "url": "https://example.com/help/payments"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": {
                    sources: ({
                        /** @enum {string} */
                        type: "text";
                        title: string;
                        content: string;
                    } | {
                        /** @enum {string} */
                        type: "url";
                        /** Format: uri */
                        url: string;
                        title?: string;
                        /**
                         * @default {
                         *       "mode": "page",
                         *       "maxPages": 25
                         *     }
                         */
                        crawl?: {
                            /**
                             * @default page
                             * @enum {string}
                             */
                            mode?: "page" | "sitemap" | "site";
                            /** @default 25 */
                            maxPages?: number;
                        };
                    })[];
                };
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        }[];
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesPreviewRetrieval: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "query": "How long does shipping take?",
                 *       "limit": 5
                 *     }
                 */
                "application/json": {
                    query: string;
                    /** @default 5 */
                    limit?: number;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            confidence: number;
                            passages: {
                                chunkId: string;
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                text: string;
                                score: number;
                            }[];
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "title": "Shipping and delivery"
                 *     }
                 */
                "application/json": {
                    title?: string;
                    content?: string;
                    /** Format: uri */
                    url?: string;
                    crawl?: {
                        /**
                         * @default page
                         * @enum {string}
                         */
                        mode?: "page" | "sitemap" | "site";
                        /** @default 25 */
                        maxPages?: number;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesListChunks: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            position: number;
                            title: string;
                            heading: string;
                            url: string | null;
                            text: string;
                            characters: number;
                            tokens: number;
                            embedded: boolean;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesListPages: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            url: string;
                            /** @enum {string} */
                            status: "taken" | "skipped";
                            reason: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    sourcesReindex: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    widgetCreateLead: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "bot": "demo",
                 *       "visitorToken": "the visitorToken the widget socket handed out",
                 *       "fields": {
                 *         "name": "Ada Lovelace",
                 *         "email": "ada@example.com"
                 *       },
                 *       "consent": true
                 *     }
                 */
                "application/json": {
                    fields: {
                        [key: string]: string;
                    };
                    consent?: boolean;
                    conversationId?: string | null;
                    pageUrl?: string;
                    referrer?: string;
                    locale?: string;
                    bot: string;
                    visitorToken: string;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            leadId: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            url: string;
                            events: string[];
                            description: string;
                            enabled: boolean;
                            chatbotId: string | null;
                            disabledReason: string | null;
                            failingSince: string | null;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "url": "https://hooks.example.com/wisp",
                 *       "events": [
                 *         "lead.created",
                 *         "answer.completed"
                 *       ],
                 *       "description": "CRM sync"
                 *     }
                 */
                "application/json": {
                    /** Format: uri */
                    url: string;
                    events: ("message.received" | "answer.completed" | "answer.failed" | "conversation.created" | "lead.created" | "message.feedback" | "source.ready" | "source.failed" | "integration.failed" | "quota.warning" | "agent_loop.completed" | "agent_loop.failed" | "channel.disconnected" | "webhook.test" | "*")[];
                    /** @default  */
                    description?: string;
                    /** @default true */
                    enabled?: boolean;
                    /** @default null */
                    chatbotId?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            url: string;
                            events: string[];
                            description: string;
                            enabled: boolean;
                            chatbotId: string | null;
                            disabledReason: string | null;
                            failingSince: string | null;
                            createdAt: string;
                            updatedAt: string;
                            /** @description The signing secret (`whsec_...`), shown only now */
                            secret: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            url: string;
                            events: string[];
                            description: string;
                            enabled: boolean;
                            chatbotId: string | null;
                            disabledReason: string | null;
                            failingSince: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "enabled": true,
                 *       "events": [
                 *         "*"
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** Format: uri */
                    url?: string;
                    events?: ("message.received" | "answer.completed" | "answer.failed" | "conversation.created" | "lead.created" | "message.feedback" | "source.ready" | "source.failed" | "integration.failed" | "quota.warning" | "agent_loop.completed" | "agent_loop.failed" | "channel.disconnected" | "webhook.test" | "*")[];
                    description?: string;
                    enabled?: boolean;
                    chatbotId?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            url: string;
                            events: string[];
                            description: string;
                            enabled: boolean;
                            chatbotId: string | null;
                            disabledReason: string | null;
                            failingSince: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksRotateSecret: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            url: string;
                            events: string[];
                            description: string;
                            enabled: boolean;
                            chatbotId: string | null;
                            disabledReason: string | null;
                            failingSince: string | null;
                            createdAt: string;
                            updatedAt: string;
                            /** @description The signing secret (`whsec_...`), shown only now */
                            secret: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksSendTest: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            deliveryId: string;
                            messageId: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksListDeliveries: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                status?: "queued" | "running" | "delivered" | "failed";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            messageId: string;
                            eventType: string;
                            /** @enum {string} */
                            status: "queued" | "running" | "delivered" | "failed";
                            attempts: number;
                            lastStatusCode: number | null;
                            lastLatencyMs: number | null;
                            lastError: string | null;
                            nextAttemptAt: string | null;
                            deliveredAt: string | null;
                            createdAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    webhooksRedeliver: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
                deliveryId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            messageId: string;
                            eventType: string;
                            /** @enum {string} */
                            status: "queued" | "running" | "delivered" | "failed";
                            attempts: number;
                            lastStatusCode: number | null;
                            lastLatencyMs: number | null;
                            lastError: string | null;
                            nextAttemptAt: string | null;
                            deliveredAt: string | null;
                            createdAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    chatConfirm: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "token": "the requiresAction.token of the answer",
                 *       "approve": true
                 *     }
                 */
                "application/json": {
                    token: string;
                    approve: boolean;
                    /** @default false */
                    stream?: boolean;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            action: string;
                            /** @enum {string} */
                            status: "succeeded" | "failed" | "refused" | "declined";
                            result?: unknown;
                            error: string | null;
                            messageId: string;
                            conversationId: string;
                            answer: {
                                response: string;
                                conversationId: string;
                                messageId: string;
                                userMessageId: string;
                                sources: {
                                    sourceId: string;
                                    title: string;
                                    url: string | null;
                                    excerpt: string;
                                    score: number;
                                }[];
                                confidence: number;
                                tokensUsed: {
                                    prompt: number;
                                    completion: number;
                                    total: number;
                                };
                                model: string | null;
                                finishReason: string;
                                requiresAction?: {
                                    token: string;
                                    action: string;
                                    description: string;
                                    arguments?: unknown;
                                };
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            name: string;
                            description: string;
                            parameters: {
                                [key: string]: unknown;
                            };
                            request: {
                                /** @enum {string} */
                                method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                                url: string;
                                headers: {
                                    [key: string]: string;
                                };
                                query: {
                                    [key: string]: string;
                                };
                                body?: unknown;
                            };
                            auth: {
                                /** @enum {string} */
                                type: "none" | "bearer" | "basic" | "header";
                                headerName: string | null;
                            };
                            requiresUser: boolean;
                            requiresConfirmation: boolean;
                            responseFields: string[];
                            timeoutMs: number;
                            maxResponseBytes: number;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "order_status",
                 *       "description": "Look up the status of one of the signed-in customer’s orders by its number.",
                 *       "parameters": {
                 *         "type": "object",
                 *         "properties": {
                 *           "orderNumber": {
                 *             "type": "string",
                 *             "pattern": "^[0-9]{1,12}$"
                 *           }
                 *         },
                 *         "required": [
                 *           "orderNumber"
                 *         ]
                 *       },
                 *       "request": {
                 *         "method": "GET",
                 *         "url": "https://shop.example.com/api/orders/{params.orderNumber}",
                 *         "query": {
                 *           "email": "{user.email}"
                 *         }
                 *       },
                 *       "auth": {
                 *         "type": "bearer",
                 *         "token": "shop-api-token"
                 *       },
                 *       "requiresUser": true,
                 *       "responseFields": [
                 *         "status",
                 *         "trackingUrl"
                 *       ]
                 *     }
                 */
                "application/json": {
                    name: string;
                    description: string;
                    /**
                     * @default {
                     *       "type": "object",
                     *       "properties": {}
                     *     }
                     */
                    parameters?: {
                        [key: string]: unknown;
                    };
                    request: {
                        /** @enum {string} */
                        method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                        url: string;
                        /** @default {} */
                        headers?: {
                            [key: string]: string;
                        };
                        /** @default {} */
                        query?: {
                            [key: string]: string;
                        };
                        /** @description A JSON value; strings may hold `{params.x}` / `{user.*}` placeholders */
                        body?: unknown;
                    };
                    /**
                     * @default {
                     *       "type": "none"
                     *     }
                     */
                    auth?: {
                        /** @enum {string} */
                        type: "none";
                    } | {
                        /** @enum {string} */
                        type: "bearer";
                        token: string;
                    } | {
                        /** @enum {string} */
                        type: "basic";
                        username: string;
                        password: string;
                    } | {
                        /** @enum {string} */
                        type: "header";
                        name: string;
                        value: string;
                    };
                    /** @default false */
                    requiresUser?: boolean;
                    requiresConfirmation?: boolean;
                    /** @default [] */
                    responseFields?: string[];
                    /** @default 10000 */
                    timeoutMs?: number;
                    /** @default 65536 */
                    maxResponseBytes?: number;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            name: string;
                            description: string;
                            parameters: {
                                [key: string]: unknown;
                            };
                            request: {
                                /** @enum {string} */
                                method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                                url: string;
                                headers: {
                                    [key: string]: string;
                                };
                                query: {
                                    [key: string]: string;
                                };
                                body?: unknown;
                            };
                            auth: {
                                /** @enum {string} */
                                type: "none" | "bearer" | "basic" | "header";
                                headerName: string | null;
                            };
                            requiresUser: boolean;
                            requiresConfirmation: boolean;
                            responseFields: string[];
                            timeoutMs: number;
                            maxResponseBytes: number;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsCreateFromPreset: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "preset": "shopify_order_status",
                 *       "baseUrl": "https://acme.myshopify.com",
                 *       "accessToken": "shpat_your_admin_token"
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    preset: "shopify_order_status";
                    baseUrl: string;
                    accessToken: string;
                    /** @default 2024-10 */
                    apiVersion?: string;
                } | {
                    /** @enum {string} */
                    preset: "stripe_subscription_status";
                    /** @default https://api.stripe.com */
                    baseUrl?: string;
                    secretKey: string;
                } | {
                    /** @enum {string} */
                    preset: "calendly_scheduling_link";
                    /** @default https://api.calendly.com */
                    baseUrl?: string;
                    accessToken: string;
                    /** Format: uri */
                    eventType: string;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            name: string;
                            description: string;
                            parameters: {
                                [key: string]: unknown;
                            };
                            request: {
                                /** @enum {string} */
                                method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                                url: string;
                                headers: {
                                    [key: string]: string;
                                };
                                query: {
                                    [key: string]: string;
                                };
                                body?: unknown;
                            };
                            auth: {
                                /** @enum {string} */
                                type: "none" | "bearer" | "basic" | "header";
                                headerName: string | null;
                            };
                            requiresUser: boolean;
                            requiresConfirmation: boolean;
                            responseFields: string[];
                            timeoutMs: number;
                            maxResponseBytes: number;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            name: string;
                            description: string;
                            parameters: {
                                [key: string]: unknown;
                            };
                            request: {
                                /** @enum {string} */
                                method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                                url: string;
                                headers: {
                                    [key: string]: string;
                                };
                                query: {
                                    [key: string]: string;
                                };
                                body?: unknown;
                            };
                            auth: {
                                /** @enum {string} */
                                type: "none" | "bearer" | "basic" | "header";
                                headerName: string | null;
                            };
                            requiresUser: boolean;
                            requiresConfirmation: boolean;
                            responseFields: string[];
                            timeoutMs: number;
                            maxResponseBytes: number;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "description": "Status and tracking link of an order.",
                 *       "timeoutMs": 5000
                 *     }
                 */
                "application/json": {
                    name?: string;
                    description?: string;
                    parameters?: {
                        [key: string]: unknown;
                    };
                    request?: {
                        /** @enum {string} */
                        method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                        url: string;
                        /** @default {} */
                        headers?: {
                            [key: string]: string;
                        };
                        /** @default {} */
                        query?: {
                            [key: string]: string;
                        };
                        /** @description A JSON value; strings may hold `{params.x}` / `{user.*}` placeholders */
                        body?: unknown;
                    };
                    auth?: {
                        /** @enum {string} */
                        type: "none";
                    } | {
                        /** @enum {string} */
                        type: "bearer";
                        token: string;
                    } | {
                        /** @enum {string} */
                        type: "basic";
                        username: string;
                        password: string;
                    } | {
                        /** @enum {string} */
                        type: "header";
                        name: string;
                        value: string;
                    };
                    requiresUser?: boolean;
                    requiresConfirmation?: boolean;
                    responseFields?: string[];
                    timeoutMs?: number;
                    maxResponseBytes?: number;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            name: string;
                            description: string;
                            parameters: {
                                [key: string]: unknown;
                            };
                            request: {
                                /** @enum {string} */
                                method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
                                url: string;
                                headers: {
                                    [key: string]: string;
                                };
                                query: {
                                    [key: string]: string;
                                };
                                body?: unknown;
                            };
                            auth: {
                                /** @enum {string} */
                                type: "none" | "bearer" | "basic" | "header";
                                headerName: string | null;
                            };
                            requiresUser: boolean;
                            requiresConfirmation: boolean;
                            responseFields: string[];
                            timeoutMs: number;
                            maxResponseBytes: number;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsRun: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "parameters": {
                 *         "orderNumber": "1001"
                 *       },
                 *       "userToken": "eyJhbGciOiJIUzI1NiJ9.the-visitor.jwt"
                 *     }
                 */
                "application/json": {
                    /** @default {} */
                    parameters?: {
                        [key: string]: unknown;
                    };
                    userToken?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            runId: string;
                            /** @enum {string} */
                            status: "succeeded" | "failed" | "refused";
                            httpStatus: number | null;
                            result?: unknown;
                            error: string | null;
                            durationMs: number;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    actionsListRuns: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            actionId: string;
                            chatbotId: string;
                            /** @enum {string} */
                            source: "chat" | "api" | "loop";
                            /** @enum {string} */
                            status: "succeeded" | "failed" | "refused" | "declined" | "sending" | "interrupted";
                            httpStatus: number | null;
                            durationMs: number;
                            error: string | null;
                            conversationId: string | null;
                            result?: unknown;
                            idempotencyKey: string | null;
                            sends: number;
                            createdAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            chatbotId: string;
                            instructions: string;
                            tools: string[];
                            input: {
                                [key: string]: unknown;
                            };
                            schedule: {
                                cron: string;
                                timezone: string;
                            } | null;
                            nextRunAt: string | null;
                            maxSteps: number;
                            maxTokens: number;
                            timeoutMs: number;
                            enabled: boolean;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Nightly order check",
                 *       "chatbotId": "665f1c2ab9d4e8f0a1b2c3d4",
                 *       "instructions": "Check the order named in the input and summarise its status in one sentence.",
                 *       "tools": [
                 *         "search_knowledge"
                 *       ],
                 *       "input": {
                 *         "type": "object",
                 *         "properties": {
                 *           "orderNumber": {
                 *             "type": "string"
                 *           }
                 *         }
                 *       },
                 *       "schedule": {
                 *         "cron": "0 6 * * *",
                 *         "timezone": "Europe/Berlin"
                 *       },
                 *       "maxSteps": 5
                 *     }
                 */
                "application/json": {
                    name: string;
                    chatbotId: string;
                    instructions: string;
                    /** @default [] */
                    tools?: string[];
                    /**
                     * @default {
                     *       "type": "object",
                     *       "properties": {}
                     *     }
                     */
                    input?: {
                        [key: string]: unknown;
                    };
                    /** @default null */
                    schedule?: {
                        cron: string;
                        /** @default UTC */
                        timezone?: string;
                    } | null;
                    /** @default 5 */
                    maxSteps?: number;
                    /** @default 8000 */
                    maxTokens?: number;
                    /** @default 60000 */
                    timeoutMs?: number;
                    /** @default true */
                    enabled?: boolean;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            chatbotId: string;
                            instructions: string;
                            tools: string[];
                            input: {
                                [key: string]: unknown;
                            };
                            schedule: {
                                cron: string;
                                timezone: string;
                            } | null;
                            nextRunAt: string | null;
                            maxSteps: number;
                            maxTokens: number;
                            timeoutMs: number;
                            enabled: boolean;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            chatbotId: string;
                            instructions: string;
                            tools: string[];
                            input: {
                                [key: string]: unknown;
                            };
                            schedule: {
                                cron: string;
                                timezone: string;
                            } | null;
                            nextRunAt: string | null;
                            maxSteps: number;
                            maxTokens: number;
                            timeoutMs: number;
                            enabled: boolean;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "enabled": false
                 *     }
                 */
                "application/json": {
                    name?: string;
                    instructions?: string;
                    tools?: string[];
                    input?: {
                        [key: string]: unknown;
                    };
                    schedule?: {
                        cron: string;
                        /** @default UTC */
                        timezone?: string;
                    } | null;
                    maxSteps?: number;
                    maxTokens?: number;
                    timeoutMs?: number;
                    enabled?: boolean;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            chatbotId: string;
                            instructions: string;
                            tools: string[];
                            input: {
                                [key: string]: unknown;
                            };
                            schedule: {
                                cron: string;
                                timezone: string;
                            } | null;
                            nextRunAt: string | null;
                            maxSteps: number;
                            maxTokens: number;
                            timeoutMs: number;
                            enabled: boolean;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsRun: {
        parameters: {
            query?: {
                wait?: "true" | "false";
            };
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "input": {
                 *         "orderNumber": "1001"
                 *       }
                 *     }
                 */
                "application/json": {
                    /** @default {} */
                    input?: {
                        [key: string]: unknown;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            loopId: string;
                            /** @enum {string} */
                            trigger: "api" | "schedule";
                            /** @enum {string} */
                            status: "queued" | "running" | "completed" | "failed" | "step_limit" | "token_limit" | "timeout" | "interrupted";
                            input?: unknown;
                            steps: {
                                /** @enum {string} */
                                type: "model" | "tool";
                                name: string | null;
                                arguments?: unknown;
                                result?: unknown;
                                status: string | null;
                                tokens: {
                                    prompt: number;
                                    completion: number;
                                } | null;
                                durationMs: number | null;
                            }[];
                            output: string | null;
                            error: string | null;
                            attempts: number;
                            interruptions: number;
                            scheduledFor: string | null;
                            durationMs: number | null;
                            createdAt: string;
                            finishedAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsListExecutions: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            loopId: string;
                            /** @enum {string} */
                            trigger: "api" | "schedule";
                            /** @enum {string} */
                            status: "queued" | "running" | "completed" | "failed" | "step_limit" | "token_limit" | "timeout" | "interrupted";
                            input?: unknown;
                            steps: {
                                /** @enum {string} */
                                type: "model" | "tool";
                                name: string | null;
                                arguments?: unknown;
                                result?: unknown;
                                status: string | null;
                                tokens: {
                                    prompt: number;
                                    completion: number;
                                } | null;
                                durationMs: number | null;
                            }[];
                            output: string | null;
                            error: string | null;
                            attempts: number;
                            interruptions: number;
                            scheduledFor: string | null;
                            durationMs: number | null;
                            createdAt: string;
                            finishedAt: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    agentLoopsGetExecution: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            loopId: string;
                            /** @enum {string} */
                            trigger: "api" | "schedule";
                            /** @enum {string} */
                            status: "queued" | "running" | "completed" | "failed" | "step_limit" | "token_limit" | "timeout" | "interrupted";
                            input?: unknown;
                            steps: {
                                /** @enum {string} */
                                type: "model" | "tool";
                                name: string | null;
                                arguments?: unknown;
                                result?: unknown;
                                status: string | null;
                                tokens: {
                                    prompt: number;
                                    completion: number;
                                } | null;
                                durationMs: number | null;
                            }[];
                            output: string | null;
                            error: string | null;
                            attempts: number;
                            interruptions: number;
                            scheduledFor: string | null;
                            durationMs: number | null;
                            createdAt: string;
                            finishedAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1Knowledge: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                status?: "queued" | "processing" | "ready" | "failed";
                type?: "text" | "url" | "file";
                chatbotId?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1Knowledge: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "chatbotId": "demo",
                 *       "type": "text",
                 *       "title": "Return policy",
                 *       "content": "Returns are accepted within 30 days of delivery."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    type: "text";
                    title: string;
                    content: string;
                    chatbotId: string;
                } | {
                    /** @enum {string} */
                    type: "url";
                    /** Format: uri */
                    url: string;
                    title?: string;
                    /**
                     * @default {
                     *       "mode": "page",
                     *       "maxPages": 25
                     *     }
                     */
                    crawl?: {
                        /**
                         * @default page
                         * @enum {string}
                         */
                        mode?: "page" | "sitemap" | "site";
                        /** @default 25 */
                        maxPages?: number;
                    };
                    chatbotId: string;
                } | {
                    /** @enum {string} */
                    type: "file";
                    title?: string;
                    chatbotId: string;
                };
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description PDF, DOCX, Markdown, HTML or plain text
                     */
                    file: string;
                    chatbotId: string;
                    title?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failureReason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /**
                                 * @default page
                                 * @enum {string}
                                 */
                                mode: "page" | "sitemap" | "site";
                                /** @default 25 */
                                maxPages: number;
                            } | null;
                            finalUrl: string | null;
                            lastFetchedAt: string | null;
                            file: {
                                name: string;
                                mimeType: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            createdAt: string;
                            updatedAt: string;
                            readyAt: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnsupportedMediaTypeError */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1Bots: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1Bots: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Support Agent",
                 *       "instructions": "You are a friendly support agent."
                 *     }
                 */
                "application/json": {
                    name: string;
                    slug?: string;
                    /** @default  */
                    instructions?: string;
                    /**
                     * @default {
                     *       "integrationId": null,
                     *       "model": null,
                     *       "temperature": 0.3,
                     *       "maxTokens": 800
                     *     }
                     */
                    modelSettings?: {
                        /** @default null */
                        integrationId?: string | null;
                        /** @default null */
                        model?: string | null;
                        /** @default 0.3 */
                        temperature?: number;
                        /** @default 800 */
                        maxTokens?: number;
                    };
                    /** @default [] */
                    allowedOrigins?: string[];
                    /**
                     * @default active
                     * @enum {string}
                     */
                    status?: "active" | "disabled";
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                            identitySecret: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1BotsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    deleteApiV1BotsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    patchApiV1BotsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "instructions": "Answer in two sentences at most."
                 *     }
                 */
                "application/json": {
                    name?: string;
                    slug?: string;
                    instructions?: string;
                    modelSettings?: {
                        integrationId?: string | null;
                        model?: string | null;
                        temperature?: number;
                        maxTokens?: number;
                    };
                    allowedOrigins?: string[];
                    /** @enum {string} */
                    status?: "active" | "disabled";
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            slug: string;
                            instructions: string;
                            modelSettings: {
                                integrationId: string | null;
                                model: string | null;
                                temperature: number;
                                maxTokens: number;
                            };
                            allowedOrigins: string[];
                            /** @enum {string} */
                            status: "active" | "disabled";
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1BotsByBotIdIntegrations: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                bot_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            baseUrl: string;
                            hasApiKey: boolean;
                            chatModel: string | null;
                            embeddingModel: string | null;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1BotsByBotIdIntegrations: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                bot_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "OpenAI",
                 *       "baseUrl": "https://api.openai.com/v1",
                 *       "apiKey": "sk-your-provider-key",
                 *       "chatModel": "gpt-4o-mini"
                 *     }
                 */
                "application/json": {
                    name: string;
                    /** Format: uri */
                    baseUrl: string;
                    apiKey: string;
                    /** @default null */
                    chatModel?: string | null;
                    /** @default null */
                    embeddingModel?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            name: string;
                            baseUrl: string;
                            hasApiKey: boolean;
                            chatModel: string | null;
                            embeddingModel: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1BotsByBotIdConversations: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                from?: string;
                to?: string;
                q?: string;
            };
            header?: never;
            path: {
                bot_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            channel: "api" | "widget" | "telegram" | "slack" | "whatsapp" | "webhook";
                            sessionId: string | null;
                            visitorId: string | null;
                            user: {
                                sub: string | null;
                                name: string | null;
                                email: string | null;
                            } | null;
                            leadId: string | null;
                            messageCount: number;
                            lastMessage: {
                                preview: string;
                                at: string;
                            } | null;
                            metadata: {
                                [key: string]: unknown;
                            };
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1ChatBySlug: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "message": "How do I reset my password?",
                 *       "stream": false,
                 *       "conversationId": null
                 *     }
                 */
                "application/json": {
                    message: string;
                    conversationId?: string | null;
                    sessionId?: string;
                    /** @default false */
                    stream?: boolean;
                    clientMessageId?: string;
                    userToken?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            response: string;
                            conversationId: string;
                            messageId: string;
                            userMessageId: string;
                            sources: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            tokensUsed: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            model: string | null;
                            finishReason: string;
                            requiresAction?: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                            metadata: {
                                model: string | null;
                                tokens: number;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postV1ApiChatBySlug: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "message": "How do I reset my password?",
                 *       "stream": false,
                 *       "conversationId": null
                 *     }
                 */
                "application/json": {
                    message: string;
                    conversationId?: string | null;
                    sessionId?: string;
                    /** @default false */
                    stream?: boolean;
                    clientMessageId?: string;
                    userToken?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            response: string;
                            conversationId: string;
                            messageId: string;
                            userMessageId: string;
                            sources: {
                                sourceId: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            tokensUsed: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            model: string | null;
                            finishReason: string;
                            requiresAction?: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                            metadata: {
                                model: string | null;
                                tokens: number;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postV1Query: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "message": "Where is my order?",
                 *       "conversation_id": null,
                 *       "user_token": "jwt_for_authenticated_user"
                 *     }
                 */
                "application/json": {
                    message: string;
                    conversation_id?: string | null;
                    user_token?: string;
                    chatbot_id?: string;
                    session_id?: string;
                    client_message_id?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            answer: string;
                            sources: {
                                document_id: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            conversation_id: string;
                            message_id: string;
                            model: string | null;
                            tokens_used: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            requires_action?: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiSources: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                status?: "queued" | "processing" | "ready" | "failed";
                type?: "text" | "url" | "file";
                chatbot_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbot_id: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failure_reason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /** @enum {string} */
                                mode: "page" | "sitemap" | "site";
                                max_pages: number;
                            } | null;
                            final_url: string | null;
                            last_fetched_at: string | null;
                            file: {
                                name: string;
                                mime_type: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            created_at: string;
                            updated_at: string;
                            ready_at: string | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            per_page: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiSources: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "type": "text",
                 *       "chatbot_id": "demo",
                 *       "title": "Return policy",
                 *       "content": "Returns are accepted within 30 days of delivery."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    type: "text";
                    title: string;
                    content: string;
                    chatbot_id: string;
                } | {
                    /** @enum {string} */
                    type: "url";
                    /** Format: uri */
                    url: string;
                    title?: string;
                    chatbot_id: string;
                    crawl?: {
                        /**
                         * @default page
                         * @enum {string}
                         */
                        mode?: "page" | "sitemap" | "site";
                        /** @default 25 */
                        max_pages?: number;
                    };
                } | {
                    /** @enum {string} */
                    type: "file";
                    title?: string;
                    chatbot_id: string;
                };
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description PDF, DOCX, Markdown, HTML or plain text
                     */
                    file: string;
                    chatbot_id: string;
                    title?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbot_id: string;
                            /** @enum {string} */
                            type: "text" | "url" | "file";
                            title: string;
                            /** @enum {string} */
                            status: "queued" | "processing" | "ready" | "failed";
                            failure_reason: string | null;
                            /** @enum {string|null} */
                            stage: "fetching" | "chunking" | "embedding" | null;
                            url: string | null;
                            crawl: {
                                /** @enum {string} */
                                mode: "page" | "sitemap" | "site";
                                max_pages: number;
                            } | null;
                            final_url: string | null;
                            last_fetched_at: string | null;
                            file: {
                                name: string;
                                mime_type: string;
                                size: number;
                            } | null;
                            counts: {
                                characters: number;
                                chunks: number;
                                pages: number;
                            };
                            attempts: number;
                            created_at: string;
                            updated_at: string;
                            ready_at: string | null;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnsupportedMediaTypeError */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    deleteApiSources: {
        parameters: {
            query: {
                id: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiChat: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "message": "How long does shipping take?",
                 *       "chatbot_id": "demo",
                 *       "session_id": "user-42"
                 *     }
                 */
                "application/json": {
                    message: string;
                    chatbot_id: string;
                    session_id?: string;
                    conversation_id?: string | null;
                    client_message_id?: string;
                    user_token?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            response: string;
                            conversation_id: string;
                            message_id: string;
                            user_message_id: string;
                            sources: {
                                source_id: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            tokens_used: {
                                prompt: number;
                                completion: number;
                                total: number;
                            };
                            model: string | null;
                            finish_reason: string;
                            requires_action?: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiLeads: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
                chatbot_id?: string;
                from?: string;
                to?: string;
                q?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbot_id: string;
                            email: string | null;
                            name: string | null;
                            phone: string | null;
                            company: string | null;
                            custom: {
                                [key: string]: string;
                            };
                            consent: {
                                given: boolean;
                                text: string | null;
                                at: string | null;
                            };
                            page_url: string | null;
                            referrer: string | null;
                            user_agent: string | null;
                            locale: string | null;
                            visitor_id: string | null;
                            duplicate_of: string | null;
                            conversation_ids: string[];
                            created_at: string;
                            updated_at: string;
                            conversation: {
                                id: string;
                                url: string;
                                message_count: number;
                                last_message: {
                                    preview: string;
                                    at: string;
                                } | null;
                                created_at: string;
                            } | null;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            per_page: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiWidgetConfig: {
        parameters: {
            query?: {
                chatbot_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            bot_id: string;
                            slug: string;
                            name: string;
                            version: number;
                            appearance: {
                                primary_color: string;
                                text_color: string;
                                /** @enum {string} */
                                position: "bottom-right" | "bottom-left";
                                offset_x: number;
                                offset_y: number;
                                launcher_icon_url: string | null;
                                avatar_url: string | null;
                                /** @enum {string} */
                                theme: "light" | "dark" | "auto";
                                css_variables: {
                                    [key: string]: string;
                                };
                            };
                            welcome_message: string;
                            input_placeholder: string;
                            quick_prompts: string[];
                            locale: string;
                            strings: {
                                [key: string]: string;
                            };
                            open_on_load: boolean;
                            show_citations: boolean;
                            show_powered_by: boolean;
                            lead_capture: {
                                enabled: boolean;
                                /** @enum {string} */
                                trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                after_messages: number;
                                fields: {
                                    key: string;
                                    label: string;
                                    /** @enum {string} */
                                    type: "name" | "email" | "phone" | "company" | "text";
                                    required: boolean;
                                }[];
                                consent_text: string | null;
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiWidgetSettings: {
        parameters: {
            query?: {
                chatbot_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            chatbot_id: string;
                            version: number;
                            updated_at: string;
                            settings: {
                                primary_color: string;
                                text_color: string | null;
                                /** @enum {string} */
                                position: "bottom-right" | "bottom-left";
                                offset_x: number;
                                offset_y: number;
                                /** Format: uri */
                                launcher_icon_url: string | null;
                                /** Format: uri */
                                avatar_url: string | null;
                                display_name: string | null;
                                welcome_message: string;
                                input_placeholder: string;
                                quick_prompts: string[];
                                /** @enum {string} */
                                theme: "light" | "dark" | "auto";
                                locale: string;
                                strings: {
                                    [key: string]: string;
                                };
                                open_on_load: boolean;
                                show_citations: boolean;
                                show_powered_by: boolean;
                                allowed_origins: string[];
                                lead_capture: {
                                    enabled: boolean;
                                    /** @enum {string} */
                                    trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                    after_messages: number;
                                    fields: {
                                        key: string;
                                        label: string;
                                        /** @enum {string} */
                                        type: "name" | "email" | "phone" | "company" | "text";
                                        required: boolean;
                                    }[];
                                    consent_text: string | null;
                                    ask_email_when_unanswered: boolean;
                                };
                                css_variables: {
                                    "--wisp-radius"?: string;
                                    "--wisp-font-size"?: string;
                                    "--wisp-panel-width"?: string;
                                    "--wisp-panel-height"?: string;
                                    "--wisp-bubble-size"?: string;
                                };
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    putApiWidgetSettings: {
        parameters: {
            query?: {
                chatbot_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "primary_color": "#14532d",
                 *       "welcome_message": "Hi! How can we help?"
                 *     }
                 */
                "application/json": {
                    primary_color?: string;
                    text_color?: string | null;
                    /** @enum {string} */
                    position?: "bottom-right" | "bottom-left";
                    offset_x?: number;
                    offset_y?: number;
                    /** Format: uri */
                    launcher_icon_url?: string | null;
                    /** Format: uri */
                    avatar_url?: string | null;
                    display_name?: string | null;
                    welcome_message?: string;
                    input_placeholder?: string;
                    quick_prompts?: string[];
                    /** @enum {string} */
                    theme?: "light" | "dark" | "auto";
                    locale?: string;
                    strings?: {
                        [key: string]: string;
                    };
                    open_on_load?: boolean;
                    show_citations?: boolean;
                    show_powered_by?: boolean;
                    allowed_origins?: string[];
                    lead_capture?: {
                        enabled?: boolean;
                        /** @enum {string} */
                        trigger?: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                        after_messages?: number;
                        fields?: {
                            key: string;
                            label: string;
                            /** @enum {string} */
                            type: "name" | "email" | "phone" | "company" | "text";
                            /** @default false */
                            required?: boolean;
                        }[];
                        consent_text?: string | null;
                        ask_email_when_unanswered?: boolean;
                    };
                    css_variables?: {
                        "--wisp-radius"?: string;
                        "--wisp-font-size"?: string;
                        "--wisp-panel-width"?: string;
                        "--wisp-panel-height"?: string;
                        "--wisp-bubble-size"?: string;
                    };
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            chatbot_id: string;
                            version: number;
                            updated_at: string;
                            settings: {
                                primary_color: string;
                                text_color: string | null;
                                /** @enum {string} */
                                position: "bottom-right" | "bottom-left";
                                offset_x: number;
                                offset_y: number;
                                /** Format: uri */
                                launcher_icon_url: string | null;
                                /** Format: uri */
                                avatar_url: string | null;
                                display_name: string | null;
                                welcome_message: string;
                                input_placeholder: string;
                                quick_prompts: string[];
                                /** @enum {string} */
                                theme: "light" | "dark" | "auto";
                                locale: string;
                                strings: {
                                    [key: string]: string;
                                };
                                open_on_load: boolean;
                                show_citations: boolean;
                                show_powered_by: boolean;
                                allowed_origins: string[];
                                lead_capture: {
                                    enabled: boolean;
                                    /** @enum {string} */
                                    trigger: "before_first_message" | "after_messages" | "cannot_answer" | "human_requested";
                                    after_messages: number;
                                    fields: {
                                        key: string;
                                        label: string;
                                        /** @enum {string} */
                                        type: "name" | "email" | "phone" | "company" | "text";
                                        required: boolean;
                                    }[];
                                    consent_text: string | null;
                                    ask_email_when_unanswered: boolean;
                                };
                                css_variables: {
                                    "--wisp-radius"?: string;
                                    "--wisp-font-size"?: string;
                                    "--wisp-panel-width"?: string;
                                    "--wisp-panel-height"?: string;
                                    "--wisp-bubble-size"?: string;
                                };
                            };
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postV1ChatCompletions: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "model": "demo",
                 *       "messages": [
                 *         {
                 *           "role": "user",
                 *           "content": "Can I return a tent?"
                 *         },
                 *         {
                 *           "role": "assistant",
                 *           "content": "Yes, within 30 days of delivery."
                 *         },
                 *         {
                 *           "role": "user",
                 *           "content": "How long does shipping take?"
                 *         }
                 *       ],
                 *       "user": "user-42"
                 *     }
                 */
                "application/json": {
                    /** @description The chatbot's slug or id (`GET /v1/models` lists them) */
                    model: string;
                    /** @description The last message must be a `user` message (the question); earlier ones are the history */
                    messages: ({
                        /** @enum {string} */
                        role: "system";
                        content: string | ({
                            type: string;
                        } & {
                            [key: string]: unknown;
                        })[];
                        name?: string;
                    } | {
                        /** @enum {string} */
                        role: "developer";
                        content: string | ({
                            type: string;
                        } & {
                            [key: string]: unknown;
                        })[];
                        name?: string;
                    } | {
                        /** @enum {string} */
                        role: "user";
                        content: string | ({
                            type: string;
                        } & {
                            [key: string]: unknown;
                        })[];
                        name?: string;
                    } | {
                        /** @enum {string} */
                        role: "assistant";
                        content?: string | ({
                            type: string;
                        } & {
                            [key: string]: unknown;
                        })[] | null;
                        refusal?: string | null;
                        audio?: unknown;
                        tool_calls?: unknown[];
                        function_call?: unknown;
                        name?: string;
                    } | {
                        /** @enum {string} */
                        role: "tool";
                        content: string | ({
                            type: string;
                        } & {
                            [key: string]: unknown;
                        })[];
                        tool_call_id: string;
                    } | {
                        /** @enum {string} */
                        role: "function";
                        content: string | null;
                        name: string;
                    })[];
                    stream?: boolean | null;
                    stream_options?: {
                        include_usage?: boolean;
                        include_obfuscation?: boolean;
                    } | null;
                    /** @description Only 1: a bot gives one answer */
                    n?: number | null;
                    /** @description Your end user's id: their stored conversation with the bot continues (as `sessionId`) */
                    user?: string;
                    metadata?: {
                        [key: string]: string | number | boolean | null;
                    } | null;
                    temperature?: number | null;
                    top_p?: number | null;
                    max_tokens?: number | null;
                    max_completion_tokens?: number | null;
                    frequency_penalty?: number | null;
                    presence_penalty?: number | null;
                    seed?: number | null;
                    stop?: string | string[] | null;
                    logit_bias?: {
                        [key: string]: number;
                    } | null;
                    logprobs?: boolean | null;
                    top_logprobs?: number | null;
                    response_format?: unknown;
                    tools?: unknown[];
                    tool_choice?: unknown;
                    parallel_tool_calls?: boolean;
                    functions?: unknown[];
                    function_call?: unknown;
                    audio?: unknown;
                    modalities?: string[] | null;
                    prediction?: unknown;
                    reasoning_effort?: string | null;
                    verbosity?: string | null;
                    service_tier?: string | null;
                    store?: boolean | null;
                    moderation?: unknown;
                    prompt_cache_key?: string | null;
                    prompt_cache_retention?: string | null;
                    prompt_cache_options?: unknown;
                    safety_identifier?: string | null;
                    web_search_options?: unknown;
                    /** @description Wisp extension: continue this stored conversation (from an earlier answer’s `wisp`) */
                    conversation_id?: string;
                    /** @description Wisp extension: makes a retry safe (the same id answers the stored answer again) */
                    client_message_id?: string;
                    /** @description Wisp extension: the end user's JWT signed with the bot's identity secret */
                    user_token?: string;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        /** @enum {string} */
                        object: "chat.completion";
                        created: number;
                        model: string;
                        system_fingerprint: null;
                        choices: {
                            index: number;
                            message: {
                                /** @enum {string} */
                                role: "assistant";
                                content: string;
                                refusal: null;
                            };
                            logprobs: null;
                            /** @enum {string} */
                            finish_reason: "stop" | "length" | "content_filter";
                        }[];
                        usage: {
                            prompt_tokens: number;
                            completion_tokens: number;
                            total_tokens: number;
                        };
                        wisp: {
                            conversation_id: string;
                            message_id: string;
                            user_message_id: string;
                            sources: {
                                source_id: string;
                                title: string;
                                url: string | null;
                                excerpt: string;
                                score: number;
                            }[];
                            confidence: number;
                            /** @description The language model that wrote the answer (null: none) */
                            model: string | null;
                            finish_reason: string;
                            /** @description Set when the answer paused to ask before running an action (`finish_reason` `requires_action`): approve or decline it with `POST /api/v1/chat/confirm` `{ "token", "approve" }` and the same API key; the token works once */
                            requires_action: {
                                token: string;
                                action: string;
                                description: string;
                                arguments?: unknown;
                            } | null;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description RateLimitError, QuotaExceededError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
        };
    };
    getV1Models: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        object: "list";
                        data: {
                            /** @description The chatbot's slug */
                            id: string;
                            /** @enum {string} */
                            object: "model";
                            created: number;
                            owned_by: string;
                            wisp: {
                                chatbot_id: string;
                                name: string;
                                /** @enum {string} */
                                status: "active" | "disabled";
                            };
                        }[];
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
        };
    };
    getV1ModelsByModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                model: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The chatbot's slug */
                        id: string;
                        /** @enum {string} */
                        object: "model";
                        created: number;
                        owned_by: string;
                        wisp: {
                            chatbot_id: string;
                            name: string;
                            /** @enum {string} */
                            status: "active" | "disabled";
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            message: string;
                            type: string;
                            param: string | null;
                            code: string | null;
                        };
                    };
                };
            };
        };
    };
    channelsList: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    channelsCreate: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "type": "telegram",
                 *       "name": "Acme on Telegram",
                 *       "credentials": {
                 *         "botToken": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
                 *       }
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    type: "telegram";
                    name?: string;
                    credentials: {
                        botToken: string;
                    };
                } | {
                    /** @enum {string} */
                    type: "slack";
                    name?: string;
                    credentials: {
                        botToken: string;
                        signingSecret: string;
                    };
                } | {
                    /** @enum {string} */
                    type: "whatsapp";
                    name?: string;
                    credentials: {
                        accessToken: string;
                        appSecret: string;
                        verifyToken: string;
                        phoneNumberId: string;
                    };
                } | {
                    /** @enum {string} */
                    type: "webhook";
                    name?: string;
                    /** @default {} */
                    credentials?: {
                        secret?: string;
                    };
                    /**
                     * Format: uri
                     * @default null
                     */
                    callbackUrl?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                            signingSecret?: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1BotsByBotIdChannels: {
        parameters: {
            query?: {
                page?: number;
                /** @description Items per page (1-100); also accepted as `per_page` */
                perPage?: number;
            };
            header?: never;
            path: {
                bot_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                        }[];
                        error: null;
                        meta: {
                            page: number;
                            perPage: number;
                            total: number;
                        };
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1BotsByBotIdChannels: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                bot_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "type": "webhook",
                 *       "name": "In-app messenger",
                 *       "callbackUrl": "https://messenger.example.com/wisp-answers"
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    type: "telegram";
                    name?: string;
                    credentials: {
                        botToken: string;
                    };
                } | {
                    /** @enum {string} */
                    type: "slack";
                    name?: string;
                    credentials: {
                        botToken: string;
                        signingSecret: string;
                    };
                } | {
                    /** @enum {string} */
                    type: "whatsapp";
                    name?: string;
                    credentials: {
                        accessToken: string;
                        appSecret: string;
                        verifyToken: string;
                        phoneNumberId: string;
                    };
                } | {
                    /** @enum {string} */
                    type: "webhook";
                    name?: string;
                    /** @default {} */
                    credentials?: {
                        secret?: string;
                    };
                    /**
                     * Format: uri
                     * @default null
                     */
                    callbackUrl?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                            signingSecret?: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    channelsGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    channelsDelete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            /** @enum {boolean} */
                            deleted: true;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    channelsUpdate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Support on Slack",
                 *       "credentials": {
                 *         "botToken": "xoxb-new-bot-token"
                 *       }
                 *     }
                 */
                "application/json": {
                    name?: string;
                    credentials?: {
                        [key: string]: string;
                    };
                    /** Format: uri */
                    callbackUrl?: string | null;
                };
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    channelsReconnect: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            id: string;
                            chatbotId: string;
                            /** @enum {string} */
                            type: "telegram" | "slack" | "whatsapp" | "webhook";
                            name: string;
                            /** @enum {string} */
                            status: "connected" | "disconnected";
                            statusReason: string | null;
                            inboundUrl: string;
                            callbackUrl: string | null;
                            lastEventAt: string | null;
                            createdAt: string;
                            updatedAt: string;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnavailableError */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    getApiV1ChannelsByIdEvents: {
        parameters: {
            query?: {
                "hub.mode"?: string;
                "hub.verify_token"?: string;
                "hub.challenge"?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ForbiddenError */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
    postApiV1ChannelsByIdEvents: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retry safe (Stripe semantics): the same key with the same request within 24 hours answers the first response again, with `Idempotent-Replayed: true`, without running twice; the same key with another request is 422 `IdempotencyError`; while the first is still running, 409. Not allowed with `stream: true`. */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: true;
                        data: {
                            accepted: number;
                        };
                        error: null;
                    };
                };
            };
            /** @description BadRequestError */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnauthorizedError */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description NotFoundError */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ConflictError */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description PayloadTooLargeError */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description UnsupportedMediaTypeError */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description ValidationError, IdempotencyError */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description RateLimitError */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
            /** @description InternalError */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        success: false;
                        data: null;
                        error: {
                            name: string;
                            message: string;
                            details?: unknown;
                        };
                    };
                };
            };
        };
    };
}
