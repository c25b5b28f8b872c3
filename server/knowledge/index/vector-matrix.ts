import type { VectorHit } from './bot-index.js';

/**
 * WebAssembly (SIMD) for "dot product of the query with every row", compiled from:
 *   for each row r: out[r] = sum over i of data[r][i] * query[i], in f32x4 lanes, 8 floats a step.
 * About five times the speed of the same loop in JavaScript. Its float32 sums differ from the
 * exact scores in the last bits, so it only picks candidates; the exact scan then scores those.
 */
const DOT_WASM =
  'AGFzbQEAAAABCQFgBX9/f39/AAIPAQNlbnYGbWVtb3J5AgABAwIBAAcKAQZzY29yZXMAAArUAQHRAQMCfwJ7AX8gA0ECdCEJAkADQCAFIAJPDQH9DAAAAAAAAAAAAAAAAAAAAAAhB/0MAAAAAAAAAAAAAAAAAAAAACEIQQAhBgJAA0AgBiAJTw0BIAcgACAGav0ABAAgASAGav0ABAD95gH95AEhByAIIAAgBmr9AAQQIAEgBmr9AAQQ/eYB/eQBIQggBkEgaiEGDAALCyAHIAj95AEhByAEIAVBAnRqIAf9HwAgB/0fAZIgB/0fAiAH/R8DkpI4AgAgACAJaiEAIAVBAWohBQwACwsL';
let dotModule: WebAssembly.Module | null | undefined;

function compiledDot(): WebAssembly.Module | null {
  if (dotModule === undefined) {
    try {
      dotModule = new WebAssembly.Module(Buffer.from(DOT_WASM, 'base64'));
    } catch {
      dotModule = null; // An engine without SIMD: the exact scan alone.
    }
  }
  return dotModule;
}

/** Below this many rows the exact scan alone is fast enough. */
const SIMD_MIN_ROWS = 2_000;
const PAGE = 65_536;
/** Float32's unit roundoff. */
const F32_EPSILON = 2 ** -24;

interface Simd {
  data: Float32Array;
  scores: (data: number, query: number, rows: number, dims: number, out: number) => void;
  query: Float32Array;
  out: Float32Array;
  queryOffset: number;
  outOffset: number;
}

/**
 * All vectors of one embedding model in one contiguous float32 array (inside WebAssembly
 * memory when the SIMD scan applies), with the id of each row.
 */
export class VectorMatrix {
  readonly data: Float32Array;
  private readonly simd: Simd | null;
  /** The largest row norm, to bound the SIMD sums' rounding error. */
  private maxNorm = 0;

  constructor(
    readonly model: string,
    readonly dims: number,
    readonly ids: string[],
    vectors: Float32Array[],
  ) {
    const rows = vectors.length;
    const module = dims % 8 === 0 && rows >= SIMD_MIN_ROWS ? compiledDot() : null;
    const simd = module ? simdScan(module, rows, dims) : null;
    this.data = simd ? simd.data : new Float32Array(rows * dims);
    this.simd = simd;
    vectors.forEach((vector, row) => {
      this.data.set(vector, row * dims);
      let norm = 0;
      for (let i = 0; i < dims; i += 1) norm += vector[i]! * vector[i]!;
      this.maxNorm = Math.max(this.maxNorm, Math.sqrt(norm));
    });
  }

  /** Row `row` as a view into the matrix. */
  row(row: number): Float32Array {
    return this.data.subarray(row * this.dims, (row + 1) * this.dims);
  }

  /** The `limit` rows closest to the query by dot product, exactly as a full exact scan ranks them. */
  search(query: Float32Array, limit: number): VectorHit[] {
    const rows = this.ids.length;
    if (!this.simd || limit >= rows) return this.exact(query, limit, null);
    const { simd } = this;
    simd.query.set(query);
    simd.scores(0, simd.queryOffset, rows, this.dims, simd.outOffset);
    // The k-th best approximate score, then every row that could still be in the exact top k:
    // each approximate score is within `margin` of the exact one.
    const kth = kthLargest(simd.out, limit);
    let queryNorm = 0;
    for (let i = 0; i < this.dims; i += 1) queryNorm += query[i]! * query[i]!;
    const margin = 4 * this.dims * F32_EPSILON * this.maxNorm * Math.sqrt(queryNorm) + 1e-7;
    const threshold = kth - 2 * margin;
    const candidates: number[] = [];
    for (let row = 0; row < rows; row += 1) if (simd.out[row]! >= threshold) candidates.push(row);
    return this.exact(query, limit, candidates);
  }

  /** Exact scores of the given rows (all when null), in row order so ties rank as before. */
  private exact(query: Float32Array, limit: number, rows: number[] | null): VectorHit[] {
    const { data, ids, dims } = this;
    const top: VectorHit[] = [];
    let floor = -Infinity;
    const count = rows ? rows.length : ids.length;
    for (let n = 0; n < count; n += 1) {
      const row = rows ? rows[n]! : n;
      const base = row * dims;
      // Four running sums let the engine overlap the multiplications (about a quarter faster).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < dims; i += 4) {
        s0 += data[base + i]! * query[i]!;
        s1 += data[base + i + 1]! * query[i + 1]!;
        s2 += data[base + i + 2]! * query[i + 2]!;
        s3 += data[base + i + 3]! * query[i + 3]!;
      }
      for (; i < dims; i += 1) s0 += data[base + i]! * query[i]!;
      const dot = s0 + s1 + s2 + s3;
      if (top.length >= limit && dot <= floor) continue;
      let at = top.length;
      while (at > 0 && top[at - 1]!.score < dot) at -= 1;
      top.splice(at, 0, { id: ids[row]!, score: dot });
      if (top.length > limit) top.pop();
      if (top.length >= limit) floor = top[top.length - 1]!.score;
    }
    return top;
  }
}

/**
 * The matrix inside a WebAssembly memory of its own, or null when the engine cannot reserve one
 * (each memory reserves address space with guard regions, so a process with very many large bots
 * may be refused one): those bots keep the exact scan alone.
 */
function simdScan(module: WebAssembly.Module, rows: number, dims: number): Simd | null {
  const dataBytes = rows * dims * 4;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: Math.ceil((dataBytes + dims * 4 + rows * 4) / PAGE) });
  } catch {
    return null;
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  // The memory never grows, so these views stay valid for the matrix's life.
  return {
    data: new Float32Array(memory.buffer, 0, rows * dims),
    scores: instance.exports.scores as Simd['scores'],
    query: new Float32Array(memory.buffer, dataBytes, dims),
    out: new Float32Array(memory.buffer, dataBytes + dims * 4, rows),
    queryOffset: dataBytes,
    outOffset: dataBytes + dims * 4,
  };
}

/** The k-th largest value (k ≥ 1), keeping a small sorted list of the best k seen. */
function kthLargest(values: Float32Array, k: number): number {
  const best: number[] = [];
  let floor = -Infinity;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i]!;
    if (best.length >= k && value <= floor) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]! < value) at -= 1;
    best.splice(at, 0, value);
    if (best.length > k) best.pop();
    if (best.length >= k) floor = best[best.length - 1]!;
  }
  return best[best.length - 1] ?? -Infinity;
}
