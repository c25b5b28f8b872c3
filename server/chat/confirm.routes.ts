import { z } from 'zod';
import { chatResultSchema } from '../../shared/schemas/chat.js';
import { envelopeOf } from '../../shared/schemas/common.js';
import { AppError } from '../errors/app-error.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import { nativeStream, streamEvents } from './chat.routes.js';
import type { ChatService } from './chat.service.js';
import type { ChatEvent } from './chat.types.js';
import type { ConfirmationOutcome, ConfirmEvent } from './continue-turn.js';

const confirmSchema = z.strictObject({
  /** The `requiresAction.token` of the paused chat answer. */
  token: z.string().min(10).max(200),
  approve: z.boolean(),
  stream: z.boolean().default(false),
});

const confirmationSchema = z.object({
  action: z.string(),
  status: z.enum(['succeeded', 'failed', 'refused', 'declined']),
  result: z.unknown(),
  error: z.string().nullable(),
  messageId: z.string(),
  conversationId: z.string(),
  /** The bot's follow-up answer, on the same message (it may pause again for another action). */
  answer: chatResultSchema,
});

/** The chat events of a confirmation, handing its `confirmed` outcome to `onOutcome`. */
async function* chatEventsOf(
  events: AsyncGenerator<ConfirmEvent>,
  onOutcome: (outcome: ConfirmationOutcome) => void,
): AsyncGenerator<ChatEvent> {
  for await (const event of events) {
    if (event.type === 'confirmed') onOutcome(event.outcome);
    else yield event;
  }
}

export function mountConfirmRoutes(api: ApiRouter, chat: ChatService): void {
  api.route(
    {
      method: 'post',
      path: '/chat/confirm',
      tag: 'Actions',
      summary:
        'Approve or decline the action a chat answer paused for (its `requiresAction.token`), and get the bot’s follow-up answer. The token runs the action once: the same confirmation sent again replays the stored outcome and follow-up, or resumes one a crash cut off (the action’s stored result is reused, never sent again); deciding otherwise the second time is 409. With `stream: true`, Server-Sent Events as for `/chat`: the action’s `{"action"}` events, `{"chunk"}` lines, one `{"done": true, ...}`, then `[DONE]`',
      scope: 'chat',
      body: confirmSchema,
      response: envelopeOf(confirmationSchema),
      errors: ['NotFoundError', 'ConflictError', 'UnavailableError'],
    },
    async ({ body, principal, res }) => {
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort(new Error('client disconnected'));
      });
      let outcome: ConfirmationOutcome | null = null;
      const events = chatEventsOf(
        chat.confirm({ organizationId: principal.organizationId, token: body.token }, body.approve, controller.signal),
        (value) => (outcome = value),
      );
      // The first event is awaited before any byte is sent, so a spent token keeps its 404.
      const first = await events.next();
      if (first.done) throw new AppError('InternalError');
      if (first.value.type === 'error') throw first.value.error;
      if (body.stream) return streamEvents(res, first.value, events, controller.signal, nativeStream(false));
      let next: IteratorResult<ChatEvent> = first;
      for (; !next.done; next = await events.next()) {
        const event = next.value;
        if (event.type === 'error') throw event.error;
        if (event.type === 'done' && outcome)
          return sendData(res, { ...(outcome as ConfirmationOutcome), answer: event.result });
      }
      if (!controller.signal.aborted) throw new AppError('InternalError');
    },
  );
}
