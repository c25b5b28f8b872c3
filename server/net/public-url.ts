import { AppError } from '../errors/app-error.js';
import type { AddressPolicy } from './address-policy.js';
import { RefusedAddressError, resolveAllowed } from './guarded-fetch.js';

// A save does not wait long on DNS: a name that does not resolve yet is checked again at every call.
const SAVE_LOOKUP_TIMEOUT_MS = 3_000;

/**
 * Refuses (422, naming `field`) a URL an organization saves whose host is, or resolves to, a private,
 * loopback, link-local or metadata address. The check is repeated when the server connects.
 */
export async function assertPublicUrl(url: string, field: string, policy: AddressPolicy): Promise<void> {
  const hostname = new URL(url).hostname;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SAVE_LOOKUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([resolveAllowed(hostname, policy), timeout]);
  } catch (error) {
    if (!(error instanceof RefusedAddressError)) return;
    throw new AppError('ValidationError', {
      message: `Invalid body: ${field}: ${error.message}; use a public address (the operator can allow private ones with URL_FETCH_ALLOWED_ADDRESSES)`,
      details: { fields: [{ path: field, message: 'private, loopback, link-local or reserved address' }] },
    });
  } finally {
    clearTimeout(timer);
  }
}
