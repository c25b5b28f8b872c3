/** A lead as the export reads it from the database (lean, so absent fields are undefined). */
export interface LeadRow {
  _id: { toString(): string };
  chatbotId: { toString(): string };
  email?: string | null;
  name?: string | null;
  phone?: string | null;
  company?: string | null;
  custom?: unknown;
  consent?: { given?: boolean | null; text?: string | null; at?: Date | null } | null;
  pageUrl?: string | null;
  referrer?: string | null;
  userAgent?: string | null;
  locale?: string | null;
  visitorId?: string | null;
  duplicateOf?: { toString(): string } | null;
  conversationIds?: Array<{ toString(): string }> | null;
  createdAt?: Date | null;
  updatedAt?: Date | null;
}

export const CSV_COLUMNS = [
  'id',
  'chatbotId',
  'createdAt',
  'updatedAt',
  'email',
  'name',
  'phone',
  'company',
  'custom',
  'consentGiven',
  'consentText',
  'consentAt',
  'pageUrl',
  'referrer',
  'userAgent',
  'locale',
  'visitorId',
  'conversationIds',
  'duplicateOf',
] as const;

/** Spreadsheets run a cell starting with one of these as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
/** Rows are sent in pieces of about this size: fewer, larger writes without holding the export. */
const CHUNK_BYTES = 64 * 1024;

/**
 * One CSV cell (RFC 4180): formula-like text gets a leading `'` so spreadsheets show it as
 * text (OWASP CSV injection advice), and cells with quotes, commas or line breaks are quoted.
 */
function csvCell(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvLine(cells: Array<string | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function leadCells(lead: LeadRow): Array<string | null | undefined> {
  const custom = lead.custom && typeof lead.custom === 'object' ? lead.custom : {};
  return [
    lead._id.toString(),
    lead.chatbotId.toString(),
    lead.createdAt?.toISOString(),
    lead.updatedAt?.toISOString(),
    lead.email,
    lead.name,
    lead.phone,
    lead.company,
    Object.keys(custom).length > 0 ? JSON.stringify(custom) : null,
    lead.consent?.given ? 'true' : 'false',
    lead.consent?.text,
    lead.consent?.at?.toISOString(),
    lead.pageUrl,
    lead.referrer,
    lead.userAgent,
    lead.locale,
    lead.visitorId,
    (lead.conversationIds ?? []).map(String).join(' '),
    lead.duplicateOf?.toString(),
  ];
}

/** The CSV text of `leads`, header first, produced as the rows arrive so memory stays flat. */
export async function* leadsCsv(leads: AsyncIterable<LeadRow>): AsyncGenerator<string> {
  let pending = csvLine([...CSV_COLUMNS]);
  for await (const lead of leads) {
    pending += csvLine(leadCells(lead));
    if (pending.length >= CHUNK_BYTES) {
      yield pending;
      pending = '';
    }
  }
  yield pending;
}
