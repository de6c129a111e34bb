// A small Markdown renderer that cannot inject HTML: the whole input is HTML-escaped first, then a
// limited set of formatting is applied to the escaped text (paragraphs and line breaks, headings,
// lists, block quotes, fenced and inline code, bold, italic, strikethrough, and links whose URL is
// http(s) or mailto). Model output like `<img src=x onerror=alert(1)>` comes out as that text.
//
// Content cannot stall or crash it either: block quotes nest at most `maxQuoteDepth` levels (deeper
// `>` markers are text), and every inline pass is one forward scan, so the time is linear in the
// input's length. `renderMessage` is the error boundary the page uses: whatever goes wrong, one
// message falls back to its plain text and the others still render.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const MARK = '\u0000'; // placeholder delimiter; removed from the input first

/** Deepest block-quote nesting rendered; the server's `webclient.markdown_max_quote_depth`. */
export const DEFAULT_MAX_QUOTE_DEPTH = 32;

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * Markdown source → an HTML string that is safe to assign to innerHTML.
 * `options.maxQuoteDepth`: block quotes deeper than this render their `>` markers as text.
 */
export function renderMarkdown(source, options = {}) {
  const depth = Number.isInteger(options.maxQuoteDepth) && options.maxQuoteDepth >= 0
    ? options.maxQuoteDepth : DEFAULT_MAX_QUOTE_DEPTH;
  const text = String(source ?? '').replaceAll(MARK, '\uFFFD').replace(/\r\n?/g, '\n');
  return renderBlocks(escapeHtml(text).split('\n'), depth);
}

/**
 * The error boundary around one message: its Markdown, or, if rendering fails for any reason (say a
 * stack overflow under an operator's very deep quote limit), its plain text, escaped, marked with the
 * class `render-failed`. Never throws, so one message can never keep the others of a batch from showing.
 */
export function renderMessage(source, options = {}) {
  try {
    return renderMarkdown(source, options);
  } catch (e) {
    const text = escapeHtml(String(source ?? '')).replace(/\r\n?|\n/g, '<br>');
    return `<p class="render-failed" title="shown as plain text: it could not be formatted">${text}</p>`;
  }
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}&gt; ?/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const BLANK = /^\s*$/;

function startsBlock(line, quotes) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || (quotes > 0 && QUOTE.test(line))
    || BULLET.test(line) || NUMBERED.test(line);
}

/**
 * Block structure of already-escaped lines; `quotes` is how many more block-quote levels may open
 * (at 0 a `>` line is a paragraph), so the recursion is at most that deep.
 */
function renderBlocks(lines, quotes) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      const code = [];
      i++;
      // an unclosed fence (a reply still streaming) runs to the end
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) {
        code.push(lines[i]);
        i++;
      }
      i++;
      out.push(`<pre><code>${code.join('\n')}</code></pre>`);
    } else if (BLANK.test(line)) {
      i++;
    } else if (HEADING.test(line)) {
      const [, hashes, content] = HEADING.exec(line);
      out.push(`<h${hashes.length}>${inline(content)}</h${hashes.length}>`);
      i++;
    } else if (RULE.test(line)) {
      out.push('<hr>');
      i++;
    } else if (quotes > 0 && QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        quoted.push(lines[i].replace(QUOTE, ''));
        i++;
      }
      out.push(`<blockquote>${renderBlocks(quoted, quotes - 1)}</blockquote>`);
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      const ordered = NUMBERED.test(line);
      const pattern = ordered ? NUMBERED : BULLET;
      const items = [];
      while (i < lines.length && (pattern.test(lines[i]) || (items.length && /^ {2,}\S/.test(lines[i])))) {
        const m = pattern.exec(lines[i]);
        if (m) {
          items.push([ordered ? m[2] : m[1]]);
        } else {
          items[items.length - 1].push(lines[i].trim());
        }
        i++;
      }
      const tag = ordered ? 'ol' : 'ul';
      const start = ordered ? Number(NUMBERED.exec(line)[1]) : 1;
      const attr = ordered && start !== 1 ? ` start="${start}"` : '';
      out.push(`<${tag}${attr}>${items.map((it) => `<li>${it.map(inline).join('<br>')}</li>`).join('')}</${tag}>`);
    } else {
      const para = [];
      while (i < lines.length && !BLANK.test(lines[i]) && (para.length === 0 || !startsBlock(lines[i], quotes))) {
        para.push(lines[i]);
        i++;
      }
      out.push(`<p>${para.map(inline).join('<br>')}</p>`);
    }
  }
  return out.join('');
}

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;
const BARE_URL = /\bhttps?:\/\/(?:(?!&quot;|&#39;|&lt;|&gt;)[^\s])+/g;
const SPACE = /\s/;

// Every inline pass below is a single left-to-right scan (no pattern that can retry from each start
// over the rest of the line): a 32,000-character line of `[a](`, `**a ` or backticks renders in about
// the time of plain text of that length, so a reply that is re-rendered at every streamed update
// cannot stall the page.

/** Inline formatting of one escaped line. */
function inline(text) {
  const held = [];
  const hold = (html) => `${MARK}${held.push(html) - 1}${MARK}`;
  let s = codeSpans(text, (code) => hold(`<code>${code.trim()}</code>`));
  s = links(s, (label, url) => hold(anchor(url, emphasis(label))));
  s = s.replace(BARE_URL, (m) => {
    const url = m.replace(/[.,;:!?)]+$/, '');
    return hold(anchor(url, url)) + m.slice(url.length);
  });
  s = emphasis(s);
  return s.replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (m, n) => held[Number(n)]);
}

