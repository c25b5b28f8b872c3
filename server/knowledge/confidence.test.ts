import { describe, expect, it } from 'vitest';
import { ANSWERED_CONFIDENCE, confidenceOf, withModelVerdict, type AnswerEvidence } from './confidence.js';
import { BotIndex, type IndexedChunk } from './index/bot-index.js';
import { rerank } from './rerank.js';

const evidence = (overrides: Partial<AnswerEvidence>): AnswerEvidence => ({
  coverage: 1,
  focus: 1,
  cosine: null,
  margin: 0.3,
  lexical: true,
  titled: 0,
  missing: 0,
  unknown: 0,
  cosineGap: null,
  lexicalRank: 1,
  vectorRank: null,
  kindHeld: null,
  ...overrides,
});

let nextId = 0;
const chunk = (title: string, text: string): IndexedChunk => ({
  id: String((nextId += 1)),
  sourceId: `s${nextId}`,
  title,
  heading: '',
  url: null,
  anchor: null,
  text,
  position: 0,
  vector: null,
  vectorModel: null,
});

describe('confidence', () => {
  it('is high when the best passage holds all the question’s words in one place and stands out', () => {
    expect(confidenceOf(evidence({}))).toBeGreaterThan(0.95);
  });

  it('is low when the passage is only on topic: the rare word the question turns on is missing', () => {
    expect(confidenceOf(evidence({ coverage: 0.55, focus: 0.45, margin: 0.05 }))).toBeLessThan(ANSWERED_CONFIDENCE);
  });

  it('is low when the words are spread over a long passage rather than together', () => {
    expect(confidenceOf(evidence({ coverage: 1, focus: 0.3, margin: 0.1 }))).toBeLessThan(ANSWERED_CONFIDENCE);
  });

  it('with embeddings, needs both the words and a close vector to be sure', () => {
    expect(confidenceOf(evidence({ coverage: 0.3, focus: 0.3, cosine: 0.6, margin: 0.1 }))).toBeLessThan(
      ANSWERED_CONFIDENCE,
    );
    expect(confidenceOf(evidence({ coverage: 0.7, focus: 0.7, cosine: 0.75 }))).toBeGreaterThan(0.7);
  });

  it('relies on the vectors when the question has no word the lexical index can use', () => {
    const codes = evidence({ coverage: 0, focus: 0, lexical: false });
    expect(confidenceOf({ ...codes, cosine: 0.9 })).toBeGreaterThan(ANSWERED_CONFIDENCE);
    expect(confidenceOf({ ...codes, cosine: 0.3 })).toBeLessThan(0.1);
  });

  it('is capped when the model says the passages do not hold the answer', () => {
    const passages = [{ text: 'Refunds are paid within five business days.' }];
    expect(withModelVerdict(0.9, "I'm sorry, I don't know the opening hours on holidays.", passages)).toBe(0.2);
    expect(withModelVerdict(0.9, 'The passages do not mention a restocking fee.', passages)).toBe(0.2);
    expect(withModelVerdict(0.9, 'Refunds take five business days [1].', passages)).toBe(0.9);
  });

  it('is raised when the model answers from the passages it cites, not when it cites them for other words', () => {
    const passages = [{ text: 'Refunds are paid to the original payment method within five business days.' }];
    expect(withModelVerdict(0.3, 'Refunds are paid within five business days [1].', passages)).toBe(0.7);
    expect(withModelVerdict(0.3, 'We ship parcels to Iceland by ferry every Tuesday [1].', passages)).toBe(0.3);
    expect(withModelVerdict(0.3, 'Refunds are paid within five business days.', passages)).toBe(0.3);
    expect(withModelVerdict(0.3, 'Refunds are paid within five business days [4].', passages)).toBe(0.3);
  });
});

describe('reranking', () => {
  it('puts first the passage that holds the rare words close together, over one that only shares the topic', () => {
    const index = new BotIndex(1);
    const onTopic = chunk(
      'Shipping',
      'Orders ship from our warehouse. Express shipping is popular. Many orders arrive quickly. Costs vary by country.',
    );
    const answers = chunk('Delivery', 'Express shipping to Norway costs 12 euros and takes two days.');
    const other = chunk('Returns', 'Returns are free within 30 days.');
    for (const c of [onTopic, answers, other]) index.addChunk(c);
    const weights = index.termWeights('How much does express shipping to Norway cost?');
    const order = rerank(
      [
        { id: onTopic.id, chunk: onTopic, fused: 1 },
        { id: answers.id, chunk: answers, fused: 0.9 },
      ],
      weights,
    );
    expect(order.map((c) => c.id)).toEqual([answers.id, onTopic.id]);
    expect(order[0]!.focus).toBeGreaterThan(order[1]!.focus);
  });

  it('weighs words the knowledge rarely uses above common ones', () => {
    const index = new BotIndex(1);
    for (let i = 0; i < 5; i += 1) index.addChunk(chunk(`Order ${i}`, `Your order number ${i} is on the receipt.`));
    index.addChunk(chunk('Norway', 'We ship to Norway.'));
    const weights = index.termWeights('order to Norway');
    expect(weights.get('norwai') ?? weights.get('norway')).toBeGreaterThan(weights.get('order')!);
  });
});
