// Drives the web client's Markdown renderer (src/main/resources/com/aichat/web/webroot/app/markdown.js)
// with hostile content, for com.aichat.web.MarkdownRendererTest (issue 24 finding 7). Prints one line,
// `RESULT <json>`, with what it observed; the Java test makes the assertions. Run with a small V8
// stack (the test passes --stack-size) so that the error boundary is exercised without huge inputs.
const { renderMarkdown, renderMessage, DEFAULT_MAX_QUOTE_DEPTH } =
  await import('../../main/resources/com/aichat/web/webroot/app/markdown.js');

const N = 32_000;
const fill = (unit) => unit.repeat(Math.ceil(N / unit.length)).slice(0, N);
const count = (html, s) => html.split(s).length - 1;

/** The fastest of a few renders (the first ones include compiling), in milliseconds. */
function time(input) {
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    renderMarkdown(input);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

function attempt(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: `${e.constructor.name}: ${e.message}` };
  }
}

const result = { defaultMaxQuoteDepth: DEFAULT_MAX_QUOTE_DEPTH, timings: {}, cases: {} };

// Linear time: each hostile line of 32,000 characters against ordinary Markdown of the same length.
const benignText = fill('Here is **bold** and _italic_ text, `code`, a [link](https://example.com/page) and ~~this~~.\n');
result.timings.benign = time(benignText);
for (const [name, unit] of Object.entries({
  links: '[a](', images: '![a](', brackets: '[', bold: '**a ', underscores: '__a ', strike: '~~a ',
  backticks: '``a`', mixedTicks: '`` ``` ', openTicks: '`a', linkRun: '[a](http://x', urls: 'http://x',
})) {
  result.timings[name] = time(fill(unit));
}

// 5,094 nested quote markers on one line, and one more level on each of 3,000 lines.
const deep = `${'>'.repeat(5094)} deep`;
const stairs = Array.from({ length: 3000 }, (_, i) => `${'>'.repeat(i + 1)} step ${i}`).join('\n');
for (const [name, input] of Object.entries({ deep, stairs })) {
  const r = attempt(() => renderMarkdown(input));
  result.cases[name] = r.ok ? { ok: true, blockquotes: count(r.value, '<blockquote>'), tail: r.value.slice(-80) } : r;
}
const capped = attempt(() => renderMarkdown('>>>> four', { maxQuoteDepth: 2 }));
result.cases.capped = capped.ok ? { ok: true, html: capped.value } : capped;

// The error boundary: with an absurd depth limit the same content overflows the stack in
// renderMarkdown, and renderMessage shows it as escaped plain text instead of throwing.
const unbounded = attempt(() => renderMarkdown(deep, { maxQuoteDepth: 1_000_000 }));
const boundary = attempt(() => renderMessage(`${deep} <img src=x onerror=alert(1)>`, { maxQuoteDepth: 1_000_000 }));
result.cases.unbounded = { ok: unbounded.ok, error: unbounded.error ?? null };
result.cases.boundary = boundary.ok
  ? { ok: true, failedClass: boundary.value.startsWith('<p class="render-failed"'),
    img: boundary.value.includes('<img'), escapedImg: boundary.value.includes('&lt;img src=x'), length: boundary.value.length }
  : boundary;

// Links and formatting still work, and unsafe links stay text.
result.cases.formatting = { ok: true, html: renderMarkdown('**b** _i_ `c` [x](https://a.example/p) [y](javascript:alert(1)) ~~d~~ ``e ` f``') };

console.log(`RESULT ${JSON.stringify(result)}`);
