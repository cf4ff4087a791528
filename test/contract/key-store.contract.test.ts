import { describe, expect, it } from 'vitest';
import { issueKey, parseKey } from '../../src/auth/api-key';
import { ENGINES } from './engines';
import { freshEngine } from './support-ports';

describe.each(ENGINES)('ApiKeyStore contract: $name', (spec) => {
  const opened = freshEngine(spec);
  const keys = () => opened().engine.keys;

  it('create returns the key and its token; authenticate resolves the token to the key and its workspace', async () => {
    const T = Date.now();
    const { record, token } = await keys().create('ws-a', 'ci', T);
    expect(record).toEqual({ id: expect.any(String), workspace: 'ws-a', name: 'ci', createdAt: T, revokedAt: null });
    expect(parseKey(token)?.id).toBe(record.id);
    expect(await keys().authenticate(token)).toEqual({ keyId: record.id, workspace: 'ws-a' });
    expect(await (await opened().another()).keys.authenticate(token)).toEqual({ keyId: record.id, workspace: 'ws-a' });
  });

  it('makes the link signing key once: 32 random bytes, the same through every handle on the storage', async () => {
    const [first, again] = await Promise.all([keys().linkSigningKey(), keys().linkSigningKey()]);
    expect(first).toHaveLength(32);
    expect(again.equals(first)).toBe(true);
    expect((await (await opened().another()).keys.linkSigningKey()).equals(first)).toBe(true);
  });

  it('never gives the secret back: listing shows no part of it', async () => {
    const { token } = await keys().create('ws-a', 'ci', Date.now());
    const { secret } = parseKey(token)!;
    expect(JSON.stringify(await keys().list())).not.toContain(secret);
    expect(JSON.stringify(await keys().list('ws-a'))).not.toContain(secret);
  });

  it('gives every key its own id and token, and a key without a name none', async () => {
    const T = Date.now();
    const a = await keys().create('ws-a', null, T);
    const b = await keys().create('ws-a', null, T);
    const c = await keys().create('ws-b', 'other', T);
    expect(a.record.name).toBeNull();
    expect(new Set([a.record.id, b.record.id, c.record.id]).size).toBe(3);
    expect(new Set([a.token, b.token, c.token]).size).toBe(3);
    expect(await keys().authenticate(a.token)).toEqual({ keyId: a.record.id, workspace: 'ws-a' });
    expect(await keys().authenticate(b.token)).toEqual({ keyId: b.record.id, workspace: 'ws-a' });
    expect(await keys().authenticate(c.token)).toEqual({ keyId: c.record.id, workspace: 'ws-b' });
  });

  it('refuses a wrong secret, a key it does not know and a malformed token', async () => {
    const { record, token } = await keys().create('ws-a', 'ci', Date.now());
    const otherSecret = parseKey(issueKey().token)!.secret;
    expect(await keys().authenticate(`sluice_${record.id}_${otherSecret}`)).toBeNull();
    expect(await keys().authenticate(issueKey().token)).toBeNull(); // well formed, never created
    for (const malformed of ['', 'sluice_', record.id, token.slice(0, -1), `${token}x`, ` ${token}`, `Bearer ${token}`, token.replace('sluice_', 'SLUICE_')]) {
      expect(await keys().authenticate(malformed), malformed).toBeNull();
    }
    expect(await keys().authenticate(token)).toEqual({ keyId: record.id, workspace: 'ws-a' });
  });

  it('a revoked key is refused; revoke is true once, false again and for an unknown key', async () => {
    const T = Date.now();
    const revoked = await keys().create('ws-a', 'old', T);
    const kept = await keys().create('ws-a', 'new', T + 1);
    expect(await keys().authenticate(revoked.token)).not.toBeNull();

    expect(await keys().revoke(revoked.record.id, T + 5)).toBe(true);
    expect(await keys().authenticate(revoked.token)).toBeNull();
    expect(await keys().revoke(revoked.record.id, T + 9)).toBe(false);
    expect(await keys().revoke(parseKey(issueKey().token)!.id, T + 9)).toBe(false);
    expect(await keys().list('ws-a')).toEqual([{ ...revoked.record, revokedAt: T + 5 }, kept.record]);
    expect(await keys().authenticate(kept.token)).toEqual({ keyId: kept.record.id, workspace: 'ws-a' });
  });

  it('a key revoked through another instance is refused at the next authenticate', async () => {
    const T = Date.now();
    const { record, token } = await keys().create('ws-a', 'ci', T);
    expect(await keys().authenticate(token)).toEqual({ keyId: record.id, workspace: 'ws-a' });
    const other = (await opened().another()).keys;
    expect(await other.revoke(record.id, T + 1)).toBe(true);
    expect(await keys().authenticate(token)).toBeNull();
    expect(await keys().revoke(record.id, T + 2)).toBe(false);

    const created = await other.create('ws-b', 'cli', T + 3);
    expect(await keys().authenticate(created.token)).toEqual({ keyId: created.record.id, workspace: 'ws-b' });
  });

  it("list gives a workspace's keys, or every key, in the order they were created", async () => {
    const T = Date.now();
    const a1 = await keys().create('ws-a', 'a1', T);
    const b1 = await keys().create('ws-b', 'b1', T + 1);
    const a2 = await keys().create('ws-a', 'a2', T + 2);
    const a3 = await (await opened().another()).keys.create('ws-a', 'a3', T + 3);
    await keys().revoke(a2.record.id, T + 4);
    const a2Revoked = { ...a2.record, revokedAt: T + 4 };
    expect(await keys().list('ws-a')).toEqual([a1.record, a2Revoked, a3.record]);
    expect(await keys().list('ws-b')).toEqual([b1.record]);
    expect(await keys().list('ws-none')).toEqual([]);
    expect(await keys().list()).toEqual([a1.record, b1.record, a2Revoked, a3.record]);
  });

  it('any is false on a fresh store, true once a key was created, and stays true after every key is revoked', async () => {
    expect(await keys().any()).toBe(false);
    expect(await keys().list()).toEqual([]);
    const { record } = await keys().create('ws-a', null, Date.now());
    expect(await keys().any()).toBe(true);
    expect(await (await opened().another()).keys.any()).toBe(true);
    expect(await keys().revoke(record.id, Date.now())).toBe(true);
    expect(await keys().any()).toBe(true);
    expect(await (await opened().another()).keys.any()).toBe(true);
  });
});
