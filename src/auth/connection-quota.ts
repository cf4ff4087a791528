/** Caps the live connections (WebSockets, SSE streams) each API key holds, so one key cannot exhaust the server. */
export class ConnectionQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly perKey: number) {}

  /** Takes a slot for the key; returns its release (idempotent), or null when the key holds all it may. */
  acquire(keyId: string): (() => void) | null {
    const held = this.open.get(keyId) ?? 0;
    if (held >= this.perKey) return null;
    this.open.set(keyId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.open.get(keyId)! - 1;
      if (left === 0) this.open.delete(keyId);
      else this.open.set(keyId, left);
    };
  }
}
