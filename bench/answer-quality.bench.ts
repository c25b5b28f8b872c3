/**
 * Answer-quality bench: how often the first citation is the passage that answers, and whether
 * `confidence` tells answerable questions from unanswerable ones. Everything goes through the
 * public API: text sources posted to a bot, questions asked with `POST /api/v1/chat` (JSON, four
 * at a time), the cited `sources` and `confidence` read from the answers. No chat model is
 * configured, so the figures are retrieval's own.
 *
 * Data: the help centre of the knowledge tests with questions it cannot answer (default; `BENCH_SET`
 * = original, third or sixth picks the question set, see `help-centre-questions.ts`), or any
 * SQuAD 2.0-format file (`SQUAD_FILE=path`: paragraphs become sources, answerable and
 * unanswerable questions are asked). Questions are split in two halves by a hash of their text (or
 * of the article, for SQuAD): `tune` is what thresholds were chosen on, `held-out` is reported.
 * Embeddings: `EMBEDDINGS_URL` (an OpenAI-compatible `/v1`) and `EMBEDDINGS_MODEL`; see README.md.
 * Then 500 questions (`BENCH_TIMED_QUESTIONS`; 0 skips) are asked 4 at a time and timed.
 * Run: npx tsx bench/answer-quality.bench.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { SUPPORT_CORPUS } from '../server/knowledge/test/support-corpus.js';
import { startBenchApp } from './bench-app.js';
import { helpCentreQuestions, helpCentreSet } from './help-centre-questions.js';
import { percentile } from './percentile.js';

interface Question {
  text: string;
  /** Index of the answering document, or null for an unanswerable question. */
  answer: number | null;
  split: 'tune' | 'held-out';
}

interface Dataset {
  name: string;
  documents: Array<{ title: string; content: string }>;
  questions: Question[];
}

const CONCURRENCY = 4;
/** The confidence the product treats as "answered" (the gap log and the lead triggers use it). */
const ANSWERED = 0.5;

const splitOf = (key: string): Question['split'] =>
  createHash('sha1').update(key).digest()[0]! % 2 === 0 ? 'tune' : 'held-out';

function helpCentre(): Dataset {
  const questions: Question[] = helpCentreQuestions(helpCentreSet()).map((q) => ({
    ...q,
    split: splitOf(q.text),
  }));
  const documents = SUPPORT_CORPUS.map(({ title, content }) => ({ title, content }));
  return { name: `help centre (${helpCentreSet()} set)`, documents, questions };
}

interface SquadFile {
  data: Array<{
    title: string;
    paragraphs: Array<{ context: string; qas: Array<{ question: string; is_impossible?: boolean }> }>;
  }>;
}

/** A SQuAD 2.0 file: every paragraph of the first articles, and up to the asked numbers of questions. */
function squad(file: string): Dataset {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as SquadFile;
  const articles = parsed.data.slice(0, Number(process.env.SQUAD_ARTICLES ?? 35));
  const wantAnswerable = Number(process.env.SQUAD_ANSWERABLE ?? 400);
  const wantUnanswerable = Number(process.env.SQUAD_UNANSWERABLE ?? 100);
  const documents: Dataset['documents'] = [];
  const answerable: Question[] = [];
  const unanswerable: Question[] = [];
  for (const article of articles) {
    const title = article.title.replace(/_/g, ' ');
    article.paragraphs.forEach((paragraph, n) => {
      const index = documents.push({ title: `${title} (${n + 1})`, content: paragraph.context }) - 1;
      for (const qa of paragraph.qas) {
        const question = { text: qa.question, answer: qa.is_impossible ? null : index, split: splitOf(title) };
        (qa.is_impossible ? unanswerable : answerable).push(question);
      }
    });
  }
  // Every n-th question, so the sample spreads over all articles.
  const every = (list: Question[], count: number) =>
    list.filter((_, i) => i % Math.max(1, Math.floor(list.length / count)) === 0).slice(0, count);
  return {
    name: `SQuAD 2.0 (${file.split('/').at(-1)})`,
    documents,
    questions: [...every(answerable, wantAnswerable), ...every(unanswerable, wantUnanswerable)],
  };
}

interface Asked {
  question: Question;
  /** Rank (1-based) of the answering document among the cited sources; null when absent. */
  rank: number | null;
  confidence: number;
}

