/**
 * English function words: they match nearly every passage, so BM25 ranks on
 * content words and the confidence counts only those.
 */
export const STOPWORDS = new Set(
  (
    'a about after all also am an and any are as at be been before being but by can could did do does doing ' +
    'for from had has have having he her here hers him his how i if in into is it its itself just me more most ' +
    'my no nor not of off on once only or other our ours out over own same she should so some such than that ' +
    'the their theirs them then there these they this those through to too under until up very was we were ' +
    'what when where which while who whom why will with would you your yours yourself'
  ).split(' '),
);
