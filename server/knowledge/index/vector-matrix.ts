import type { VectorHit } from './bot-index.js';

/**
 * WebAssembly (SIMD) for "integer dot product of the int16 query with every int8 row":
 *   for each row r: out[r] = sum over i of data[r][i] * query[i], 16 int8 values a step
 *   (i16x8.extend_low/high_i8x16_s, then i32x4.dot_i16x8_s into two i32x4 sums).
 * Integer sums are exact (at most 384 × 127 × 32,767 < 2^31), so the only error of the prefilter
 * is the quantization's, which is bounded per row (see VectorMatrix.search). Assembled here
 * rather than shipped as a binary, so the program can be read.
 */
function dotModuleBytes(): Uint8Array<ArrayBuffer> {
  const leb = (value: number) => {
    const bytes: number[] = [];
    let rest = value;
    do {
      let byte = rest & 0x7f;
      rest >>>= 7;
      if (rest) byte |= 0x80;
      bytes.push(byte);
    } while (rest);
    return bytes;
  };
  const simd = (opcode: number) => [0xfd, ...leb(opcode)];
  const name = (text: string) => [text.length, ...Buffer.from(text)];
  const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  // Parameters: data 0, query 1, rows 2, dims 3, out 4; locals: row 5, i 6, x 7, sum0 8, sum1 9.
  const [data, query, rows, dims, out, row, i, x, sum0, sum1] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const get = (local: number) => [0x20, local];
  const set = (local: number) => [0x21, local];
  const i32 = (value: number) => [0x41, ...leb(value)];
  const add = 0x6a;
  const zero = [...simd(12), ...new Array<number>(16).fill(0)]; // v128.const 0
  const load = (offset: number) => [...simd(0), 0, offset]; // v128.load
  const dot = [...simd(186), ...simd(174)]; // i32x4.dot_i16x8_s, i32x4.add
  const lane = (n: number) => [...get(x), ...simd(27), n]; // i32x4.extract_lane
  const [geU, shl, end, store] = [0x4f, 0x74, 0x0b, [0x36, 2, 0]]; // i32.ge_u, i32.shl, end, i32.store
  const [block, loop] = [
    [0x02, 0x40],
    [0x03, 0x40],
  ];
  const breakIf = [0x0d, 1];
  const repeat = [0x0c, 0];
  const queryAt = [...get(query), ...get(i), ...i32(1), shl, add]; // &query[i] (int16)
  // One statement a line.
  const code = [
    [...block, ...loop], // for each row:
    [...get(row), ...get(rows), geU, ...breakIf],
    [...zero, ...set(sum0), ...zero, ...set(sum1), ...i32(0), ...set(i)],
    [...block, ...loop], // for each 16 values of the row:
    [...get(i), ...get(dims), geU, ...breakIf],
    [...get(data), ...get(i), add, ...load(0), ...set(x)],
    [...get(sum0), ...get(x), ...simd(135), ...queryAt, ...load(0), ...dot, ...set(sum0)], // low 8 values
    [...get(sum1), ...get(x), ...simd(136), ...queryAt, ...load(16), ...dot, ...set(sum1)], // high 8 values
    [...get(i), ...i32(16), add, ...set(i), ...repeat, end, end],
    [...get(out), ...get(row), ...i32(2), shl, add], // &out[row]
    [...get(sum0), ...get(sum1), ...simd(174), ...set(x)],
    [...lane(0), ...lane(1), add, ...lane(2), add, ...lane(3), add, ...store],
    [...get(data), ...get(dims), add, ...set(data)],
    [...get(row), ...i32(1), add, ...set(row), ...repeat, end, end],
    [end],
  ].flat();
  const body = [2, 2, 0x7f, 3, 0x7b, ...code]; // locals: 2 × i32, 3 × v128
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('scores'), 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}
let dotModule: WebAssembly.Module | null | undefined;

function compiledDot(): WebAssembly.Module | null {
  if (dotModule === undefined) {
    try {
      dotModule = new WebAssembly.Module(dotModuleBytes());
    } catch {
      dotModule = null; // An engine without SIMD: the exact scan alone.
    }
  }
  return dotModule;
}

/** Below this many rows the exact scan alone is fast enough. */
const SIMD_MIN_ROWS = 2_000;
const PAGE = 65_536;
/** The largest int8 and int16 magnitudes used (symmetric, so negation cannot overflow). */
const INT8_MAX = 127;
const INT16_MAX = 32_767;

interface Quantized {
  /** Each row as int8 (inside WebAssembly memory), row r ≈ scale[r] × int8 row. */
  rows: Int8Array;
  scale: Float32Array;
  /** An upper bound of each row's quantization error, ‖row − scale × int8 row‖₂. */
  error: Float32Array;
  scores: (data: number, query: number, rows: number, dims: number, out: number) => void;
  query: Int16Array;
  out: Int32Array;
  queryOffset: number;
  outOffset: number;
}

/**
 * All vectors of one embedding model in one contiguous float32 array, with the id of each row,
 * and (when the SIMD scan applies) an int8 copy of each row for a prefilter that reads a quarter
 * of the bytes; candidates are then scored exactly from the float32 rows.
 */
export class VectorMatrix {
  readonly data: Float32Array;
  private readonly quantized: Quantized | null;
  /** The largest row norm, to bound the query's quantization error. */
  private maxNorm = 0;