/**
 * Code spans: a run of n backticks up to the next run of exactly n; a run with no such partner is
 * literal. Each length's runs are visited once, in order, so the scan is linear.
 */
function codeSpans(s, span) {
  const runs = [];
  for (let i = s.indexOf('`'); i !== -1; i = s.indexOf('`', i)) {
    let j = i;
    while (s[j] === '`') {
      j++;
    }
    runs.push([i, j - i]);
    i = j;
  }
  if (runs.length < 2) {
    return s;
  }
  const byLength = new Map(); // length → indexes into runs, ascending
  runs.forEach(([, n], r) => (byLength.get(n) ?? byLength.set(n, []).get(n)).push(r));
  const next = new Map(); // length → position in byLength's list not yet passed
  let out = '';
  let at = 0;
  for (let r = 0; r < runs.length; r++) {
    const [pos, n] = runs[r];
    const same = byLength.get(n);
    let k = next.get(n) ?? 0;
    while (k < same.length && same[k] <= r) {
      k++;
    }
    next.set(n, k);
    if (k < same.length) {
      const close = runs[same[k]][0];
      out += s.slice(at, pos) + span(s.slice(pos + n, close));
      at = close + n;
      r = same[k];
    }
  }
  return out + s.slice(at);
}

/**
 * `[label](url)`: the label runs to the next `]`, the URL to the next space, `)`, quote or held
 * placeholder; an unsafe URL leaves the text as it is. Both ends are found with one forward-moving
 * search each (a `[` that fails shares its `]` and its URL end with every `[` before them).
 */
function links(s, link) {
  let out = '';
  let at = 0; // s before this is in out
  let close = -1; // the first `]` at or after the last search
  let stop = -1; // the first URL-ending character at or after the last search
  for (let i = s.indexOf('['); i !== -1; i = s.indexOf('[', i)) {
    if (close <= i) {
      close = s.indexOf(']', i + 1);
      if (close === -1) {
        break;
      }
    }
    if (close === i + 1 || s[close + 1] !== '(') {
      i = close + 1 > i + 1 ? close + 1 : i + 1;
      continue;
    }
    const from = close + 2;
    if (stop < from) {
      stop = urlEnd(s, from);
    }
    if (stop === from || s[stop] !== ')') {
      i = close + 1;
      continue;
    }
    const label = s.slice(i + 1, close);
    const url = s.slice(from, stop);
    if (SAFE_URL.test(url)) {
      out += s.slice(at, i) + link(label, url);
      at = stop + 1;
    }
    i = stop + 1;
  }
  return at === 0 ? s : out + s.slice(at);
}

function urlEnd(s, from) {
  let k = from;
  while (k < s.length && !SPACE.test(s[k]) && s[k] !== ')' && s[k] !== MARK
    && !s.startsWith('&quot;', k) && !s.startsWith('&#39;', k)) {
    k++;
  }
  return k;
}

function anchor(url, label) {
  // url is escaped text: a quote in it is &quot;, so it cannot leave the attribute
  return `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${label}</a>`;
}

const isWord = (c) => c !== undefined && /\w/.test(c);
const isSpace = (c) => c === undefined || SPACE.test(c);

function emphasis(s) {
  s = pairs(s, '**', 'strong', () => true, () => true);
  s = pairs(s, '__', 'strong', (before) => !isWord(before), (after) => !isWord(after));
  s = s
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, '$1<em>$2</em>')
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, '$1<em>$2</em>');
  return pairs(s, '~~', 'del', () => true, () => true);
}

/**
 * `<tag>` around the text between an opening `delim` (not followed by a space; `openOk` of the
 * character before it) and the nearest closing one (not preceded by a space; `closeOk` of the
 * character after it). Whether a closer qualifies does not depend on the opener, so once an opener
 * finds none, none later can: the scan stops. The closer search only moves forward: linear.
 */
function pairs(s, delim, tag, openOk, closeOk) {
  const d = delim.length;
  let out = '';
  let at = 0;
  let closer = -1; // the first qualifying closer at or after the last search
  for (let i = s.indexOf(delim); i !== -1; i = s.indexOf(delim, i + 1)) {
    if (isSpace(s[i + d]) || !openOk(s[i - 1])) {
      continue;
    }
    if (closer < i + d + 1) {
      closer = i + d + 1;
      while (closer !== -1) {
        closer = s.indexOf(delim, closer);
        if (closer === -1 || (!isSpace(s[closer - 1]) && closeOk(s[closer + d]))) {
          break;
        }
        closer++;
      }
      if (closer === -1) {
        break;
      }
    }
    out += `${s.slice(at, i)}<${tag}>${s.slice(i + d, closer)}</${tag}>`;
    at = closer + d;
    i = at - 1;
  }
  return at === 0 ? s : out + s.slice(at);
}
