/**
 * Questions about the help centre of `server/knowledge/test/support-corpus.ts` that its
 * documents do not answer. Most are written as SQuAD 2.0's unanswerable questions are:
 * on the topic of one document, with its words, asking for something it does not say.
 */
export const HELP_CENTRE_UNANSWERABLE: string[] = [
  'How long do I have to return a used item?',
  'What is the restocking fee for returns?',
  'How much does express shipping cost?',
  'Do you ship to Antarctica research stations?',
  'Which carrier delivers international orders?',
  'Can I reset my password by phone?',
  'Can I use a YubiKey on the mobile app only?',
  'Can I reopen an account after the grace period ended?',
  'Can gift cards be used in the physical stores abroad?',
  'Does the warranty cover batteries that wear out?',
  'What time does the shop close on public holidays?',
  'Do you accept cheques?',
  'Is there a discount for teachers?',
  'Can I change the delivery address of a shipped parcel?',
  'How many points expire at the end of the year?',
  'How often is the newsletter sent?',
  'Who is your data protection officer?',
  'Does the app work on smart watches?',
  'Do you sell children’s sizes?',
  'What is the minimum order for bulk pricing?',
  'Will you match prices from your own outlet store?',
  'Can I pay a deposit on a pre-order?',
  'Are your shipping boxes made in Europe?',
  'Do you offer internships for students?',
  'What is the support email address for press?',
  'Is there a recall on toasters?',
  'Do you assemble garden sheds?',
  'Is gift wrapping free at Christmas?',
  'Can I exchange sale items?',
  'What is the capital of Mongolia?',
  'Who won the football world cup in 1998?',
  'How do I bake sourdough bread?',
];
