// The web dashboard that GET / serves (src/server/dashboard.ts): a browser bundle of src/dashboard/
// (Preact and the graphql-ws client) with its CSS, its icon, and index.html naming each by the hash
// of its contents, so that everything but the page can be cached for good.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const SOURCE = 'src/dashboard';

/** `icon.svg` → `icon-<hash of its contents>.svg`, as esbuild names the bundle. */
function hashedName(name, contents) {
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}-${createHash('sha256').update(contents).digest('hex').slice(0, 8)}${name.slice(dot)}`;
}

/** index.html with each `assets/<stem>.<ext>` it names replaced by the hashed asset's name. */
function page(assets) {
  return readFileSync(join(SOURCE, 'index.html'), 'utf8').replace(/assets\/([\w-]+)\.(\w+)"/g, (reference, stem, ext) => {
    const asset = assets.find(({ name }) => new RegExp(`^${stem}-\\w+\\.${ext}$`).test(name));
    if (!asset) throw new Error(`src/dashboard/index.html names ${reference}, which the build does not make`);
    return `assets/${asset.name}"`;
  });
}

/** The dashboard's files, named `<dir>/…`, for the build directory whose dashboard folder is `outdir`. */
export async function dashboardFiles(dir, outdir) {
  const { outputFiles } = await build({
    entryPoints: { app: join(SOURCE, 'main.tsx') },
    // As deep as the folder the files go to: the source maps' relative paths hold there.
    outdir,
    entryNames: '[name]-[hash]',
    write: false,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  const assets = outputFiles.map((file) => ({ name: basename(file.path), contents: file.contents }));
  const icon = readFileSync(join(SOURCE, 'icon.svg'));
  assets.push({ name: hashedName('icon.svg', icon), contents: icon });
  return [...assets, { name: 'index.html', contents: Buffer.from(page(assets)) }].map(({ name, contents }) => ({ name: `${dir}/${name}`, contents }));
}
