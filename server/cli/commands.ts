import { Types } from 'mongoose';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../shared/schemas/api-keys.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import type { Models } from '../services.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { isPlan, overridesOf, PLANS, type Plan, type PlanLimits } from '../organizations/plans.js';
import { CliError } from './cli-error.js';
import { createConsoleLink } from '../console/console-sessions.service.js';

const LIST_PAGE = 100;

/** The operator's commands on organizations and keys; each returns the lines to print. */
export class CliCommands {
  private readonly apiKeys: ApiKeysService;
  private readonly organizations: OrganizationsService;

  constructor(
    private readonly models: Models,
    /** Each plan's defaults from the environment, to show an organization's effective limits. */
    private readonly plans: Record<Plan, PlanLimits>,
  ) {
    this.apiKeys = new ApiKeysService(models, (id) => this.organizations.settingsOf(id));
    this.organizations = new OrganizationsService(models, this.apiKeys);
  }

  async createOrganization(name: string | undefined, plan: string | undefined): Promise<string[]> {
    const trimmed = requireName(name, 'organization name', 200);
    const chosenPlan = plan ?? 'free';
    if (!isPlan(chosenPlan)) throw new CliError(`Unknown plan "${chosenPlan}": valid plans are ${PLANS.join(', ')}`);
    const org = await this.organizations.create(trimmed, chosenPlan);
    return [
      `Created organization ${org.id} "${org.name}" (plan ${chosenPlan}).`,
      `Admin API key (shown once, keep it safe): ${org.adminKey}`,
    ];
  }

  async listOrganizations(): Promise<string[]> {
    const orgs = await this.organizations.list();
    if (orgs.length === 0) return ['No organizations yet: create one with `npm run org -- create "Name"`.'];
    return orgs.map((org) => `${org.id}  ${org.plan.padEnd(10)}  ${this.describeLimits(org)}  ${org.name}`);
  }

  /**
   * Puts an organization on a plan and sets (a number, 0 = unlimited) or clears (`default`)
   * its own limits; a running server applies them within a few seconds.
   */
  async setPlan(
    org: string | undefined,
    plan: string | undefined,
    options: { perMinute?: string; burst?: string; monthlyMessages?: string },
  ): Promise<string[]> {
    const orgId = await this.resolveOrganization(org ?? '');
    if (!plan || !isPlan(plan)) throw new CliError(`Unknown plan "${plan ?? ''}": valid plans are ${PLANS.join(', ')}`);
    const set: Record<string, unknown> = { plan };
    const limit = (option: string, field: string, value: string | undefined) => {
      if (value === undefined) return;
      if (value === 'default') set[field] = null;
      else if (/^\d{1,12}$/.test(value)) set[field] = Number(value);
      else throw new CliError(`--${option} must be a whole number (0 = unlimited) or "default", not "${value}"`);
    };
    limit('per-minute', 'rateLimitPerMinute', options.perMinute);
    limit('burst', 'rateLimitBurstPerSecond', options.burst);
    limit('monthly-messages', 'monthlyMessageQuota', options.monthlyMessages);
    const updated = await this.models.Organization.findByIdAndUpdate(orgId, { $set: set }, { returnDocument: 'after' })
      .lean()
      .orFail();
    return [
      `Organization ${orgId} "${updated.name}" is on plan ${plan}: ${this.describeLimits({ plan, ...overridesOf(updated) })}.`,
      'A running server applies this within 5 seconds.',
    ];
  }

  /** `5000/min* 200/s* 1000000 messages/month*`: the effective limits, `*` marking the organization's own. */
  private describeLimits(org: {
    plan: string;
    perMinute: number | null;
    burstPerSecond: number | null;
    monthlyMessages: number | null;
  }): string {
    const defaults = this.plans[isPlan(org.plan) ? org.plan : 'free'];
    const show = (own: number | null, fallback: number, unit: string) => {
      const value = own ?? fallback;
      return `${value === 0 ? 'unlimited' : value}${unit}${own === null ? '' : '*'}`;
    };
    return [
      show(org.perMinute, defaults.perMinute, '/min'),
      show(org.burstPerSecond, defaults.burstPerSecond, '/s'),
      show(org.monthlyMessages, defaults.monthlyMessages, ' messages/month'),
    ].join(' ');
  }

