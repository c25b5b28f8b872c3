import { AppError } from '../errors/app-error.js';
import type { AddressPolicy } from './address-policy.js';
import { refusalOnSave } from './guarded-fetch.js';

/**
 * Refuses (422, naming `field`) a URL an organization saves whose host is, or resolves to, a private,
 * loopback, link-local or metadata address. The check is repeated when the server connects.
 */
export async function assertPublicUrl(url: string, field: string, policy: AddressPolicy): Promise<void> {
  const refusal = await refusalOnSave(url, policy);
  if (!refusal) return;
  throw new AppError('ValidationError', {
    message: `Invalid body: ${field}: ${refusal.message}; use a public address (the operator can allow private ones with URL_FETCH_ALLOWED_ADDRESSES)`,
    details: { fields: [{ path: field, message: 'private, loopback, link-local or reserved address' }] },
  });
}