  constructor(
    readonly model: string,
    readonly dims: number,
    readonly ids: string[],
    vectors: readonly Float32Array[],
  ) {
    const rows = vectors.length;
    this.data = new Float32Array(rows * dims);
    vectors.forEach((vector, row) => {
      this.data.set(vector, row * dims);
      let norm = 0;
      for (let i = 0; i < dims; i += 1) norm += vector[i]! * vector[i]!;
      this.maxNorm = Math.max(this.maxNorm, Math.sqrt(norm));
    });
    const module = dims % 16 === 0 && rows >= SIMD_MIN_ROWS ? compiledDot() : null;
    this.quantized = module ? quantize(module, this.data, rows, dims) : null;
  }

  /** Row `row` as a view into the matrix. */
  row(row: number): Float32Array {
    return this.data.subarray(row * this.dims, (row + 1) * this.dims);
  }

  /** The `limit` rows closest to the query by dot product, exactly as a full exact scan ranks them. */
  search(query: Float32Array, limit: number): VectorHit[] {
    const rows = this.ids.length;
    const { quantized: q, dims } = this;
    if (!q || limit >= rows) return this.exact(query, limit, null);
    // The query as int16 (error ‖query − queryScale × int16 query‖₂ = queryError, tiny).
    let largest = 0;
    let queryNorm = 0;
    for (let i = 0; i < dims; i += 1) {
      largest = Math.max(largest, Math.abs(query[i]!));
      queryNorm += query[i]! * query[i]!;
    }
    if (largest === 0 || !Number.isFinite(queryNorm)) return this.exact(query, limit, null);
    queryNorm = Math.sqrt(queryNorm);
    const queryScale = largest / INT16_MAX;
    let queryError = 0;
    for (let i = 0; i < dims; i += 1) {
      const value = Math.max(-INT16_MAX, Math.min(INT16_MAX, Math.round(query[i]! / queryScale)));
      q.query[i] = value;
      queryError += (query[i]! - queryScale * value) ** 2;
    }
    queryError = Math.sqrt(queryError);
    q.scores(0, q.queryOffset, rows, dims, q.outOffset);
    // Each row's approximate score a = scale × queryScale × integer dot is within
    //   b = error × ‖query‖ + ‖quantized row‖ × queryError   (Cauchy–Schwarz on both errors)
    // of its exact score. The k-th largest lower bound a − b is at most the exact k-th score, so
    // only rows whose upper bound a + b reaches it can be in the exact top k; those are rescored.
    const { scale, error, out } = q;
    // b = error × (‖query‖ + queryError) + (maxNorm × queryError + slack), the same bound rearranged.
    const perError = queryNorm + queryError;
    const fixed = this.maxNorm * queryError + 1e-9 * (1 + this.maxNorm * queryNorm);
    const lowest = new KthLargest(limit);
    for (let row = 0; row < rows; row += 1) {
      lowest.add(scale[row]! * queryScale * out[row]! - (error[row]! * perError + fixed));
    }
    const threshold = lowest.value();
    const candidates: number[] = [];
    for (let row = 0; row < rows; row += 1) {
      if (scale[row]! * queryScale * out[row]! + (error[row]! * perError + fixed) >= threshold) candidates.push(row);
    }
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
 * The int8 copy of the rows inside a WebAssembly memory of its own, or null when the engine cannot
 * reserve one (each memory reserves address space with guard regions, so a process with very many
 * large bots may be refused one): those bots keep the exact scan alone.
 */
function quantize(module: WebAssembly.Module, data: Float32Array, rows: number, dims: number): Quantized | null {
  const dataBytes = rows * dims;
  const queryOffset = Math.ceil(dataBytes / 16) * 16;
  const outOffset = queryOffset + dims * 2;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: Math.ceil((outOffset + rows * 4) / PAGE) });
  } catch {
    return null;
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  // The memory never grows, so these views stay valid for the matrix's life.
  const quantized: Quantized = {
    rows: new Int8Array(memory.buffer, 0, dataBytes),
    scale: new Float32Array(rows),
    error: new Float32Array(rows),
    scores: instance.exports.scores as Quantized['scores'],
    query: new Int16Array(memory.buffer, queryOffset, dims),
    out: new Int32Array(memory.buffer, outOffset, rows),
    queryOffset,
    outOffset,
  };
  for (let row = 0; row < rows; row += 1) {
    const base = row * dims;
    let largest = 0;
    for (let i = 0; i < dims; i += 1) largest = Math.max(largest, Math.abs(data[base + i]!));
    // A row with a non-finite value cannot be bounded: its int8 copy is zero and its error infinite, so it is always rescored.
    if (!Number.isFinite(largest)) {
      quantized.error[row] = Infinity;
      continue;
    }
    const scale = Math.fround(largest / INT8_MAX);
    let error = 0;
    for (let i = 0; i < dims; i += 1) {
      const value = scale > 0 ? Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(data[base + i]! / scale))) : 0;
      quantized.rows[base + i] = value;
      error += (data[base + i]! - scale * value) ** 2;
    }
    quantized.scale[row] = scale;
    // Rounded up, so the float32 copy of the bound is still a bound.
    quantized.error[row] = Math.fround(Math.sqrt(error) * (1 + 1e-6) + 1e-30);
  }
  return quantized;
}

/** The k-th largest of the values added (k ≥ 1), keeping a small sorted list of the best k seen. */
class KthLargest {
  private readonly best: number[] = [];
  private floor = -Infinity;

  constructor(private readonly k: number) {}

  add(value: number): void {
    const { best, k } = this;
    if (best.length >= k && value <= this.floor) return;
    let at = best.length;
    while (at > 0 && best[at - 1]! < value) at -= 1;
    best.splice(at, 0, value);
    if (best.length > k) best.pop();
    if (best.length >= k) this.floor = best[best.length - 1]!;
  }

  value(): number {
    return this.best.length >= this.k ? this.best[this.best.length - 1]! : -Infinity;
  }
}
