import { describe, expect, it } from 'vitest';
import type { SourceRef } from '../../../shared/schemas/chat.js';
import { asksForHuman, cannotAnswer, fieldProblem, LOW_CONFIDENCE } from './lead-triggers.js';

const source: SourceRef = { sourceId: 's1', title: 'Shipping guide', url: null, excerpt: 'Orders ship…', score: 0.8 };

describe('lead capture triggers', () => {
  it('hears a request for a person in common English phrasings, and not in ordinary questions', () => {
    for (const text of ['Can I talk to a human?', 'agent please', 'I want to speak with someone', 'a real person']) {
      expect(asksForHuman(text), text).toBe(true);
    }
    for (const text of ['What are your opening hours?', 'Do you ship abroad?', 'personal data policy']) {
      expect(asksForHuman(text), text).toBe(false);
    }
  });

  it('counts an answer without sources or below the low-confidence threshold as not answered', () => {
    expect(cannotAnswer({ status: 'complete', confidence: 0.9, sources: [] })).toBe(true);
    expect(cannotAnswer({ status: 'complete', confidence: LOW_CONFIDENCE - 0.01, sources: [source] })).toBe(true);
    expect(cannotAnswer({ status: 'complete', confidence: LOW_CONFIDENCE, sources: [source] })).toBe(false);
    expect(cannotAnswer({ status: 'failed', confidence: 0, sources: [] })).toBe(false);
  });

  it('checks required answers and the shape of emails and phone numbers', () => {
    expect(fieldProblem('name', '', true)).toBe('lead.required');
    expect(fieldProblem('name', '', false)).toBeNull();
    expect(fieldProblem('email', 'ada@example', false)).toBe('lead.badEmail');
    expect(fieldProblem('email', 'ada@example.com', true)).toBeNull();
    expect(fieldProblem('phone', '12', false)).toBe('lead.badPhone');
    expect(fieldProblem('phone', '+1 (555) 123-4567', false)).toBeNull();
  });
});
