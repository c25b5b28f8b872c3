/**
 * More questions about the help centre of `server/knowledge/test/support-corpus.ts`, written for
 * the answer-quality bench (issue 20, third pass) to make its halves large enough to read a
 * confidence figure from: with 16–17 questions a side, one question moved a figure by 6 points.
 * They were written by hand, against the documents' text and before any of them was run, as a
 * customer would ask: answerable ones worded differently from the text where that comes naturally,
 * unanswerable ones (in `HELP_CENTRE_UNANSWERABLE_MORE`) on one document's topic, with its words,
 * asking what it does not say, as SQuAD 2.0's are. None was dropped or reworded after a run.
 */
import { SUPPORT_CORPUS } from '../server/knowledge/test/support-corpus.js';
import { HELP_CENTRE_ANSWERABLE_SIXTH, HELP_CENTRE_UNANSWERABLE_SIXTH } from './help-centre-questions-more.js';
import { HELP_CENTRE_UNANSWERABLE } from './help-centre-unanswerable.js';

/** Answerable questions, by the title of the document that answers them. */
export const HELP_CENTRE_ANSWERABLE_MORE: Record<string, string[]> = {
  'Refund policy': ['Can I get a full refund on an item I have not used?', 'Where does my refund get paid to?'],
  'Shipping times': ['How many days does standard shipping take?', 'What is the cut-off time for next-day delivery?'],
  'International shipping': ['How many countries do you deliver to?', 'Do I have to pay import taxes?'],
  'Resetting your password': ['Where is the forgot password link?', 'My reset email link stopped working, why?'],
  'Two-factor authentication': [
    'Where do I turn on two-step verification?',
    'Can I use a hardware key to sign in securely?',
  ],
  'Closing your account': [
    'Can I change my mind after closing my account?',
    'When is my data permanently deleted after I close my account?',
  ],
  'Gift cards': ['Can I get cash back for a gift card?', 'What can I buy with a gift card?'],
  Warranty: ['How long is the warranty on electronics?', 'I dropped my phone, is that covered?'],
  'Store opening hours': ['Where is your flagship store?', 'Are you open on Saturdays?'],
  'Payment methods': ['Do you take American Express?', 'Can I pay by bank transfer?'],
  'Student discount': ['How much off do students get?', 'Can I use the student discount together with a sale code?'],
  'Order tracking': ['My tracking number shows nothing yet, is that normal?', 'When do I get my tracking number?'],
  'Changing an order': ['How long after ordering can I still change it?', 'Can I edit my order after it is packed?'],
  'Damaged items': [
    'How many days do I have to report a damaged delivery?',
    'Do I pay for the replacement of a broken item?',
  ],
  'Loyalty programme': ['How many points do I earn per euro?', 'What is a loyalty point worth?'],
  Newsletter: ['Where is the unsubscribe link in the newsletter?', 'I unsubscribed but still got an email, why?'],
  'Data privacy': ['Can I download the data you hold about me?', 'Do you share my data with other companies?'],
  Cookies: ['What are the essential cookies used for?', 'Do you track me with analytics cookies without asking?'],
  'Mobile app': ['Does the app run on an iPhone with iOS 15?', 'Are there deals only in the app?'],
  'Size guide': ['Do your clothes run small or large?', 'Where can I find the measurements of a size?'],
  'Bulk orders': ['How many units count as a bulk order?', 'Do business customers get their own account manager?'],
  Invoices: ['Where do I find the invoice for my order?', 'Can my VAT number be printed on the invoice?'],
  'Price match': [
    'Do you refund the difference if something is cheaper elsewhere?',
    'Do you price match marketplace sellers?',
  ],
  'Pre-orders': ['Can I cancel a pre-order?', 'Is there a fee for cancelling a pre-order?'],
  'Click and collect': [
    'How soon can I pick up a click and collect order?',
    'Which store can I collect my order from?',
  ],
  Sustainability: ['Is your packaging made from recycled material?', 'How do you deliver in the city centre?'],
  Careers: ['Where can I see your open jobs?', 'Can office staff work from home?'],
  'Contacting support': ['What are the live chat hours?', 'What is your support phone number?'],
  'Product recalls': ['Why is the KettlePro 2000 being recalled?', 'What should I do with a recalled kettle?'],
  'Assembly service': ['When can I book home assembly?', 'Who assembles the furniture?'],
  'Gift wrapping': ['How much is gift wrapping?', 'Will the price show on a wrapped present?'],
  Exchanges: ['Do I pay for exchanging a size?', 'When do you send the replacement item in an exchange?'],
};

