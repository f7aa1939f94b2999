#!/usr/bin/env node
// Serves the app's web build (`expo export --platform web`, single-page output) on loopback:
// static files from the build directory, index.html for every other path (so deep links such as
// /amo-crm/callback?status=connected reach the router), and the backend URL injected into
// index.html as `window.__FORYOU_RUNTIME_CONFIG__` so one build runs against any backend.
//
//   node e2e/spa-server.mjs --dir dist --port 8081 --api-url http://127.0.0.1:8000/api/v1
//
// Prints `spa-server listening on http://127.0.0.1:PORT` once ready; --port 0 picks a free port.
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function parseArgs(argv) {
  const options = { dir: 'dist', port: 8081, host: '127.0.0.1', apiUrl: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    if (flag === '--dir') options.dir = value;
    else if (flag === '--port') options.port = Number(value);
    else if (flag === '--host') options.host = value;
    else if (flag === '--api-url') options.apiUrl = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

function runtimeConfigScript(apiUrl) {
  if (!apiUrl) return '';
  // JSON.stringify plus escaping "<" keeps the value inert inside a <script> element.
  const json = JSON.stringify({ apiUrl }).replace(/</g, '\\u003c');
  return `<script>window.__FORYOU_RUNTIME_CONFIG__=${json};</script>`;
}

export async function startSpaServer({ dir, port = 0, host = '127.0.0.1', apiUrl = null }) {
  const root = path.resolve(dir);
  const template = await fs.readFile(path.join(root, 'index.html'), 'utf8');
  const indexHtml = template.replace('<head>', `<head>${runtimeConfigScript(apiUrl)}`);

  const server = http.createServer(async (request, response) => {
    const sendIndex = () => {
      response.writeHead(200, {
        'Content-Type': TYPES['.html'],
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      });
      response.end(request.method === 'HEAD' ? undefined : indexHtml);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://spa.local').pathname);
    } catch {
      response.writeHead(400).end();
      return;
    }
    const file = path.resolve(root, `.${pathname}`);
    if (!file.startsWith(root + path.sep) || pathname === '/' || pathname === '/index.html') {
      sendIndex();
      return;
    }
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) throw new Error('not a file');
      response.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': stat.size,
        'X-Content-Type-Options': 'nosniff',
      });
      if (request.method === 'HEAD') response.end();
      else createReadStream(file).pipe(response);
    } catch {
      sendIndex();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return { server, url: `http://${host}:${address.port}` };
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const { server, url } = await startSpaServer(options);
    console.log(`spa-server listening on ${url}`);
    const stop = () => server.close(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (error) {
    console.error(`spa-server: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
