/**
 * The floor of a widget turn, for the widget sockets bench's same-run baseline: a bare Socket.IO server on the
 * widget's namespace and events that does only what any widget turn must (accept the handshake and say `session`;
 * on `chat:send` store one document with the driver's acknowledged insert and ack it, stream the model's answer
 * through the `openai` client (`floorModel`, the chat floor's call) as `chat:chunk` events, then `chat:done`), on the same model server and a fresh
 * database of the same kind. The app's first-burst figure ÷ this server's says how close the app is to that floor
 * on whatever machine runs it, which absolute milliseconds do not (a slower machine, or a slower minute of a shared
 * one, raises both). Run as its own process, so its burst meets a fresh runtime as the app's does.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import { Server } from 'socket.io';
import { floorModel } from './floor-turn.js';

export async function startFloorSocket(
  modelUrl: string,
  connection: Connection,
): Promise<{ url: string; stop(): Promise<void> }> {
  const answerOf = floorModel(modelUrl);
  const turns = connection.db!.collection('floor_turns');
  const httpServer = createServer();
  const io = new Server(httpServer, { perMessageDeflate: false });
  io.of('/widget').on('connection', (socket) => {
    const visitorId = String((socket.handshake.auth as { visitorId?: unknown }).visitorId ?? '');
    socket.emit('session', { visitorId, visitorToken: '', conversationId: null });
    socket.on('chat:send', async (payload: { text?: unknown }, ack: (reply: unknown) => void) => {
      const question = String(payload?.text ?? '');
      let messageId: string | null = null;
      try {
        const { insertedId } = await turns.insertOne({ visitorId, question, at: new Date() });
        messageId = insertedId.toHexString();
        ack({ data: { conversationId: visitorId, messageId, assistantMessageId: null, duplicate: false } });
        let seq = 0;
        for await (const text of answerOf(question)) {
          socket.emit('chat:chunk', { conversationId: visitorId, messageId, seq: seq++, text });
        }
        socket.emit('chat:done', { conversationId: visitorId, message: { id: messageId } });
      } catch (error) {
        const failure = { name: 'internal_error', message: (error as Error).message };
        if (messageId === null) ack({ error: failure });
        else socket.emit('chat:error', { conversationId: visitorId, messageId, error: failure });
      }
    });
  });
  httpServer.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => httpServer.once('listening', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}
