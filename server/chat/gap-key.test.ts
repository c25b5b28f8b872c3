import { describe, expect, it } from 'vitest';
import { gapKey } from './unanswered.service.js';

describe('the gap log’s key of a question', () => {
  it('is null for greetings, thanks and chit-chat, which are no knowledge gap', () => {
    for (const message of [
      'Hello!',
      'ok thanks bye',
      'Good morning',
      'How are you doing today?',
      "How's it going?",
      'tell me a joke',
      'nice to meet you',
      "what's your name?",
      'are you a robot?',
      'I love you',
      'you are stupid',
      '?',
    ]) {
      expect(gapKey(message), message).toBeNull();
    }
  });

  it('groups rewordings of a real question under one key, small-talk words left out', () => {
    expect(gapKey('Do you sell gift vouchers?')).toBe(gapKey('gift vouchers: do you sell them, please'));
    expect(gapKey('Hi! Do you ship to Iceland today?')).toBe(gapKey('ship to iceland?'));
    expect(gapKey('How do I change the name on my account?')).not.toBeNull();
  });
});