  /** A one-time link that signs the owner in to the console with admin rights (15 minutes, once). */
  async consoleLink(org: string | undefined, publicUrl: string): Promise<string[]> {
    const orgId = await this.resolveOrganization(org);
    const { token, expiresAt } = await createConsoleLink(this.models.ConsoleLink, orgId);
    return [
      `One-time console link for organization ${orgId} (valid once, until ${expiresAt.toISOString()}):`,
      `${publicUrl.replace(/\/+$/, '')}/console/#link=${token}`,
    ];
  }

  async createKey(options: { org?: string; scopes?: string; name?: string }): Promise<string[]> {
    const scopes = parseScopes(options.scopes);
    const name = requireName(options.name ?? 'CLI key', 'key name', 100);
    const orgId = await this.resolveOrganization(options.org);
    const key = await this.apiKeys.create(orgId, name, scopes);
    return [
      `Created API key ${key.id} "${key.name}" in organization ${orgId} with scopes ${key.scopes.join(', ')}.`,
      `API key (shown once, keep it safe): ${key.key}`,
    ];
  }

  async listKeys(org: string | undefined): Promise<string[]> {
    const orgId = await this.resolveOrganization(org);
    const lines: string[] = [];
    for (let page = 1; ; page += 1) {
      const { items, total } = await this.apiKeys.list(orgId, page, LIST_PAGE);
      for (const key of items) {
        const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active';
        lines.push(`${key.id}  ${key.prefix}…  ${state}  ${key.scopes.join(',')}  ${key.name}`);
      }
      if (page * LIST_PAGE >= total) break;
    }
    return lines.length > 0 ? lines : [`Organization ${orgId} has no API keys.`];
  }

  async revokeKey(keyId: string | undefined): Promise<string[]> {
    if (!keyId || !/^[0-9a-f]{24}$/i.test(keyId)) {
      throw new CliError('Pass the id of the key to revoke (24 hex characters; see `npm run keys -- list`)');
    }
    const doc = await this.models.ApiKey.findById(keyId, { organizationId: 1 }).lean();
    if (!doc) throw new CliError(`No API key with id ${keyId}`);
    const key = await this.apiKeys.revoke(doc.organizationId.toString(), keyId);
    // A running server remembers resolved keys for a few seconds, so the revocation reaches it shortly.
    return [`Revoked API key ${key.id} "${key.name}" (${key.prefix}…) at ${key.revokedAt ?? 'now'}.`];
  }

  /** The organization named by `--org`, or the only one when there is exactly one. */
  private async resolveOrganization(org: string | undefined): Promise<string> {
    if (org !== undefined) {
      if (!/^[0-9a-f]{24}$/i.test(org)) throw new CliError(`--org must be an organization id (24 hex characters)`);
      if (!(await this.models.Organization.exists({ _id: new Types.ObjectId(org) }))) {
        throw new CliError(`No organization with id ${org} (see \`npm run org -- list\`)`);
      }
      return org;
    }
    const orgs = await this.models.Organization.find({}, { _id: 1 }).limit(2).lean();
    if (orgs.length === 0) throw new CliError('No organization yet: create one with `npm run org -- create "Name"`');
    if (orgs.length > 1) {
      throw new CliError('There are several organizations: pass --org <id> (see `npm run org -- list`)');
    }
    return orgs[0]!._id.toString();
  }
}

function requireName(value: string | undefined, what: string, max: number): string {
  const trimmed = value?.trim() ?? '';
  if (!trimmed) throw new CliError(`The ${what} is missing`);
  if (trimmed.length > max) throw new CliError(`The ${what} is longer than ${max} characters`);
  return trimmed;
}

/** `chat,knowledge:read` → scopes; an unknown name lists the valid ones. */
export function parseScopes(value: string | undefined): ApiKeyScope[] {
  const valid = API_KEY_SCOPES as readonly string[];
  if (!value?.trim())
    throw new CliError(`--scopes is required, e.g. --scopes chat,knowledge:read (valid: ${valid.join(', ')})`);
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.find((name) => !valid.includes(name));
  if (unknown !== undefined) throw new CliError(`Unknown scope "${unknown}": valid scopes are ${valid.join(', ')}`);
  return [...new Set(names)] as ApiKeyScope[];
}
