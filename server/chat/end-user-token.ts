import { jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../errors/app-error.js';
import type { EndUser } from './chat.types.js';

/** Clocks of the site owner's backend and of this server may disagree by this much. */
export const END_USER_TOKEN_CLOCK_SKEW_SECONDS = 60;

export interface EndUserTokenRules {
  /** The longest a token may live: `exp - iat`, or `exp - now` when it has no `iat`. */
  maxLifetimeMs: number;
}

const refuse = (message: string) => new AppError('UnauthorizedError', { message: `The userToken ${message}` });

/** Turns jose's claim failures into messages that say which claim to fix. */
function explain(error: unknown): AppError {
  if (error instanceof joseErrors.JWTExpired) return refuse('has expired (its `exp` is in the past)');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing')
      return refuse('must carry an `exp` claim (its expiry, in seconds since 1970)');
    if (error.claim === 'nbf' && error.reason === 'check_failed')
      return refuse('is not valid yet (its `nbf` is in the future)');
    if (['exp', 'iat', 'nbf'].includes(error.claim))
      return refuse(`has an invalid \`${error.claim}\` claim: it must be a number of seconds since 1970`);
  }
  return refuse('is not valid for this chatbot');
}

/**
 * Verifies the site owner's end-user JWTs (HS256, signed with the bot's identity secret).
 * A token must expire (`exp`), may not live longer than the configured lifetime, and may not
 * be issued (`iat`) or start (`nbf`) in the future, each within a small clock skew: a leaked
 * token stops working soon, and the client can never mint its own identity.
 */
export class EndUserTokens {
  constructor(private readonly rules: EndUserTokenRules) {}

  async verify(token: string, identitySecret: string): Promise<EndUser> {
    const skew = END_USER_TOKEN_CLOCK_SKEW_SECONDS;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(identitySecret), {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        clockTolerance: skew,
      }));
    } catch (error) {
      throw explain(error);
    }
    const now = Date.now() / 1000;
    const exp = payload.exp!;
    if (payload.iat !== undefined && payload.iat > now + skew) {
      throw refuse('was issued in the future (its `iat` is ahead of this server’s clock by more than 60 seconds)');
    }
    const maxSeconds = this.rules.maxLifetimeMs / 1000;
    // Without `iat` the lifetime is measured from now, so the skew is allowed for the issuer's clock.
    const lifetime = payload.iat !== undefined ? exp - payload.iat : exp - now;
    if (lifetime > maxSeconds + (payload.iat !== undefined ? 0 : skew)) {
      const measured = payload.iat !== undefined ? '`exp - iat`' : '`exp` minus now';
      throw refuse(
        `lives too long: ${measured} is ${Math.round(lifetime)} seconds, the limit is ${maxSeconds} seconds`,
      );
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) {
      throw refuse('must carry a `sub` claim (the end user’s id, up to 200 characters)');
    }
    const name = typeof payload.name === 'string' ? payload.name.slice(0, 200) : undefined;
    const email = typeof payload.email === 'string' ? payload.email.slice(0, 320).toLowerCase() : undefined;
    return { sub: payload.sub, ...(name ? { name } : {}), ...(email ? { email } : {}) };
  }
}
