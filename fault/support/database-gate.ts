import net from 'node:net';

/** The wire protocol's OP_MSG: a header, flag bits, then (first, as drivers send it) the command document. */
const OP_MSG = 2013;
const WRITES = new Set(['insert', 'update', 'findAndModify', 'delete']);

/** The write command and collection an OP_MSG carries, when its command document opens with one. */
function writeOf(message: Buffer): { command: string; collection: string } | null {
  if (message.length < 26 || message.readInt32LE(12) !== OP_MSG || message[20] !== 0) return null;
  const doc = message.subarray(21);
  if (doc[4] !== 0x02) return null;
  const keyEnd = doc.indexOf(0, 5);
  if (keyEnd < 0 || keyEnd + 5 > doc.length) return null;
  const command = doc.toString('latin1', 5, keyEnd);
  const length = doc.readInt32LE(keyEnd + 1);
  const collection = doc.toString('utf8', keyEnd + 5, keyEnd + 4 + length);
  return WRITES.has(command) ? { command, collection } : null;
}

/** Calls `onMessage` with each whole wire-protocol message read from `socket` (each starts with its length). */
function messagesOf(socket: net.Socket, onMessage: (message: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
      const message = pending.subarray(0, pending.readInt32LE(0));
      pending = pending.subarray(message.length);
      onMessage(message);
    }
  });
}

/**
 * A TCP relay between a Wisp server and its database that can close right after a chosen write: that write
 * reaches the database and is answered, and whatever the server sends next waits at the relay. A `kill -9`
 * then lands exactly between two writes of the server, which no stalled model or shop can arrange when
 * nothing outside the database is called between them.
 */
export class DatabaseGate {
  private readonly sockets = new Set<net.Socket>();
  private held: Array<() => void> | null = null;
  private armed: { collection: string; closed: () => void } | null = null;
  private answering: { requestId: number; closed: () => void } | null = null;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {}

  /** Relays to the database at `uri`; `uriThrough(uri)` is the same address through the relay. */
  static async start(uri: string): Promise<DatabaseGate> {
    const { hostname, port } = new URL(uri);
    const server = net.createServer();
    const gate = new DatabaseGate(server, { host: hostname, port: Number(port) });
    server.on('connection', (client) => gate.relay(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gate;
  }

  /** `uri` with its host and port replaced by the relay's. */
  uriThrough(uri: string): string {
    const url = new URL(uri);
    url.host = `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return url.toString();
  }

  /** Resolves once a write to `collection` passed and the relay closed behind it. */
  closeAfterWriteTo(collection: string): Promise<void> {
    return new Promise((resolve) => (this.armed = { collection, closed: resolve }));
  }

  /** Lets through what waits (of connections still open) and everything after. */
  open(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const send of held) send();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    const database = net.connect(this.target);
    this.sockets.add(client).add(database);
    const end = () => {
      client.destroy();
      database.destroy();
      this.sockets.delete(client);
      this.sockets.delete(database);
    };
    client.on('error', end).on('close', end);
    database.on('error', end).on('close', end);
    messagesOf(database, (reply) => {
      client.write(reply);
      // The gate counts as closed once the chosen write is answered: it is then stored, whatever follows.
      if (this.answering && reply.readInt32LE(8) === this.answering.requestId) {
        const { closed } = this.answering;
        this.answering = null;
        closed();
      }
    });
    messagesOf(client, (message) => this.forward(message, database));
  }

  private forward(message: Buffer, database: net.Socket): void {
    const send = () => {
      if (!database.destroyed) database.write(message);
    };
    if (this.held) {
      this.held.push(send);
      return;
    }
    send();
    const write = this.armed && writeOf(message);
    if (write && write.collection === this.armed!.collection) {
      this.answering = { requestId: message.readInt32LE(4), closed: this.armed!.closed };
      this.armed = null;
      this.held = [];
    }
  }
}
