// Characters that are not seen but change what text means or how it renders (P3, O15): controls,
// format characters (zero-width, bidi embeddings/overrides/isolates U+202A–202E/U+2066–2069,
// U+200E/F marks, the BOM), Unicode tag characters (U+E0000–E007F, which can spell hidden ASCII),
// variation selectors and the other default-ignorable code points (Hangul fillers, CGJ), and
// private-use characters (no meaning anyone can check). Removing variation selectors and ZWJ turns
// some emoji sequences into their parts: a small price for text nobody can hide anything in.
// UAX #9 §2 (bidi controls), UTS #39 §3.1 / UAX #44 Default_Ignorable_Code_Point, UTS #18.

const INVISIBLE = /[\p{Cf}\p{Co}\p{Default_Ignorable_Code_Point}\u{E0000}-\u{E007F}]|(?![\t\n])\p{Cc}/gu;
const LINE_BREAKS = /\r\n?|[\u2028\u2029\u0085]/g;

export interface CleanText {
  text: string;
  /** How many characters were removed (invisible, format, control, unpaired surrogate halves). */
  removed: number;
}

function strip(text: string): CleanText {
  let removed = 0;
  const out = text.replace(INVISIBLE, () => { removed++; return ''; });
  return { text: out, removed };
}

/**
 * Unicode text as it is seen: well-formed (unpaired surrogates removed), NFKC (full-width and other
 * compatibility forms folded, UAX #15), line breaks as "\n", and no invisible characters. Stable:
 * cleaning the result again changes nothing.
 */
export function cleanText(input: string): CleanText {
  let removed = 0;
  const wellFormed = input.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, () => { removed++; return ''; });
  const first = strip(wellFormed.replace(LINE_BREAKS, '\n').normalize('NFKC'));
  // Removing a character can bring a base and a mark together: normalise again (and strip what a
  // compatibility mapping might have produced), until nothing changes.
  let text = first.text;
  removed += first.removed;
  for (let i = 0; i < 3; i++) {
    const again = strip(text.normalize('NFKC').replace(LINE_BREAKS, '\n'));
    removed += again.removed;
    if (again.text === text) break;
    text = again.text;
  }
  return { text, removed };
}

/** The same characters made visible instead of removed (as `\u202E`), for JSON shown to people. */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
