import { SignJWT, type JWTPayload } from 'jose';

/**
 * An end-user token as a site owner's backend signs it: HS256 with the bot's identity secret, issued now and
 * expiring after `lifetime` (a jose time span such as '10m'). With `lifetime` null it signs exactly the claims
 * given, none added, for tests of the claims themselves.
 */
export function signUserToken(
  secret: string,
  claims: JWTPayload = {},
  lifetime: string | null = '10m',
): Promise<string> {
  const token = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  if (lifetime !== null) token.setIssuedAt().setExpirationTime(lifetime);
  return token.sign(new TextEncoder().encode(secret));
}
