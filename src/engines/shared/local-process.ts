import { readFileSync } from 'node:fs';

/**
 * Whether the process runs. A process killed but not yet reaped by its parent (a zombie) still
 * answers kill(pid, 0), yet it is dead: it holds nothing, so a restart at once must not wait for it.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
  return !isZombie(pid);
}

/** Linux: the state field of /proc/<pid>/stat (after the parenthesised name, which may hold spaces) is Z or X for the dead. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false; // no /proc (not Linux): kill(pid, 0) is all there is to go by
  }
}
