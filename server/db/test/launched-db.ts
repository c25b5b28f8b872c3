import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedDb, type EmbeddedDb } from '../embedded-db.js';

/**
 * A database of the launcher's own for one test file, reached with the driver: in memory, or on an H2 file in a
 * temporary folder that `restart()` opens again. `client` is a new connection after each (re)start.
 */
export class LaunchedDb {
  db!: EmbeddedDb;
  client!: MongoClient;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'wisp-launched-'));

  constructor(private readonly onFile: boolean) {}

  async start(): Promise<void> {
    this.db = await startEmbeddedDb(this.onFile ? { file: path.join(this.dir, 'data.mv') } : {});
    this.client = await MongoClient.connect(this.db.uri);
  }

  /** Stops the database and starts it again on the same file. */
  async restart(): Promise<void> {
    await this.client.close();
    await this.db.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.client?.close();
    await this.db?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
