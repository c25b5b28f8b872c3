import { Types } from 'mongoose';
import type { ConversationModel } from '../conversations/conversation.model.js';
import type { MessageModel } from '../conversations/message.model.js';
import { AppError } from '../errors/app-error.js';
import type { ActionsService } from './actions.service.js';
import type { PendingAction, StoredToolCall } from './tool-turn.js';

/** How a confirmation went: the action's outcome, or that it was declined. */
export interface ConfirmationOutcome {
  action: string;
  status: 'succeeded' | 'failed' | 'refused' | 'declined';
  result: unknown;
  error: string | null;
  messageId: string;
}

/**
 * Answers a paused turn: the visitor approves (the action runs, as the identified visitor of the conversation)
 * or declines (nothing is sent). The pending action is taken atomically, so a token works once.
 */
export class ActionConfirmations {
  constructor(
    private readonly models: { Message: MessageModel; Conversation: ConversationModel },
    private readonly actions: ActionsService,
  ) {}

  async resolve(organizationId: string, token: string, approve: boolean): Promise<ConfirmationOutcome> {
    const message = await this.models.Message.findOneAndUpdate(
      { organizationId: new Types.ObjectId(organizationId), 'pendingAction.token': token },
      { $set: { pendingAction: null } },
      { returnDocument: 'before' },
    ).lean();
    const pending = message?.pendingAction as PendingAction | null | undefined;
    if (!message || !pending)
      throw new AppError('NotFoundError', {
        message: 'No action is waiting for this token: it was already answered, or never existed',
      });
    const [action] = await this.actions.byIds(organizationId, [pending.actionId]);
    if (!action) throw new AppError('NotFoundError', { message: `The action "${pending.name}" was deleted` });
    const conversationId = message.conversationId.toString();
    let outcome: Omit<ConfirmationOutcome, 'action' | 'messageId'>;
    let runId: string;
    if (approve) {
      const conversation = await this.models.Conversation.findById(message.conversationId).lean();
      const user = conversation?.user?.sub
        ? {
            sub: conversation.user.sub,
            ...(conversation.user.email ? { email: conversation.user.email } : {}),
            ...(conversation.user.name ? { name: conversation.user.name } : {}),
          }
        : null;
      const run = await this.actions.runner.run({
        action,
        args: pending.arguments,
        user,
        source: 'chat',
        conversationId,
      });
      outcome = { status: run.status, result: run.result, error: run.error };
      runId = run.runId;
    } else {
      runId = await this.actions.runner.recordDeclined({
        action,
        args: pending.arguments,
        source: 'chat',
        conversationId,
      });
      outcome = { status: 'declined', result: null, error: 'declined by the visitor' };
    }
    const toolCalls = ((message.toolCalls ?? []) as StoredToolCall[]).map((call) =>
      call.id === pending.toolCallId ? { ...call, ...outcome, runId } : call,
    );
    await this.models.Message.updateOne({ _id: message._id }, { $set: { toolCalls } });
    return { action: pending.name, messageId: message._id.toString(), ...outcome };
  }
}
