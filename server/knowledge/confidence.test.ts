import { describe, expect, it } from 'vitest';
import { ANSWERED_CONFIDENCE, confidenceOf, withModelVerdict, type AnswerEvidence } from './confidence.js';
import { answerKindHeld } from './answer-type.js';
import { BotIndex, type IndexedChunk } from './index/bot-index.js';
import { synonymsOf } from './index/synonyms.js';
import { measure, rerank } from './rerank.js';

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
  terms: 4,
  missingTerms: 0,
  strangeTerms: 0,
  missingSenses: [],
  elsewhere: 0,
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
  it('without vectors, is higher for a passage that holds all the question’s words than for one that lacks its specific one', () => {
    expect(confidenceOf(evidence({}))).toBeGreaterThan(ANSWERED_CONFIDENCE);
    const lacks = evidence({ missingTerms: 2, missingSenses: [2, 30], titled: 0.5, lexicalRank: 2 });
    expect(confidenceOf(lacks)).toBeLessThan(ANSWERED_CONFIDENCE);
  });

  it('with vectors, is sure when the passage holds the words and stands out from the next chunk', () => {
    const answers = evidence({ cosine: 0.8, cosineGap: 0.4 });
    expect(confidenceOf(answers)).toBeGreaterThan(0.7);
    const onTopic = evidence({ cosine: 0.55, cosineGap: 0.1, missingTerms: 2, missingSenses: [2, 30], titled: 0.6 });
    expect(confidenceOf(onTopic)).toBeLessThan(ANSWERED_CONFIDENCE);
  });

  it('without vectors, falls when a specific word of the question is missing or the passage holds no value of the kind asked', () => {
    const base = evidence({ kindHeld: 1, missingTerms: 1, missingSenses: [30] });
    expect(confidenceOf({ ...base, missingSenses: [2] })).toBeLessThan(confidenceOf(base));
    expect(confidenceOf({ ...base, kindHeld: 0 })).toBeLessThan(confidenceOf(base));
    expect(confidenceOf({ ...base, missingTerms: 3 })).toBeLessThan(confidenceOf(base));
  });

  it('with vectors, falls when the passage does not stand out, lacks more of the question, or shares only its title', () => {
    const base = evidence({ cosine: 0.7, cosineGap: 0.25, missingTerms: 1 });
    expect(confidenceOf({ ...base, cosineGap: 0.05 })).toBeLessThan(confidenceOf(base));
    expect(confidenceOf({ ...base, missingTerms: 3 })).toBeLessThan(confidenceOf(base));
    expect(confidenceOf({ ...base, titled: 0.6 })).toBeLessThan(confidenceOf(base));
  });

  it('relies on the vectors when the question has no word the lexical index can use', () => {
    const codes = evidence({ coverage: 0, focus: 0, missing: 0, lexical: false, terms: 0, lexicalRank: null });
    expect(confidenceOf({ ...codes, cosine: 0.9, cosineGap: 0.35 })).toBeGreaterThan(ANSWERED_CONFIDENCE);
    expect(confidenceOf({ ...codes, cosine: 0.3, cosineGap: 0.02 })).toBeLessThan(ANSWERED_CONFIDENCE);
  });

  it('reads the kind of value a question asks for', () => {
    expect(answerKindHeld('How much does express shipping cost?', 'Express shipping arrives the next day.')).toBe(0);
    expect(answerKindHeld('How much does assembly cost?', 'Assembly costs 49 euros per item.')).toBe(1);
    expect(answerKindHeld('How often is the newsletter sent?', 'Unsubscribe with the link in every email.')).toBe(1);
    expect(answerKindHeld('How often is the newsletter sent?', 'Unsubscribe with the link at the bottom.')).toBe(0);
    expect(answerKindHeld('What time does the shop close on Sunday?', 'Open on Sundays from 11am to 5pm.')).toBe(1);
    expect(answerKindHeld('How long is the link valid?', 'The link expires after one hour.')).toBe(1);
    expect(answerKindHeld('Do you ship to Norway?', 'We ship to 42 countries.')).toBeNull();
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

describe('synonyms', () => {
  it('come from WordNet’s common senses, inflections included', () => {
    expect(synonymsOf('buying')).toContain('purchase');
    expect(synonymsOf('call')).toContain('phone');
    expect(synonymsOf('guarantee')).toContain('warranty');
    expect(synonymsOf('xqzzy')).toEqual([]);
    expect(synonymsOf('of')).toEqual([]);
  });

  it('let a reworded question find its passage, ranked below exact words, and count for part of a word', () => {
    const index = new BotIndex(1);
    const purchase = chunk('Orders', 'Every purchase is confirmed by email.');
    const other = chunk('Delivery', 'Parcels are delivered by the carrier.');
    for (const c of [purchase, other]) index.addChunk(c);
    const hits = index.searchLexical('When is my buy confirmed?', 5);
    expect(hits[0]?.id).toBe(purchase.id);
    const synonyms = index.synonyms('Can I buy a voucher?');
    expect([...(synonyms.get('bui') ?? synonyms.get('buy') ?? [])]).toContain('purchas');
    const weights = index.termWeights('buy');
    const measured = measure(purchase, weights, index.synonyms('buy'));
    expect(measured.coverage).toBeGreaterThan(0.5);
    expect(measured.coverage).toBeLessThan(1);
  });
});
