import { describe, expect, it } from 'vitest';
import { TurnAdmission } from './turn-admission.js';

describe('turn admission', () => {
  it('lets the limit in at once and the rest in arrival order as places are given back', async () => {
    const admission = new TurnAdmission(2);
    const entered: string[] = [];
    const enter = (name: string) => admission.enter().then((leave) => (entered.push(name), leave));
    const first = await enter('a');
    await enter('b');
    const waiting = [enter('c'), enter('d')];
    expect(admission.queued).toBe(2);
    expect(entered).toEqual(['a', 'b']);
    first();
    const c = await waiting[0]!;
    expect(entered).toEqual(['a', 'b', 'c']);
    c();
    await waiting[1];
    expect(entered).toEqual(['a', 'b', 'c', 'd']);
  });

  it('gives a place back once however often leave is called', async () => {
    const admission = new TurnAdmission(1);
    const leave = await admission.enter();
    const second = admission.enter();
    const third = admission.enter();
    leave();
    leave();
    await second;
    expect(admission.queued).toBe(1);
    const settled = await Promise.race([third.then(() => 'entered'), Promise.resolve('waiting')]);
    expect(settled).toBe('waiting');
  });

  it('refuses a limit that would let no turn in', () => {
    expect(() => new TurnAdmission(0)).toThrow(RangeError);
    expect(() => new TurnAdmission(1.5)).toThrow(RangeError);
  });
});
