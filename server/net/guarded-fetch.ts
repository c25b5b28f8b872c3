import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { literalAddress, type AddressPolicy } from './address-policy.js';

/** A host the address policy does not let the server connect to. */
export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
}

/** Resolves a host (or takes its literal IP) and returns its addresses; throws when any is refused. */
export async function resolveAllowed(
  hostname: string,
  policy: AddressPolicy,
): Promise<Array<{ address: string; family: number }>> {
  const literal = literalAddress(hostname);
  const addresses = literal
    ? [{ address: literal, family: isIP(literal) }]
    : await lookup(hostname, { all: true, verbatim: true });
  for (const { address } of addresses) {
    const reason = policy.refuse(address);
    if (reason) throw new RefusedAddressError(`${hostname}: ${reason}`);
  }
  return addresses;
}

/**
 * Checks a URL an organization saves: the refusal when its host is (or resolves to) an address the policy
 * refuses, else null. A save does not wait long on DNS: a name that does not resolve yet passes here and is
 * checked again at every call.
 */
export async function refusalOnSave(
  url: string,
  policy: AddressPolicy,
  lookupTimeoutMs = 3_000,
): Promise<RefusedAddressError | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, lookupTimeoutMs);
  });
  try {
    await Promise.race([resolveAllowed(new URL(url).hostname, policy), timeout]);
    return null;
  } catch (error) {
    return error instanceof RefusedAddressError ? error : null;
  } finally {
    clearTimeout(timer);
  }
}

/** The refusal somewhere in an error's cause chain (fetch and SDKs wrap it), if any. */
export function refusalIn(error: unknown): RefusedAddressError | null {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof RefusedAddressError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** What {@link guardedFetch} is made of: an agent whose connections go to checked addresses, and the URL check. */
export interface GuardedDispatch {
  agent: Agent;
  /** Throws a {@link RefusedAddressError} for a URL whose host is a literal IP the policy refuses. */
  checkUrl(url: URL): void;
}

/**
 * An undici agent for calls to hosts an organization chose. Host names are resolved and checked when
 * each connection opens, and the socket goes to exactly the checked addresses, so a DNS answer
 * that changes after the URL was saved cannot point the server at its own network.
 */
export function guardedDispatch(policy: AddressPolicy): GuardedDispatch {
  const checkedLookup: LookupFunction = (hostname, options, callback) => {
    resolveAllowed(hostname, policy).then(
      (addresses) => {
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
  return {
    agent: new Agent({ connect: { lookup: checkedLookup } }),
    checkUrl(url) {
      // Literal IPs never reach the lookup, so they are checked here.
      const literal = literalAddress(url.hostname);
      const reason = literal ? policy.refuse(literal) : null;
      if (reason) throw new RefusedAddressError(`${url.hostname}: ${reason}`);
    },
  };
}

/**
 * A `fetch` for calls to hosts an organization chose, through {@link guardedDispatch} (its own unless given). It
 * follows no redirect: the answer is the 3xx itself (`redirect: 'error'` still rejects). A followed redirect's next
 * URL would skip the literal-IP check, so a host an organization controls could send the server to
 * `http://169.254.169.254/` or its own loopback.
 */
export function guardedFetch(policy: AddressPolicy, dispatch = guardedDispatch(policy)): typeof fetch {
  const { agent, checkUrl } = dispatch;
  const guarded = async (input: string | URL | Request, init?: RequestInit) => {
    checkUrl(new URL(input instanceof Request ? input.url : input));
    const redirect = init?.redirect === 'error' || (input instanceof Request && input.redirect === 'error');
    return undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      redirect: redirect ? 'error' : 'manual',
      dispatcher: agent,
    });
  };
  return guarded as unknown as typeof fetch;
}
