import { jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../http/app-error.js';
import type { EndUser } from './chat.types.js';

/**
 * Verifies the site owner's end-user JWT (HS256, signed with the bot's identity secret)
 * and returns who it names. Anything else — another algorithm, a bad signature, an
 * expired token, no `sub` — is 401: the client can never mint its own identity.
 */
export async function verifyEndUserToken(token: string, identitySecret: string): Promise<EndUser> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(identitySecret), { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) {
      throw new AppError('UnauthorizedError', { message: 'The userToken must carry a `sub` claim' });
    }
    const name = typeof payload.name === 'string' ? payload.name.slice(0, 200) : undefined;
    const email = typeof payload.email === 'string' ? payload.email.slice(0, 320).toLowerCase() : undefined;
    return { sub: payload.sub, ...(name ? { name } : {}), ...(email ? { email } : {}) };
  } catch (error) {
    if (error instanceof AppError) throw error;
    const reason = error instanceof joseErrors.JWTExpired ? 'has expired' : 'is not valid for this chatbot';
    throw new AppError('UnauthorizedError', { message: `The userToken ${reason}` });
  }
}
