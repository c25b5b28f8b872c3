/** Reads an SSE response into its `data:` payloads, parsed as JSON except the `[DONE]` marker. */
export async function readSse(res: Response): Promise<Array<Record<string, unknown> | '[DONE]'>> {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    )
    .filter((data) => data.length > 0)
    .map((data) => (data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Record<string, unknown>)));
}
