// The build directories under dist/builds/: each holds one build, named by the hash of its files,
// written once and never changed, so that a process running from one keeps loading the code it
// started with (its worker threads are files read when a job starts). A process marks the build it
// runs from; a build nobody runs from and no launcher points at is deleted by the next build.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How long a build stays after it was last built, even unused: `npm start` builds, then starts the server from the launcher. */
const UNUSED_GRACE_MS = 10 * 60_000;

/** Writes `files` ({ name, contents }, a name may be a relative path) as the directory `dir`, all at once: a process sees no directory or a complete one. */
export function publishBuild(dir, files) {
  if (existsSync(dir)) {
    const now = new Date();
    utimesSync(dir, now, now); // built again: the grace starts over
    return;
  }
  const staging = join(dirname(dir), `.staging-${randomUUID()}`);
  mkdirSync(staging, { recursive: true });
  for (const file of files) {
    mkdirSync(dirname(join(staging, file.name)), { recursive: true }); // names may hold folders: dashboard/app-….js
    writeFileSync(join(staging, file.name), file.contents);
  }
  try {
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw error; // else a concurrent build published the same files first
  }
}

/** Replaces the file in one step (a reader sees the old text or the new), and only when its text changes. */
export function writeFileAtomically(path, text) {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const staging = `${path}.${randomUUID()}`;
  writeFileSync(staging, text);
  renameSync(staging, path);
}

/** Marks the build at `dirUrl` as run by this process until it exits. */
export function holdBuild(dirUrl) {
  const users = join(fileURLToPath(dirUrl), 'users');
  mkdirSync(users, { recursive: true });
  const marker = join(users, `${hostname()}-${process.pid}`);
  writeFileSync(marker, '');
  process.once('exit', () => rmSync(marker, { force: true }));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Whether a live process runs from the build; a process on another host (a shared checkout) cannot be checked, so it counts as live. */
function inUse(dir) {
  const users = join(dir, 'users');
  if (!existsSync(users)) return false;
  return readdirSync(users).some((marker) => {
    const dash = marker.lastIndexOf('-');
    return marker.slice(0, dash) !== hostname() || alive(Number(marker.slice(dash + 1)));
  });
}

/** Deletes the builds (and staging directories left by a crashed build) other than `current` that no live process runs from. */
export function pruneBuilds(buildsDir, current) {
  for (const name of readdirSync(buildsDir)) {
    const dir = join(buildsDir, name);
    try {
      if (name === current || Date.now() - statSync(dir).mtimeMs < UNUSED_GRACE_MS || inUse(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'ENOENT') throw error; // a concurrent build deleted it first
    }
  }
}
