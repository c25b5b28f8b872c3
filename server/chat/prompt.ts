import type { PromptMessage } from '../llm/model-client.js';
import type { RetrievedPassage } from './retriever.js';

/** Rough token count (about four characters a token) — enough for budgeting, no tokenizer download needed. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface PromptInput {
  instructions: string;
  botName: string;
  passages: RetrievedPassage[];
  /** Earlier complete messages of the conversation, oldest first. */
  history: PromptMessage[];
  question: string;
  /** Tokens allowed for the history; the oldest turns are dropped first. */
  historyBudget?: number;
}

const RULES = `Answer the user's question using only the numbered passages from the knowledge base below.
Cite the passages you used with their numbers in square brackets, like [1].
If the passages do not contain the answer, say plainly that you don't know rather than guessing.`;

/** Builds the prompt: the bot's instructions, the retrieved passages, recent history within a budget, the question. */
export function buildPrompt(input: PromptInput): PromptMessage[] {
  const parts = [input.instructions.trim() || `You are ${input.botName}, a helpful support assistant.`];
  if (input.passages.length > 0) {
    parts.push(RULES, 'Knowledge base passages:');
    input.passages.forEach((passage, index) => {
      parts.push(`[${index + 1}] ${passage.title}${passage.url ? ` (${passage.url})` : ''}\n${passage.text}`);
    });
  } else {
    parts.push(
      'No passages from the knowledge base matched this question. If you cannot answer from general context of this conversation, say that you do not know.',
    );
  }
  const system: PromptMessage = { role: 'system', content: parts.join('\n\n') };
  return [
    system,
    ...trimHistory(input.history, input.historyBudget ?? 2_000),
    { role: 'user', content: input.question },
  ];
}

function trimHistory(history: PromptMessage[], budget: number): PromptMessage[] {
  const kept: PromptMessage[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const message = history[i]!;
    used += estimateTokens(message.content);
    if (used > budget) break;
    kept.unshift(message);
  }
  // A history that starts with an answer reads oddly to the model; start at a user turn.
  while (kept[0]?.role === 'assistant') kept.shift();
  return kept;
}

/** The best passages, cited as the model is asked to cite them: `[1] **Title**: excerpt`. */
export function knowledgeOnlyAnswer(passages: RetrievedPassage[]): string {
  return passages
    .slice(0, 3)
    .map((p, i) => `[${i + 1}] **${p.title}**: ${p.excerpt}`)
    .join('\n\n');
}

/** The reply when no language model is configured: the best passages, cited, and a plain word about why. */
export function offlineAnswer(passages: RetrievedPassage[]): string {
  const notice = 'No language model is configured for this assistant, so here is what the knowledge base says';
  if (passages.length === 0) {
    return 'No language model is configured for this assistant, and nothing in its knowledge base matches your question.';
  }
  return `${notice}:\n\n${knowledgeOnlyAnswer(passages)}`;
}
