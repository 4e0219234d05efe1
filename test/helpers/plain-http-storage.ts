/**
 * A plain HTTP server in the role of an S3-compatible server that answers in a way s3rver never
 * does (ignores Range, sends lifecycle XML), with a SourceStorage pointed at it. The requests still
 * go through minio and a real socket; only the answers are the test's.
 */
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SourceStorage } from '../../core/storage/s3-storage.js';

export interface PlainHttpStorage {
  storage: SourceStorage;
  /** Where the server listens, for a source config. */
  endpoint: string;
  /** TCP connections the server has accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Starts the server on a free port of 127.0.0.1; retries off, so each call is one request. */
export async function startPlainHttpStorage(handler: RequestListener): Promise<PlainHttpStorage> {
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const storage = new SourceStorage(
    { endpoint, region: 'us-east-1', credentials: { accessKey: 'a', secretKey: 'b' } },
    { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 5 },
  );
  return {
    storage,
    endpoint,
    connections: () => connections,
    async close() {
      storage.close();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
