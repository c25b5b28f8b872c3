import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * A fresh Node process calls `lowerHelperThreadsPriority` and reports each of its threads' nice value from /proc
 * (a process of its own, so this test's threads are left as they are).
 */
const CHILD = `
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { lowerHelperThreadsPriority } from './server/helper-thread-priority.ts';
const own = getPriority();
const moved = lowerHelperThreadsPriority();
const threads = readdirSync('/proc/self/task').map((task) => ({
  main: Number(task) === process.pid,
  // After the name: state is field 3 of stat, nice field 19.
  nice: Number(readFileSync('/proc/self/task/' + task + '/stat', 'utf8').split(') ')[1].split(' ')[16]),
}));
process.stdout.write(JSON.stringify({ own, moved, threads }));
`;

describe.runIf(process.platform === 'linux')("the server's helper threads' priority", () => {
  it('runs every thread but the main one 10 nice levels below it, and leaves the main one', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      CHILD,
    ]);
    const { own, moved, threads } = JSON.parse(stdout) as {
      own: number;
      moved: number;
      threads: Array<{ main: boolean; nice: number }>;
    };
    const helpers = threads.filter((thread) => !thread.main);
    // V8's platform threads at least (its optimizing compiler and the garbage collector's helpers).
    expect(moved).toBeGreaterThanOrEqual(4);
    expect(helpers.length).toBeGreaterThanOrEqual(moved);
    expect(threads.filter((thread) => thread.main)).toEqual([{ main: true, nice: own }]);
    expect(helpers.filter((thread) => thread.nice === Math.min(19, own + 10))).toHaveLength(moved);
  });
});
