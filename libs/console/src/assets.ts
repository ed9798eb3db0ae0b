import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const OWN_ASSETS = path.join(__dirname, '..', 'assets');

/** Where each served file comes from: the package's own assets, or uPlot's browser build from node_modules. */
function assetSources(): Record<string, [string, string]> {
  const uplotDist = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
  return {
    'console.js': [path.join(OWN_ASSETS, 'console.js'), 'text/javascript; charset=utf-8'],
    'console.css': [path.join(OWN_ASSETS, 'console.css'), 'text/css; charset=utf-8'],
    'uPlot.iife.min.js': [path.join(uplotDist, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    'uPlot.min.css': [path.join(uplotDist, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  };
}

/**
 * Every file the pages load, read once at start-up: the console needs no CDN and no
 * internet, and a missing file fails the start instead of a page.
 */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, [file, contentType]] of Object.entries(assetSources())) {
    const body = readFileSync(file);
    assets.set(name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}
