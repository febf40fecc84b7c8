/**
 * The independent client: tuf-js's Updater, fetching over HTTP from 127.0.0.1.
 * A static server serves a repository folder (`metadata/`, `targets/`).
 */
import { createServer, type Server } from 'node:http';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Updater } from 'tuf-js';

export interface StaticServer {
  url: string;
  /** the folder served; tests may change its content between requests */
  root: string;
  close(): Promise<void>;
}

export function serveDirectory(root: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    try {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, root, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

export interface ClientRun {
  updater: Updater;
  /** tuf-js allows one refresh per Updater */
  refreshed: boolean;
  metadataDir: string;
  targetDir: string;
}

/** A client that trusts `trustedRootFile` (copied as its root.json). */
export function newClient(server: StaticServer, trustedRootFile: string): ClientRun {
  const base = mkdtempSync(join(tmpdir(), 'tufjs-client-'));
  const metadataDir = join(base, 'metadata');
  const targetDir = join(base, 'targets');
  mkdirSync(metadataDir);
  mkdirSync(targetDir);
  copyFileSync(trustedRootFile, join(metadataDir, 'root.json'));
  const updater = new Updater({
    metadataDir,
    targetDir,
    metadataBaseUrl: `${server.url}/metadata`,
    targetBaseUrl: `${server.url}/targets`,
    config: { fetchRetries: 0, fetchTimeout: 5000 },
  });
  return { updater, metadataDir, targetDir, refreshed: false };
}

/** refresh, then download and check one target; resolves to the downloaded bytes. */
export async function fetchTarget(client: ClientRun, path: string): Promise<Buffer> {
  if (!client.refreshed) {
    await client.updater.refresh();
    client.refreshed = true;
  }
  const info = await client.updater.getTargetInfo(path);
  if (info === undefined) throw new Error(`target ${path} not found by tuf-js`);
  const file = await client.updater.downloadTarget(info, join(client.targetDir, path.replace(/\//g, '_')));
  return readFileSync(file);
}
