import { Types } from 'mongoose';

/** The filters lists of an organization's records share. */
export interface ListFilters {
  chatbotId?: Types.ObjectId;
  from?: Date;
  to?: Date;
  /** Free text, matched case-insensitively (never as a pattern) against `searchFields`. */
  q?: string;
}

/** Escapes text for use inside a RegExp, so user input is matched literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A MongoDB filter for one organization's records by bot, creation date range and text. */
export function listFilter(
  organizationId: string,
  filters: ListFilters,
  searchFields: string[],
): Record<string, unknown> {
  const filter: Record<string, unknown> = { organizationId: new Types.ObjectId(organizationId) };
  if (filters.chatbotId) filter.chatbotId = filters.chatbotId;
  if (filters.from || filters.to) {
    filter.createdAt = {
      ...(filters.from ? { $gte: filters.from } : {}),
      ...(filters.to ? { $lte: filters.to } : {}),
    };
  }
  if (filters.q) {
    const pattern = new RegExp(escapeRegex(filters.q), 'i');
    filter.$or = searchFields.map((field) => ({ [field]: pattern }));
  }
  return filter;
}
