import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed link grants whoever holds it: one job's rejected rows, minted for the job's workspace, until it expires. */
export interface LinkGrant {
  jobId: string;
  workspace: string;
  /** Unix seconds: short in the URL, and a link lives for minutes or hours. */
  expires: number;
}

export type LinkVerdict = 'valid' | 'expired' | 'forged';

/** The payload names what the link is for, so that a signature minted for one purpose is worth nothing for another. */
function signature(secret: Buffer, grant: LinkGrant): Buffer {
  return createHmac('sha256', secret).update(`rejected-rows\n${grant.jobId}\n${grant.workspace}\n${grant.expires}`).digest();
}

export function signLink(secret: Buffer, grant: LinkGrant): string {
  return signature(secret, grant).toString('base64url');
}

/** Checks the signature before the expiry: an altered expiry is forged, not expired. */
export function verifyLink(secret: Buffer, grant: LinkGrant, presented: string, nowMs: number): LinkVerdict {
  const expected = signature(secret, grant);
  const given = Buffer.from(presented, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
  return grant.expires * 1000 <= nowMs ? 'expired' : 'valid';
}