function report(label: string, asked: Asked[]): void {
  const answerable = asked.filter((a) => a.question.answer !== null);
  const unanswerable = asked.filter((a) => a.question.answer === null);
  const share = (list: Asked[], test: (a: Asked) => boolean) =>
    list.length ? list.filter(test).length / list.length : NaN;
  const recall1 = share(answerable, (a) => a.rank === 1);
  const recall5 = share(answerable, (a) => a.rank !== null && a.rank <= 5);
  const mrr = answerable.reduce((sum, a) => sum + (a.rank && a.rank <= 10 ? 1 / a.rank : 0), 0) / answerable.length;
  const low = share(unanswerable, (a) => a.confidence < ANSWERED);
  const kept = share(answerable, (a) => a.confidence >= ANSWERED);
  const conf = unanswerable.map((a) => a.confidence);
  console.log(`\n${label}: ${answerable.length} answerable, ${unanswerable.length} unanswerable`);
  console.log('| figure | value | goal |\n|---|---|---|');
  console.log(`| recall@1 | ${recall1.toFixed(3)} | ≥ 0.85 |`);
  console.log(`| recall@5 | ${recall5.toFixed(3)} | ≥ 0.97 |`);
  console.log(`| MRR@10 | ${mrr.toFixed(3)} | ≥ 0.89 |`);
  console.log(
    `| unanswerable with confidence < ${ANSWERED} | ${(low * 100).toFixed(1)} % (p10 ${percentile(conf, 10).toFixed(2)}, p50 ${percentile(conf, 50).toFixed(2)}) | ≥ 70 % |`,
  );
  console.log(`| answerable kept at ≥ ${ANSWERED} | ${(kept * 100).toFixed(1)} % | ≥ 90 % |`);
}

async function main(): Promise<void> {
  const dataset = process.env.SQUAD_FILE ? squad(process.env.SQUAD_FILE) : helpCentre();
  const embeddings: Record<string, string> = process.env.EMBEDDINGS_URL
    ? {
        OPENAI_BASE_URL: process.env.EMBEDDINGS_URL,
        OPENAI_API_KEY: 'bench',
        OPENAI_EMBEDDING_MODEL: process.env.EMBEDDINGS_MODEL ?? 'all-MiniLM-L6-v2',
      }
    : {};
  const db = await startEmbeddedDb();
  const bench = await startBenchApp({
    dbUri: db.uri,
    dbName: 'answer_quality',
    env: { KNOWLEDGE_JOB_POLL_MS: '50', KNOWLEDGE_JOB_CONCURRENCY: '4', ...embeddings },
  });
  const headers = { authorization: `Bearer ${bench.org.adminKey}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${bench.app.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = (await res.json()) as { data: Record<string, unknown> | null; error: unknown };
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json.error)}`);
    return json.data!;
  };
  try {
    console.log(
      `${dataset.name}: ${dataset.documents.length} text sources, ${dataset.questions.length} questions` +
        (process.env.EMBEDDINGS_URL ? `, embeddings ${embeddings.OPENAI_EMBEDDING_MODEL}` : ', lexical only'),
    );
    const sourceIds: string[] = [];
    for (const doc of dataset.documents) {
      const source = await post(`/api/v1/chatbots/${bench.bot.id}/sources`, { type: 'text', ...doc });
      sourceIds.push(String(source.id));
    }
    const ingestStart = Date.now();
    for (;;) {
      const res = await fetch(`${bench.app.url}/api/v1/chatbots/${bench.bot.id}/sources?perPage=100&status=queued`, {
        headers,
      });
      const body = (await res.json()) as { meta?: { total: number } };
      const processing = await fetch(
        `${bench.app.url}/api/v1/chatbots/${bench.bot.id}/sources?perPage=100&status=processing`,
        { headers },
      ).then((r) => r.json() as Promise<{ meta?: { total: number } }>);
      if ((body.meta?.total ?? 0) + (processing.meta?.total ?? 0) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    console.log(`sources ready in ${((Date.now() - ingestStart) / 1000).toFixed(1)} s`);

    const asked: Asked[] = [];
    const queue = [...dataset.questions];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let question = queue.shift(); question; question = queue.shift()) {
          const answer = await post('/api/v1/chat', { chatbotId: bench.bot.id, message: question.text });
          const cited = [...new Set((answer.sources as Array<{ sourceId: string }>).map((s) => s.sourceId))];
          const gold = question.answer === null ? -1 : cited.indexOf(sourceIds[question.answer]!);
          asked.push({ question, rank: gold >= 0 ? gold + 1 : null, confidence: Number(answer.confidence) });
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    report(
      'tune half',
      asked.filter((a) => a.question.split === 'tune'),
    );
    report(
      'held-out half',
      asked.filter((a) => a.question.split === 'held-out'),
    );
    report('all', asked);
    console.log(`\n${asked.length} questions, ${CONCURRENCY} at a time: ${seconds.toFixed(1)} s`);
    // The issue's speed figure: 500 questions (the set's, over again as needed), 4 at a time.
    const timed = Number(process.env.BENCH_TIMED_QUESTIONS ?? 500);
    if (timed > 0) {
      let next = 0;
      const timedStart = Date.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let n = next++; n < timed; n = next++) {
            const question = dataset.questions[n % dataset.questions.length]!;
            await post('/api/v1/chat', { chatbotId: bench.bot.id, message: question.text });
          }
        }),
      );
      console.log(
        `${timed} questions, ${CONCURRENCY} at a time: ${((Date.now() - timedStart) / 1000).toFixed(1)} s (goal < 15 s)`,
      );
    }
    if (process.env.BENCH_DUMP) {
      for (const a of asked.sort((x, y) => x.confidence - y.confidence)) {
        console.log(
          `${a.confidence.toFixed(3)}\t${a.question.answer === null ? 'UNANS' : `rank ${a.rank ?? '-'}`}\t${a.question.text}`,
        );
      }
    }
  } finally {
    await bench.stop();
    await db.stop();
  }
}

await main();
