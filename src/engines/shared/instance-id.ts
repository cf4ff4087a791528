import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A new instance's id: its host and pid for the people reading logs and /health, and a random part so a restart is a new instance. */
export function newInstanceId(): string {
  return `${hostname().slice(0, 24)}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
