/**
 * Start-up against a PostgreSQL host that takes the connection but never answers (a stopped VM behind
 * a proxy, a firewall dropping replies): the store gives up after its bound, not the kernel's TCP
 * time-out, and the runtime turns that into a one-line start-up error.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { openDb } from '../../../core/store/db.js';
import { openStore } from '../../../core/store/open-store.js';
import { TEST_DATABASE_URL } from '../../helpers/database.js';

describe('store: PostgreSQL that does not answer at start', function () {
  this.timeout(20_000);
  let silent: Server;
  let port: number;
  const sockets = new Set<Socket>();

  before(async () => {
    silent = createServer((socket) => {
      // Reads the startup message and never replies.
      sockets.add(socket);
      socket.on('data', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    port = (silent.address() as AddressInfo).port;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    silent.close();
    await once(silent, 'close');
  });

  it('rejects with ETIMEDOUT after its bound and leaves no connection open', async () => {
    const started = Date.now();
    const error = await openStore({
      databaseUrl: `postgresql://postgres:secret-password@127.0.0.1:${port}/test`,
      connectTimeoutMs: 300,
    }).then(
      () => expect.fail('opened a store on a server that never answered'),
      (e: unknown) => e as { code?: string; message: string },
    );
    const waited = Date.now() - started;
    expect(error.code).to.equal('ETIMEDOUT');
    expect(error.message).to.equal('PostgreSQL did not answer within 300 ms');
    expect(waited).to.be.at.least(290).and.below(5_000);
    // The probe closed its socket: nothing is left holding the process open.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sockets.size).to.equal(0);
  });

  it('still opens a PostgreSQL that answers, within the same bound', async () => {
    const db = await openDb({ databaseUrl: TEST_DATABASE_URL, connectTimeoutMs: 300 });
    try {
      expect(await db.query<{ one: number }>('SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });
});
