/**
 * A small help centre of a made-up company, with questions whose answering
 * document is known. Documents share vocabulary (orders, accounts, days) on
 * purpose, and questions are worded differently from the text they need.
 */
export interface CorpusDocument {
  title: string;
  content: string;
  questions: string[];
}

export const SUPPORT_CORPUS: CorpusDocument[] = [
  {
    title: 'Refund policy',
    content:
      'You can return any unused item within 30 days of delivery for a full refund. Refunds are paid to the original payment method within five business days after the warehouse receives the parcel.',
    questions: ['How long do I have to send something back for my money?', 'When will I see the refund on my card?'],
  },
  {
    title: 'Shipping times',
    content:
      'Standard shipping takes three to five business days within the country. Express shipping arrives the next business day when the order is placed before 2pm.',
    questions: ['How fast is express delivery?'],
  },
  {
    title: 'International shipping',
    content:
      'We ship to 42 countries. Customs duties and import taxes are collected by the carrier on delivery and are paid by the recipient.',
    questions: ['Who pays customs duties on orders abroad?'],
  },
  {
    title: 'Resetting your password',
    content:
      'Click "Forgot password" on the sign-in page and enter your email address. The reset link in the email expires after one hour.',
    questions: ['I forgot my password, what do I do?', 'How long is the password reset link valid?'],
  },
  {
    title: 'Two-factor authentication',
    content:
      'Enable two-factor authentication under Account settings, Security. We support authenticator apps and hardware security keys, but not SMS codes.',
    questions: ['Can I use text message codes for 2FA?'],
  },
  {
    title: 'Closing your account',
    content:
      'To delete your account, open Account settings and choose "Close account". Your data is erased permanently after a 14-day grace period during which you can change your mind.',
    questions: ['How do I delete my account?'],
  },
  {
    title: 'Gift cards',
    content:
      'Gift cards never expire and can be used for any product in the shop. They cannot be exchanged for cash or refunded.',
    questions: ['Do gift cards have an expiry date?'],
  },
  {
    title: 'Warranty',
    content:
      'All electronics come with a two-year manufacturer warranty that covers defects in materials and workmanship. Accidental damage such as drops or water is not covered.',
    questions: ['Is water damage covered by the guarantee?'],
  },
  {
    title: 'Store opening hours',
    content:
      'Our flagship store on Harbour Street is open Monday to Saturday from 9am to 7pm, and on Sundays from 11am to 5pm.',
    questions: ['What time does the shop open on Sunday?'],
  },
  {
    title: 'Payment methods',
    content:
      'We accept Visa, Mastercard, American Express, PayPal and bank transfer. Cryptocurrency payments are not accepted.',
    questions: ['Can I pay with bitcoin?'],
  },
  {
    title: 'Student discount',
    content:
      'Students get 15% off full-price items after verifying their enrolment with a university email address. The discount cannot be combined with other promotions.',
    questions: ['Is there a reduction for university students?'],
  },
  {
    title: 'Order tracking',
    content:
      'Once your parcel leaves the warehouse you receive a tracking number by email. Tracking updates can take up to 24 hours to appear on the carrier website.',
    questions: ['Where do I find the tracking number for my parcel?'],
  },
  {
    title: 'Changing an order',
    content:
      'Orders can be changed or cancelled within one hour of purchase from the Orders page. After that the order is already being packed and can only be returned.',
    questions: ['Can I cancel my order after buying?'],
  },
  {
    title: 'Damaged items',
    content:
      'If an item arrives broken, take a photo of the damage and the packaging and contact support within 7 days. We send a replacement free of charge.',
    questions: ['My product arrived broken, what should I do?'],
  },
  {
    title: 'Loyalty programme',
    content:
      'Members of the loyalty programme earn one point per euro spent. 100 points can be redeemed for a 5 euro voucher at checkout.',
    questions: ['How many points do I need for a voucher?'],
  },
  {
    title: 'Newsletter',
    content:
      'Unsubscribe from the newsletter with the link at the bottom of every email. It can take up to 48 hours for the change to apply.',
    questions: ['How can I stop receiving marketing emails?'],
  },
  {
    title: 'Data privacy',
    content:
      'We never sell personal data to third parties. You can download a copy of all data we hold about you from the Privacy page in your account.',
    questions: ['Do you sell my personal information?'],
  },
  {
    title: 'Cookies',
    content:
      'The website uses essential cookies for the cart and sign-in, and analytics cookies only with your consent, which you can withdraw in the cookie banner at any time.',
    questions: ['Can I withdraw consent for analytics cookies?'],
  },
  {
    title: 'Mobile app',
    content:
      'The mobile app is available for iOS 16 and Android 12 or newer. It supports push notifications for order updates and offers exclusive app-only deals.',
    questions: ['Which Android version does the app need?'],
  },
  {
    title: 'Size guide',
    content:
      'Our clothing runs small. If you are between two sizes, we recommend ordering the larger one. Measurements for every size are listed on each product page.',
    questions: ['Should I size up if I am in between sizes?'],
  },
  {
    title: 'Bulk orders',
    content:
      'Companies ordering more than 50 units receive volume pricing and a dedicated account manager. Request a quote with the business contact form.',
    questions: ['Do you offer pricing for large corporate purchases?'],
  },
  {
    title: 'Invoices',
    content:
      'A VAT invoice is attached to the order confirmation email as a PDF. Business customers can add their VAT number at checkout to have it printed on the invoice.',
    questions: ['How do I get a VAT invoice for my company?'],
  },
  {
    title: 'Price match',
    content:
      'If you find the same product cheaper at another authorised retailer within 14 days of purchase, we refund the difference. Marketplace sellers and flash sales are excluded.',
    questions: ['Will you match a lower price from a competitor?'],
  },
  {
    title: 'Pre-orders',
    content:
      'Pre-ordered products are charged only when they ship. You can cancel a pre-order at any time before it ships at no cost.',
    questions: ['When am I charged for a pre-order?'],
  },
  {
    title: 'Click and collect',
    content:
      'Choose click and collect at checkout to pick up your order at the Harbour Street store. Orders are ready for collection within two hours and held for ten days.',
    questions: ['How long will the store hold my pickup order?'],
  },
  {
    title: 'Sustainability',
    content:
      'All packaging is made from recycled cardboard and is fully recyclable. Since 2022 our deliveries in the city centre are made by electric cargo bikes.',
    questions: ['Is your packaging recyclable?'],
  },
  {
    title: 'Careers',
    content:
      'Open positions are listed on the careers page. We hire customer support agents, warehouse staff and software engineers, and most office roles allow hybrid work.',
    questions: ['Are you hiring software engineers?'],
  },
  {
    title: 'Contacting support',
    content:
      'Support is reachable by live chat and email every day from 8am to 10pm. Phone support is available on weekdays only, on 0800 123 456.',
    questions: ['Can I call customer service on a Saturday?'],
  },
  {
    title: 'Product recalls',
    content:
      'The KettlePro 2000 kettle sold between March and May 2024 is recalled because the lid can detach. Stop using it and return it to any store for a full refund.',
    questions: ['Is there a safety recall on a kettle?'],
  },
  {
    title: 'Assembly service',
    content:
      'For furniture, our partner fitters offer home assembly for a flat fee of 49 euros per item. Book assembly at checkout or up to two days before delivery.',
    questions: ['How much does it cost to have furniture assembled?'],
  },
  {
    title: 'Gift wrapping',
    content:
      'Gift wrapping with a handwritten card costs 3 euros per item. Prices are never shown on the packing slip of a wrapped gift.',
    questions: ['Can you wrap a present and add a card?'],
  },
  {
    title: 'Exchanges',
    content:
      'Exchanges for a different size or colour are free. Start an exchange from the Orders page and we ship the new item as soon as the original is scanned by the carrier.',
    questions: ['Can I swap a shirt for another colour?'],
  },
];
