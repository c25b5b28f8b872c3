import type { AddressPolicy } from './address-policy.js';
import { RefusedAddressError, resolveAllowed } from './guarded-fetch.js';

// A save does not wait long on DNS: a name that does not resolve yet is checked again at every call.
const SAVE_LOOKUP_TIMEOUT_MS = 3_000;

/**
 * Why a host an organization saves (a model connection, an action) is refused by the address policy, or null.
 * Names that do not resolve in time pass: the guarded fetch checks them again at every connection.
 */
export async function refusalAtSave(hostname: string, policy: AddressPolicy): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SAVE_LOOKUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([resolveAllowed(hostname, policy), timeout]);
    return null;
  } catch (error) {
    return error instanceof RefusedAddressError ? error.message : null;
  } finally {
    clearTimeout(timer);
  }
}
