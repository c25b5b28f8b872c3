import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How many nice levels the helper threads run below the main one (as the database's JIT compiler threads do). */
export const HELPER_THREAD_NICE_STEP = 10;

/**
 * Runs every thread of this process but the main one 10 nice levels below it (Linux; elsewhere nothing), and
 * returns how many it moved. Those threads are V8's (its optimizing compiler, the garbage collector's helpers,
 * all created at the process's start) and libuv's pool (files, DNS look-ups, zlib, crypto) when already started;
 * threads started later keep the main thread's priority. A fresh server's first burst of turns has V8 compile its
 * hot paths on them, about a third of the server's CPU then, on the cores the main thread and the database need:
 * at a lower priority that compiling waits for a core's spare time, and still gets about a tenth of a busy one.
 * Only the priority moves: nothing is skipped or reordered, and a failure to move a thread is ignored (the
 * thread ended, or the system refused), as the threads then simply keep their priority.
 *
 * For a process whose JavaScript runs on its main thread only (the server): worker threads would be moved too.
 */
export function lowerHelperThreadsPriority(): number {
  if (process.platform !== 'linux') return 0;
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    // No /proc (a sandbox): the threads keep their priority.
    return 0;
  }
  const nice = Math.min(19, getPriority() + HELPER_THREAD_NICE_STEP);
  let moved = 0;
  for (const task of tasks) {
    const tid = Number(task);
    if (tid === process.pid) continue;
    try {
      // On Linux a thread id names that one thread here.
      setPriority(tid, nice);
      moved += 1;
    } catch {
      // The thread ended between the listing and the call, or the system refused: it keeps its priority.
    }
  }
  return moved;
}
