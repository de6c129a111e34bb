// A small Markdown renderer that cannot inject HTML: the whole input is HTML-escaped first, then a
// limited set of formatting is applied to the escaped text (paragraphs and line breaks, headings,
// lists, block quotes, fenced and inline code, bold, italic, strikethrough, and links whose URL is
// http(s) or mailto). Model output like `<img src=x onerror=alert(1)>` comes out as that text.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const MARK = '\u0000'; // placeholder delimiter; removed from the input first

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Markdown source → an HTML string that is safe to assign to innerHTML. */
export function renderMarkdown(source) {
  const text = String(source ?? '').replaceAll(MARK, '\uFFFD').replace(/\r\n?/g, '\n');
  return renderBlocks(escapeHtml(text).split('\n'));
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}&gt; ?/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const BLANK = /^\s*$/;

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line)
    || BULLET.test(line) || NUMBERED.test(line);
}

/** Block structure of already-escaped lines. */
function renderBlocks(lines) {
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
    } else if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        quoted.push(lines[i].replace(QUOTE, ''));
        i++;
      }
      out.push(`<blockquote>${renderBlocks(quoted)}</blockquote>`);
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
      while (i < lines.length && !BLANK.test(lines[i]) && (para.length === 0 || !startsBlock(lines[i]))) {
        para.push(lines[i]);
        i++;
      }
      out.push(`<p>${para.map(inline).join('<br>')}</p>`);
    }
  }
  return out.join('');
}

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;
const LINK = /\[([^\]\n]+)\]\(((?:(?!&quot;|&#39;)[^\s)])+)\)/g;
const BARE_URL = /\bhttps?:\/\/(?:(?!&quot;|&#39;|&lt;|&gt;)[^\s])+/g;

/** Inline formatting of one escaped line. */
function inline(text) {
  const held = [];
  const hold = (html) => `${MARK}${held.push(html) - 1}${MARK}`;
  let s = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (m, ticks, code) => hold(`<code>${code.trim()}</code>`));
  s = s.replace(LINK, (m, label, url) => (SAFE_URL.test(url) ? hold(anchor(url, emphasis(label))) : m));
  s = s.replace(BARE_URL, (m) => {
    const url = m.replace(/[.,;:!?)]+$/, '');
    return hold(anchor(url, url)) + m.slice(url.length);
  });
  s = emphasis(s);
  return s.replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (m, n) => held[Number(n)]);
}

function anchor(url, label) {
  // url is escaped text: a quote in it is &quot;, so it cannot leave the attribute
  return `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${label}</a>`;
}

function emphasis(s) {
  return s
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, '$1<em>$2</em>')
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, '$1<em>$2</em>')
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
}