/** Unanswerable questions, written as those of `help-centre-unanswerable.ts` are. */
export const HELP_CENTRE_UNANSWERABLE_MORE: string[] = [
  'Can I return an item I bought in a store by post?',
  'Is shipping free on orders over 50 euros?',
  'Do you ship to Switzerland?',
  'Can I reset my password without access to my email?',
  'Which authenticator app do you recommend?',
  'Can I close my account from the mobile app?',
  'Can I check my gift card balance online?',
  'Can I buy an extended warranty?',
  'Is the Harbour Street store open on Christmas Day?',
  'Can I pay in instalments?',
  'Do graduates still get the student discount?',
  'Can I track an order without an account?',
  'Can I add an item to an order I already placed?',
  'Do you refund the return shipping for a damaged item?',
  'Do loyalty points expire?',
  'Can I choose which topics the newsletter sends me?',
  'How long do you keep my order history?',
  'Which analytics provider do you use?',
  'Is there a tablet version of the app?',
  'Do you sell petite sizes?',
  'Do bulk orders get free shipping?',
  'Can I get an invoice in another currency?',
  'Do I need a receipt from the competitor for a price match?',
  'When will pre-orders for the next console open?',
  'Can someone else collect my click and collect order?',
  'Is your website carbon neutral?',
  'What salary do support agents earn?',
  'Is phone support free from mobiles?',
  'Can I get a replacement kettle instead of a refund?',
  'Do you assemble furniture bought elsewhere?',
  'Can I choose the colour of the wrapping paper?',
  'How many times can I exchange the same item?',
  'Do you have a store in Paris?',
  'What is the weather tomorrow?',
];

/** Which questions the bench asks: `original` (66), `third` (+ the third pass's, 164), `sixth` (+ the sixth pass's, 292). */
export type HelpCentreSet = 'original' | 'third' | 'sixth';

/** The set named by `BENCH_SET` (default `sixth`); `BENCH_ORIGINAL=1`, the older flag, still means `original`. */
export function helpCentreSet(env: NodeJS.ProcessEnv = process.env): HelpCentreSet {
  if (env.BENCH_ORIGINAL === '1') return 'original';
  const set = env.BENCH_SET ?? 'sixth';
  if (set !== 'original' && set !== 'third' && set !== 'sixth') {
    throw new Error(`BENCH_SET: unknown set ${set} (original, third or sixth)`);
  }
  return set;
}

/**
 * Every help-centre question of the bench: those of the knowledge tests' corpus, these, those of
 * `help-centre-questions-more.ts`, and the unanswerable ones of all lists, with the index of the
 * answering document (null: unanswerable). `set` keeps the earlier ones only, for comparing with
 * earlier figures.
 */
export function helpCentreQuestions(set: HelpCentreSet = 'sixth'): Array<{ text: string; answer: number | null }> {
  const third = set !== 'original';
  const sixth = set === 'sixth';
  const titles = SUPPORT_CORPUS.map((doc) => doc.title);
  for (const title of [...Object.keys(HELP_CENTRE_ANSWERABLE_MORE), ...Object.keys(HELP_CENTRE_ANSWERABLE_SIXTH)]) {
    if (!titles.includes(title)) throw new Error(`help-centre-questions: no document titled ${title}`);
  }
  return [
    ...SUPPORT_CORPUS.flatMap((doc, index) => [
      ...doc.questions.map((text) => ({ text, answer: index as number | null })),
      ...(third ? (HELP_CENTRE_ANSWERABLE_MORE[doc.title] ?? []) : []).map((text) => ({ text, answer: index })),
      ...(sixth ? (HELP_CENTRE_ANSWERABLE_SIXTH[doc.title] ?? []) : []).map((text) => ({ text, answer: index })),
    ]),
    ...[
      ...HELP_CENTRE_UNANSWERABLE,
      ...(third ? HELP_CENTRE_UNANSWERABLE_MORE : []),
      ...(sixth ? HELP_CENTRE_UNANSWERABLE_SIXTH : []),
    ].map((text) => ({ text, answer: null })),
  ];
}
