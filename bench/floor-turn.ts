/**
 * The floor of a chat turn, for the chat bench's same-run baseline: a bare Express route that does only what any
 * turn must (read the JSON question, stream the model's answer through the `openai` client to its end, store one
 * document with the driver's acknowledged insert, answer JSON), on the same model server and database as the app.
 * JSON chat turns/s ÷ this route's requests/s says how close a turn is to that floor on whatever machine runs it,
 * which absolute turns/s do not (a slower machine lowers both).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Connection } from 'mongoose';
import OpenAI from 'openai';

/**
 * The floors' model call (this route's and `floor-socket.ts`'s): the question as one user message, streamed through the
 * `openai` client as the app calls the model, yielding each piece of text as it arrives.
 */
export function floorModel(modelUrl: string): (question: string) => AsyncGenerator<string> {
  const client = new OpenAI({ baseURL: modelUrl, apiKey: 'bench', maxRetries: 0 });
  return async function* answer(question) {
    const stream = await client.chat.completions.create({
      model: 'fake-chat',
      stream: true,
      messages: [{ role: 'user', content: question }],
    });
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta?.content;
      if (text) yield text;
    }
  };
}

export async function startFloorTurn(
  modelUrl: string,
  connection: Connection,
): Promise<{ url: string; stop(): Promise<void> }> {
  const answerOf = floorModel(modelUrl);
  const turns = connection.db!.collection('floor_turns');
  const app = express();
  app.post('/floor', express.json(), async (req, res, next) => {
    try {
      const question = String((req.body as { message?: unknown }).message ?? '');
      let answer = '';
      for await (const text of answerOf(question)) answer += text;
      await turns.insertOne({ question, answer, at: new Date() });
      res.json({ answer });
    } catch (error) {
      next(error);
    }
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/floor`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
