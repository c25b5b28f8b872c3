import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDb, type EmbeddedDb } from './embedded-db.js';

/** Each thread of `pid` with its name and nice value, from /proc (Linux). */
function threads(pid: number): Array<{ name: string; nice: number }> {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // After the name: state is field 3 of stat, nice field 19.
      const nice = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16]);
      return [{ name, nice }];
    } catch {
      // The thread ended between the listing and the read.
      return [];
    }
  });
}

describe.runIf(process.platform === 'linux')("the embedded database's thread priorities", () => {
  let db: EmbeddedDb;
  beforeAll(async () => {
    db = await startEmbeddedDb();
  });
  afterAll(async () => {
    await db.stop();
  });

  it('runs the JIT compiler threads 10 nice levels below this process, and every other thread at its level', () => {
    const own = getPriority();
    const all = threads(db.pid!);
    const compilers = all.filter(({ name }) => /^C[12] CompilerThre/.test(name));
    expect(compilers.length).toBeGreaterThan(0);
    for (const compiler of compilers) expect(compiler, compiler.name).toMatchObject({ nice: Math.min(19, own + 10) });
    // The code cache's sweeper follows the compilers' priority; nothing else is moved, up or down.
    const others = all.filter(({ name }) => !/^C[12] CompilerThre/.test(name) && name !== 'Sweeper thread');
    expect(others.length).toBeGreaterThan(0);
    for (const thread of others) expect(thread, thread.name).toMatchObject({ nice: own });
  });
});
