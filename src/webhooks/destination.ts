import { lookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import type { InputProblem } from '../datasets/columns';

/** Where webhooks may go: public unicast addresses, unless configured otherwise. */
export interface DestinationPolicy {
  /** Allow loopback, private, link-local and other internal addresses (local development, tests). */
  allowPrivate: boolean;
  /** Host names or addresses allowed whatever they resolve to. */
  allowedHosts: ReadonlySet<string>;
}

export class RefusedDestinationError extends Error {
  readonly code = 'DESTINATION_REFUSED';
}

/** Whether an address is public unicast; IPv4-mapped IPv6 addresses are judged as the IPv4 address. */
export function isPublicAddress(address: string): boolean {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const ipv6 = parsed as ipaddr.IPv6;
    if (ipv6.isIPv4MappedAddress()) parsed = ipv6.toIPv4Address();
    else if (ipv6.parts.slice(0, 6).every((part) => part === 0)) return false; // ::/96, IPv4-compatible: never public
  }
  return parsed.range() === 'unicast';
}

function allowed(policy: DestinationPolicy, host: string, address: string): boolean {
  return policy.allowPrivate || policy.allowedHosts.has(host) || policy.allowedHosts.has(address) || isPublicAddress(address);
}

/** Refuses a URL whose host is an internal IP literal (those are connected to without a DNS lookup). */
export function checkDestination(url: URL, policy: DestinationPolicy): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !allowed(policy, host, host)) throw new RefusedDestinationError(`${host} is not a public address`);
}

/**
 * An HTTP agent that checks every address a host name resolves to at connect time, so a DNS answer
 * that changes between a check and the connection (DNS rebinding) cannot reach an internal address.
 */
export function guardedAgent(policy: DestinationPolicy): Agent {
  return new Agent({
    connect: {
      lookup: (hostname: string, options: object, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
        lookup(hostname, { ...options, all: true }, (error, addresses) => {
          if (error) return callback(error, []);
          const refused = addresses.find((entry) => !allowed(policy, hostname, entry.address));
          if (refused) return callback(new RefusedDestinationError(`${hostname} resolves to ${refused.address}, which is not a public address`), []);
          const all = (options as { all?: boolean }).all;
          return all ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family);
        });
      },
    } as never,
  });
}

/** Checks a webhook URL given by a caller: absolute http(s), and not an internal address literal. */
export function checkWebhookUrl(url: string, policy: DestinationPolicy, field: string[]): InputProblem | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { code: 'INVALID_URL', field, message: 'the webhook URL must be an absolute http(s) URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { code: 'INVALID_URL', field, message: 'the webhook URL must be an http(s) URL' };
  if (parsed.username || parsed.password) return { code: 'INVALID_URL', field, message: 'the webhook URL must not carry credentials' };
  try {
    checkDestination(parsed, policy);
  } catch (error) {
    return { code: 'WEBHOOK_URL_REFUSED', field, message: `the webhook URL is refused: ${(error as Error).message}` };
  }
  return null;
}
