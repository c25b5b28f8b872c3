const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * The sample site of the demo page: a made-up shop with the widget embedded the way an owner would.
 * `host` is this server as the visitor reaches it, so the snippet can be copied as it stands.
 */
export function demoPage(bot: { id: string; slug: string; name: string } | null, host: string): string {
  const embed = bot
    ? `<script src="/widget.js" data-bot="${escapeHtml(bot.id)}" async></script>`
    : '<!-- no chatbot yet: create one with the API and reload -->';
  const note = bot
    ? `The chat bubble in the corner is <strong>${escapeHtml(bot.name)}</strong> (<code>${escapeHtml(bot.id)}</code>), embedded with one script tag.`
    : 'There is no chatbot yet. Create one with <code>POST /api/v1/chatbots</code> and reload this page.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>Northwind Outdoor — Wisp demo</title>
<link rel="icon" href="/favicon.ico">
<style>
  body { margin: 0; font: 16px/1.6 Georgia, serif; color: #1c1917; background: #fafaf9; }
  header { background: #14532d; color: #f0fdf4; padding: 1.5rem 2rem; }
  header h1 { margin: 0; font-size: 1.6rem; }
  main { max-width: 46rem; margin: 0 auto; padding: 2rem; }
  .note { background: #fef9c3; border: 1px solid #eab308; border-radius: 8px; padding: 1rem 1.25rem; }
  code, pre { font: 14px ui-monospace, monospace; }
  pre { background: #1c1917; color: #fafaf9; padding: 1rem; border-radius: 8px; white-space: pre-wrap; overflow-wrap: anywhere; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 1rem; }
  .card { background: #fff; border: 1px solid #e7e5e4; border-radius: 8px; padding: 1rem; }
</style>
</head>
<body>
<header><h1>Northwind Outdoor</h1><p>Tents, packs and trail advice since 1998.</p></header>
<main>
  <p class="note">${note}</p>
  <h2>Embed it on your own site</h2>
  <pre>${escapeHtml(`<script src="${host}/widget.js" data-bot="${bot?.slug ?? 'BOT_ID_OR_SLUG'}" async></script>`)}</pre>
  <h2>This season</h2>
  <div class="grid">
    <div class="card"><h3>Ridge 2 tent</h3><p>Two-person, 1.6 kg, three seasons.</p></div>
    <div class="card"><h3>Summit 40 pack</h3><p>Forty litres, adjustable back, rain cover included.</p></div>
    <div class="card"><h3>Trail kit</h3><p>Stove, pot and mug that nest in one another.</p></div>
  </div>
</main>
${embed}
</body>
</html>
`;
}
