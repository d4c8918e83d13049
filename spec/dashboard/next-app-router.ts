/**
 * Calls the route handlers of a Next.js App Router folder the way Next does, without Next
 * (too large to install for CI): the request's path picks the `route.ts` whose folders match
 * (literal folders, `[name]`, `[...name]`, `[[...name]]`), and the exported function named after
 * the method is called with a web `Request` and `{ params }` (a promise, as since Next 15).
 * As in Next, a literal folder wins over `[name]`, which wins over a catch-all. No `route.ts`
 * matches: 404; the file does not export the method: 405. Route groups, parallel routes and
 * middleware are not modelled: the samples use none.
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

type RouteHandler = (request: Request, context: { params: Promise<Record<string, string | string[]>> }) => Response | Promise<Response>;

interface RouteFile {
  segments: string[];
  file: string;
}

/** How specific a folder is: literal 0, `[name]` 1, `[...name]` 2, `[[...name]]` 3. */
function rank(folder: string): number {
  return folder.startsWith('[[...') ? 3 : folder.startsWith('[...') ? 2 : folder.startsWith('[') ? 1 : 0;
}

/** Most specific first, folder by folder. */
function bySpecificity(a: RouteFile, b: RouteFile): number {
  for (let i = 0; i < Math.max(a.segments.length, b.segments.length); i++) {
    // A route out of folders sorts last at that depth (the order of routes that cannot both match is of no matter).
    const diff = (a.segments[i] === undefined ? 4 : rank(a.segments[i]!)) - (b.segments[i] === undefined ? 4 : rank(b.segments[i]!));
    if (diff !== 0) return diff;
  }
  return 0;
}

function routeFiles(appDir: string): RouteFile[] {
  return readdirSync(appDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name === 'route.ts' || name.endsWith(`${sep}route.ts`))
    .map((name) => ({ segments: relative(appDir, join(appDir, name)).split(sep).slice(0, -1), file: join(appDir, name) }))
    .sort(bySpecificity);
}

/** The params of `path` under a route's folders, or null when it does not match. */
function match(folders: readonly string[], path: readonly string[]): Record<string, string | string[]> | null {
  const params: Record<string, string | string[]> = {};
  for (let i = 0; i < folders.length; i++) {
    const folder = folders[i]!;
    const catchAll = /^\[(\[)?\.\.\.(\w+)\]?\]$/.exec(folder);
    if (catchAll) {
      const rest = path.slice(i);
      if (rest.length === 0 && !catchAll[1]) return null;
      if (rest.length > 0) params[catchAll[2]!] = rest;
      return params;
    }
    const segment = path[i];
    if (segment === undefined) return null;
    const dynamic = /^\[(\w+)\]$/.exec(folder);
    if (dynamic) params[dynamic[1]!] = segment;
    else if (folder !== segment) return null;
  }
  return folders.length === path.length ? params : null;
}

/** A function that answers a request as the Next app in `appDir` would. */
export function nextAppRouter(appDir: string): (request: Request) => Promise<Response> {
  const routes = routeFiles(appDir);
  return async (request) => {
    const path = new URL(request.url).pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    for (const route of routes) {
      const params = match(route.segments, path);
      if (!params) continue;
      const handler = ((await import(pathToFileURL(route.file).href)) as Record<string, unknown>)[request.method];
      if (typeof handler !== 'function') return new Response(null, { status: 405 });
      return (handler as RouteHandler)(request, { params: Promise.resolve(params) });
    }
    return new Response('This page could not be found.', { status: 404 });
  };
}
