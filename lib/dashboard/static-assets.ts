/**
 * The page and its static files, shipped in the package next to this module (`ui/`, built from
 * lib/dashboard/ui/ into dist/lib/dashboard/ui/) and read once into memory.
 *
 * The page is served on every request with `<base href>` set to that request's base path, so one
 * build mounts anywhere. Its links to `assets/…` get a `?v=<content hash>` query: a versioned URL
 * is cached for good (`immutable`), and an upgrade changes the hash, so browsers never mix files
 * of two versions.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeAttribute } from './base-path.ts';
import { HttpError } from './http-error.ts';
import { secure } from './security-headers.ts';

/** The kinds of file served, by extension; anything else in the folder (sources, configs) is not. */
const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
};

/** One path segment of an asset name: no leading dot, so no `..` and no hidden file. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  /** Content hash: the `?v=` of versioned links and the ETag. */
  version: string;
}

/** The folder the built page and assets are in. */
export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

/** The page and assets of one folder. */
export class StaticAssets {
  readonly #dir: string;
  #loaded: Promise<Map<string, Asset>> | null = null;

  constructor(dir: string = UI_DIR) {
    this.#dir = dir;
  }

  #load(): Promise<Map<string, Asset>> {
    this.#loaded ??= (async () => {
      const assets = new Map<string, Asset>();
      let names: string[];
      try {
        names = await readdir(this.#dir, { recursive: true, encoding: 'utf8' });
      } catch {
        return assets;
      }
      for (const name of names) {
        const key = relative(this.#dir, join(this.#dir, name)).split(sep).join('/');
        const type = TYPES[extname(key)];
        if (!type || !key.split('/').every((s) => SEGMENT.test(s))) continue;
        let body: Buffer;
        try {
          body = await readFile(join(this.#dir, name));
        } catch {
          continue; // a folder whose name looks like a file
        }
        assets.set(key, { body: new Uint8Array(body), type, version: createHash('sha256').update(body).digest('base64url').slice(0, 16) });
      }
      return assets;
    })();
    return this.#loaded;
  }

  /** The page, with `<base href>` set to `baseHref` and versioned asset links. */
  async page(baseHref: string, head: boolean): Promise<Response> {
    const assets = await this.#load();
    const page = assets.get('index.html');
    if (!page) throw new HttpError(404, 'NOT_FOUND', 'The dashboard page is not built (run `npm run build`).');
    const html = Buffer.from(page.body)
      .toString('utf8')
      .replace(/<base\s+href="[^"]*"\s*\/?>/i, `<base href="${escapeAttribute(baseHref)}">`)
      .replace(/\b(src|href)="assets\/([^"?#]+)"/g, (whole, attr: string, name: string) => {
        const asset = assets.get(name);
        return asset ? `${attr}="assets/${name}?v=${asset.version}"` : whole;
      });
    const headers = secure(new Headers({ 'content-type': page.type }), true);
    return new Response(head ? null : html, { status: 200, headers });
  }

  /** One asset by its name under `assets/`. */
  async asset(name: string, request: Request, head: boolean): Promise<Response> {
    const assets = await this.#load();
    const asset = name.split('/').every((s) => SEGMENT.test(s)) ? assets.get(name) : undefined;
    if (!asset) throw new HttpError(404, 'NOT_FOUND', `No asset ${JSON.stringify(name.slice(0, 80))}.`);
    const etag = `"${asset.version}"`;
    const versioned = new URL(request.url).searchParams.get('v') === asset.version;
    const headers = secure(new Headers({ 'content-type': asset.type, etag }), false);
    // Unversioned URLs are revalidated, so an upgrade is picked up at once.
    headers.set('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
    const match = request.headers.get('if-none-match');
    if (match !== null && match.split(',').some((tag) => tag.trim() === etag)) return new Response(null, { status: 304, headers });
    headers.set('content-length', String(asset.body.byteLength));
    return new Response(head ? null : asset.body, { status: 200, headers });
  }
}
