/**
 * Chat engine bench: JSON chat requests/s and p50/p99 through the real app and the
 * embedded database, against the test model server with zero added latency; and the
 * time to the first streamed chunk through the SSE path versus calling the model server
 * directly, in the same run. The model server and the load generator (autocannon) run in
 * processes of their own, so this process's event loop and CPU are the app's alone (the model
 * is remote in production); the CPU time this process spent per turn is printed beside the
 * database round trips per turn. The throughput's same-run baseline is the floor of a turn (`floor-turn.ts`), driven
 * the same way right after: turns/s ÷ its requests/s holds across machines where turns/s does not.
 * Run: npx tsx bench/chat.bench.ts
 * (`BENCH_DISTINCT_QUESTIONS=1` gives each turn of the load a question of its own; `BENCH_DB_FILE=1` runs the database on an H2 file as the server does; `BENCH_CPU_PROF=file.cpuprofile` also writes a CPU profile of the app during the throughput part, sampled every `BENCH_CPU_PROF_US` µs, default 1000; `BENCH_WARMUP_S` runs the same load that many seconds first, unmeasured; the time to the first chunk is measured sequentially, then `BENCH_TTFC_CONCURRENCY` at a time, default 8.)
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { driveFromProcess, processCpuMs, startChatBench } from './bench-app.js';
import { startFloorTurn } from './floor-turn.js';
import { percentile } from './percentile.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 16;
const TTFC_SAMPLES = Number(process.env.BENCH_TTFC_SAMPLES ?? 200);
const TTFC_CONCURRENCY = Number(process.env.BENCH_TTFC_CONCURRENCY ?? 8);
const COUNTED_TURNS = 20;

async function timeToFirstChunk(url: string, init: RequestInit, marker: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let first = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (Number.isNaN(first) && seen.includes(marker)) first = performance.now() - started;
  }
  return first;
}

async function main() {
  const loadAtStart = loadavg()[0]!;
  const {
    app,
    bot,
    db,
    model,
    onFile,
    connection,
    headers,
    question: sameQuestion,
    turn,
    stop,
  } = await startChatBench('chat');
  // `BENCH_DISTINCT_QUESTIONS=1`: every turn of the load asks a question of its own (a new gap in the gap log, a
  // new entry in the analytics' top lists), as a site's visitors do, rather than the same one.
  const distinct = process.env.BENCH_DISTINCT_QUESTIONS === '1';
  const question = distinct
    ? JSON.stringify({ ...(JSON.parse(sameQuestion) as object), message: 'How do I reset my password on [<id>]?' })
    : sameQuestion;
  for (let i = 0; i < 5; i += 1) await turn();
  // `BENCH_WARMUP_S`: the same load first, unmeasured, so both processes' JIT compilers have compiled the turn's
  // hot paths (a server that has been up a while); by default the measure starts on a fresh app and database.
  const warmupS = Number(process.env.BENCH_WARMUP_S ?? 0);
  if (warmupS > 0) {
    await driveFromProcess(`${app.url}/api/v1/chat`, {
      connections: CONNECTIONS,
      durationS: warmupS,
      headers,
      body: question,
      idReplacement: distinct,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }

  // Throughput, with the CPU time this process (the app alone) spent meanwhile.
  const profiler = process.env.BENCH_CPU_PROF ? new Session() : null;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_US ?? 1000) });
    await profiler.post('Profiler.start');
  }
  // Round trips are counted under load too (concurrent turns' writes are grouped): mongoose's debug hook sees
  // every collection call (one per round trip, an insertMany or bulkWrite counts once).
  const countInto = (calls: Map<string, number>) =>
    connection.set('debug', (collection: string, method: string) => {
      const key = `${collection}.${method}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
    });
  const loadCalls = new Map<string, number>();
  countInto(loadCalls);
  const cpuBefore = process.cpuUsage();
  const dbCpuBefore = processCpuMs(db.pid);
  const json = await driveFromProcess(`${app.url}/api/v1/chat`, {
    connections: CONNECTIONS,
    durationS: DURATION_S,
    headers,
    body: question,
    idReplacement: distinct,
  });
  const cpu = process.cpuUsage(cpuBefore);
  const dbCpuMs = processCpuMs(db.pid) - dbCpuBefore;
  const loadAfterThroughput = loadavg()[0]!;
  connection.set('debug', false);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    await writeFile(process.env.BENCH_CPU_PROF!, JSON.stringify(profile));
    profiler.disconnect();
  }
  const cpuMsPerTurn = (cpu.user + cpu.system) / 1000 / Math.max(1, json.total);
  // Turns still in flight when the load stopped finish before the counted ones start; what the app spends meanwhile
  // is work the load left behind (analytics applied after answers, lingering writes).
  const afterLoad = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const leftOver = process.cpuUsage(afterLoad);

  // The same-run baseline: the floor of a turn (`floor-turn.ts`), driven the same way, warmed as long.
  const floor = await startFloorTurn(model.url, connection);
  const floorBody = JSON.stringify({ message: 'How do I reset my password?' });
  const floorLoad = { connections: CONNECTIONS, headers: { 'content-type': 'application/json' }, body: floorBody };
  if (warmupS > 0) await driveFromProcess(floor.url, { ...floorLoad, durationS: warmupS });
  const floorCpuBefore = process.cpuUsage();
  const floorJson = await driveFromProcess(floor.url, { ...floorLoad, durationS: DURATION_S });
  const floorCpu = process.cpuUsage(floorCpuBefore);
  await floor.stop();

  // And for sequential JSON turns on a warm server.
  const calls = new Map<string, number>();
  countInto(calls);
  for (let i = 0; i < COUNTED_TURNS; i += 1) await turn();
  // Writes after the answer (counters, analytics) may land just after the response: let them settle.
  await new Promise((resolve) => setTimeout(resolve, 500));
  connection.set('debug', false);
  const total = [...calls.values()].reduce((sum, n) => sum + n, 0);

  const body = JSON.stringify({ chatbotId: bot.id, message: 'How do I reset my password?', stream: true });
  const direct = JSON.stringify({
    model: 'fake-chat',
    stream: true,
    messages: [{ role: 'user', content: 'How do I reset my password?' }],
  });
  const viaApp: number[] = [];
  const viaModel: number[] = [];
  for (let i = 0; i < TTFC_SAMPLES; i += 1) {
    viaModel.push(
      await timeToFirstChunk(
        `${model.url}/chat/completions`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: direct },
        '"content"',
      ),
    );
    viaApp.push(await timeToFirstChunk(`${app.url}/api/v1/chat`, { method: 'POST', headers, body }, '"chunk"'));
  }
  // The same, `TTFC_CONCURRENCY` requests at a time: the model server alone, then through the API.
  const concurrently = async (measure: () => Promise<number>): Promise<number[]> => {
    const times: number[] = [];
    const perClient = Math.ceil(TTFC_SAMPLES / TTFC_CONCURRENCY);
    await Promise.all(
      Array.from({ length: TTFC_CONCURRENCY }, async () => {
        for (let i = 0; i < perClient; i += 1) times.push(await measure());
      }),
    );
    return times;
  };
  const viaModelConcurrent = await concurrently(() =>
    timeToFirstChunk(
      `${model.url}/chat/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: direct },
      '"content"',
    ),
  );
  const viaAppConcurrent = await concurrently(() =>
    timeToFirstChunk(`${app.url}/api/v1/chat`, { method: 'POST', headers, body }, '"chunk"'),
  );

  console.log(
    `Chat engine bench (${DURATION_S} s, ${CONNECTIONS} connections, ${distinct ? 'a question of its own each turn, ' : ''}database ${onFile ? 'on an H2 file' : 'in memory'}, model server with zero latency in its own process, ${warmupS > 0 ? `after ${warmupS} s of the same load, ` : ''}load average ${loadAtStart.toFixed(2)} at the start)`,
  );
  console.log(
    `JSON chat: ${json.requestsPerSecond.toFixed(1)} req/s, p50 ${json.p50} ms, p99 ${json.p99} ms, errors ${json.errors}, non-2xx ${json.non2xx}`,
  );
  console.log(
    `Floor turn (bare Express: the question, one streamed model call through the openai client, one insert; same model server and database, same load): ${floorJson.requestsPerSecond.toFixed(1)} req/s, p50 ${floorJson.p50} ms, p99 ${floorJson.p99} ms, its process CPU ${((floorCpu.user + floorCpu.system) / 1000 / Math.max(1, floorJson.total)).toFixed(2)} ms per request, errors ${floorJson.errors}, non-2xx ${floorJson.non2xx}`,
  );
  console.log(
    `JSON chat ÷ floor turn: ${(json.requestsPerSecond / Math.max(1e-9, floorJson.requestsPerSecond)).toFixed(2)} (turns/s), ${((cpu.user + cpu.system) / Math.max(1, json.total) / ((floorCpu.user + floorCpu.system) / Math.max(1, floorJson.total))).toFixed(2)} (app CPU per turn over the floor's)`,
  );
  console.log(
    `App process CPU per JSON turn: ${cpuMsPerTurn.toFixed(2)} ms (user ${(cpu.user / 1000 / Math.max(1, json.total)).toFixed(2)}, system ${(cpu.system / 1000 / Math.max(1, json.total)).toFixed(2)}; ${json.total} turns), and ${((leftOver.user + leftOver.system) / 1000).toFixed(0)} ms in the 1.5 s after the load`,
  );
  console.log(
    `Database process (JVM) CPU per JSON turn: ${(dbCpuMs / Math.max(1, json.total)).toFixed(2)} ms (load average ${loadAfterThroughput.toFixed(2)} after the throughput part)`,
  );
  console.log(
    `Database round trips per JSON turn: ${(total / COUNTED_TURNS).toFixed(1)} (${COUNTED_TURNS} sequential turns)`,
  );
  const underLoad = [...loadCalls.values()].reduce((sum, n) => sum + n, 0);
  console.log(
    `Database round trips per JSON turn under load (${CONNECTIONS} connections): ${(underLoad / Math.max(1, json.total)).toFixed(1)}`,
  );
  // Both breakdowns: the sequential one cannot show grouping (one turn per tick), the one under load does.
  const perTurn = [...calls.entries()].sort((a, b) => b[1] - a[1]);
  console.log(
    `  by call, sequential: ${perTurn.map(([call, n]) => `${call} ${(n / COUNTED_TURNS).toFixed(1)}`).join(', ')}`,
  );
  const perTurnUnderLoad = [...loadCalls.entries()].filter(([, n]) => n / Math.max(1, json.total) >= 0.005);
  console.log(
    `  by call, under load: ${perTurnUnderLoad
      .sort((a, b) => b[1] - a[1])
      .map(([call, n]) => `${call} ${(n / Math.max(1, json.total)).toFixed(2)}`)
      .join(', ')}`,
  );
  if (process.env.BENCH_DUMP) {
    for (const [key, n] of perTurn) console.log(`  ${key}: ${(n / COUNTED_TURNS).toFixed(2)}`);
    console.log('  under load:');
    for (const [key, n] of [...loadCalls].sort((a, b) => b[1] - a[1]))
      console.log(`  ${key}: ${(n / Math.max(1, json.total)).toFixed(2)}`);
  }
  console.log(
    `SSE time to first chunk via the API: p50 ${percentile(viaApp, 50).toFixed(1)} ms, p99 ${percentile(viaApp, 99).toFixed(1)} ms (${TTFC_SAMPLES} sequential requests)`,
  );
  console.log(
    `Time to first chunk calling the model server directly: p50 ${percentile(viaModel, 50).toFixed(1)} ms, p99 ${percentile(viaModel, 99).toFixed(1)} ms`,
  );
  console.log(
    `Added by the API's SSE path: p50 ${(percentile(viaApp, 50) - percentile(viaModel, 50)).toFixed(1)} ms, p99 ${(percentile(viaApp, 99) - percentile(viaModel, 99)).toFixed(1)} ms`,
  );
  console.log(
    `${TTFC_CONCURRENCY} at a time (${viaAppConcurrent.length} requests each way): via the API p50 ${percentile(viaAppConcurrent, 50).toFixed(1)} ms, p99 ${percentile(viaAppConcurrent, 99).toFixed(1)} ms; the model server directly p50 ${percentile(viaModelConcurrent, 50).toFixed(1)} ms, p99 ${percentile(viaModelConcurrent, 99).toFixed(1)} ms; added p50 ${(percentile(viaAppConcurrent, 50) - percentile(viaModelConcurrent, 50)).toFixed(1)} ms, p99 ${(percentile(viaAppConcurrent, 99) - percentile(viaModelConcurrent, 99)).toFixed(1)} ms`,
  );

  await stop();
}

await main();
