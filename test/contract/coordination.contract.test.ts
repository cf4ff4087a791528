import { describe, expect, it } from 'vitest';
import { InstanceConflictError } from '../../src/ports/errors';
import { ENGINES } from './engines';
import { freshEngine } from './support-ports';

describe.each(ENGINES)('Coordination contract: $name', (spec) => {
  const opened = freshEngine(spec);

  it('every instance has an id of its own', async () => {
    const a = opened().engine.coordination;
    const b = (await opened().another()).coordination;
    expect(a.id).toEqual(expect.any(String));
    expect(a.id.length).toBeGreaterThan(0);
    expect(b.id).not.toBe(a.id);
  });

  it("tells the time on the storage's clock, which on this machine is the machine's own", async () => {
    const coordination = opened().engine.coordination;
    await coordination.join();
    const before = Date.now();
    const now = coordination.clock();
    expect(Math.abs(now - before)).toBeLessThan(1_000);
    expect(Number.isInteger(now)).toBe(true);
  });

  it('an instance is live, to itself and to others on the storage, from its join until it leaves', async () => {
    const coordination = opened().engine.coordination;
    const other = (await opened().another()).coordination;
    expect(await coordination.isLive(coordination.id)).toBe(false);
    await coordination.join();
    expect(await coordination.isLive(coordination.id)).toBe(true);
    expect(await other.isLive(coordination.id)).toBe(true);
    expect(await other.isLive('never-joined')).toBe(false);
    await coordination.leave();
    expect(await coordination.isLive(coordination.id)).toBe(false);
    expect(await other.isLive(coordination.id)).toBe(false);
  });

  it('an instance holds nothing before it joins; once joined it holds and renews', async () => {
    const coordination = opened().engine.coordination;
    expect(await coordination.holds()).toBe(false);
    await coordination.join();
    expect(await coordination.holds()).toBe(true);
    expect(await coordination.renew()).toBe(true);
    expect(await coordination.renew()).toBe(true);
    expect(await coordination.holds()).toBe(true);
  });

  it('a second instance on the same storage joins beside the first, or is refused while the first holds an exclusive engine', async () => {
    const first = opened().engine.coordination;
    const second = (await opened().another()).coordination;
    expect(second.exclusive).toBe(first.exclusive);
    await first.join();
    if (first.exclusive) {
      await expect(second.join()).rejects.toBeInstanceOf(InstanceConflictError);
      expect(await second.holds()).toBe(false);
      expect(await second.renew()).toBe(false);
    } else {
      await second.join();
      expect(await second.holds()).toBe(true);
      expect(await second.renew()).toBe(true);
    }
    expect(await first.holds()).toBe(true);
    expect(await first.renew()).toBe(true);
  });

  it('after the holder leaves, another instance may join, and the first then holds nothing and cannot renew', async () => {
    const first = opened().engine.coordination;
    const second = (await opened().another()).coordination;
    await first.join();
    await first.leave();
    expect(await first.holds()).toBe(false);
    expect(await first.renew()).toBe(false);

    await second.join();
    expect(await second.holds()).toBe(true);
    expect(await first.holds()).toBe(false);
    expect(await first.renew()).toBe(false);
    // The first's failed renewal took nothing back.
    expect(await second.holds()).toBe(true);
    expect(await second.renew()).toBe(true);
  });

  it('an instance that does not hold it cannot release it by leaving', async () => {
    const holder = opened().engine.coordination;
    const bystander = (await opened().another()).coordination;
    await holder.join();
    await bystander.leave();
    expect(await holder.holds()).toBe(true);
    expect(await holder.renew()).toBe(true);
  });
});
