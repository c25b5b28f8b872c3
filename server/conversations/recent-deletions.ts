/** How long a deletion is remembered. */
const KEEP_MS = 60 * 60_000;
/** Room for the wall clock moving backwards between a record's write and a deletion. */
const CLOCK_SLACK_MS = 60_000;

/**
 * The deletions of conversations and of bots (with their conversations) started in this process over the last
 * hour, for a sole server (every deletion of its database goes through it): a conversation this process read or
 * wrote is known to still exist, without reading it again, when no deletion of it or of its bot started here
 * since (see `ConversationsService.mayBeDeletedSince`).
 */
export class RecentDeletions {
  private readonly conversations = new Map<string, number>();
  private readonly bots = new Map<string, number>();

  /** Called before the first delete write of a conversation, or of a bot's conversations. */
  started(kind: 'conversation' | 'bot', id: string): void {
    const now = Date.now();
    for (const map of [this.conversations, this.bots]) {
      // Oldest first (insertion order): drop those remembered long enough.
      for (const [key, at] of map) {
        if (at >= now - KEEP_MS) break;
        map.delete(key);
      }
    }
    const map = kind === 'conversation' ? this.conversations : this.bots;
    map.delete(id);
    map.set(id, now);
  }

  /**
   * Whether a deletion of the conversation or its bot may have started since `seenAt`, a moment this process
   * knew it stored (its `updatedAt` as this process read or wrote it): true when one did, or when one could have
   * been forgotten (over an hour ago).
   */
  mayHaveStartedSince(conversationId: string, chatbotId: string, seenAt: Date): boolean {
    if (!(seenAt.getTime() >= Date.now() - KEEP_MS + CLOCK_SLACK_MS)) return true;
    return this.conversations.has(conversationId) || this.bots.has(chatbotId);
  }
}
