// Line breaks and tabs separate words in the names people give files, so they become a space rather than
// gluing the words together.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g
// Cc: controls (split headers, forge log lines). Cf: format characters, among them the bidi overrides, embeddings
// and isolates (U+202A–U+202E, U+2066–U+2069), the marks U+200E/U+200F/U+061C and the zero-width ones: they change
// how a name reads without being seen, so `invoice\u202Etxt.exe` shows as `invoiceexe.txt`.
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu
// A lone surrogate cannot be encoded as UTF-8 (encodeURIComponent throws on it); U+FFFD is what every UTF-8
// encoder writes instead, and it stays visible.
const LONE_SURROGATE = /\p{Cs}/gu

/**
 * The one cleaning every file name goes through before upkit stores or shows it (`fileNameSchema` for `create`,
 * `upkit migrate` for legacy names, `contentDisposition` for downloads, the React lists for rows stored before).
 * Unsafe characters are stripped rather than refused: real file systems allow them (a name copied from a chat
 * often carries U+200E, macOS keeps a BOM a text editor wrote), and refusing would fail an honest upload or a whole
 * migration item over a character nobody can see. NFC first, so `é` typed as `e` + U+0301 is stored as one
 * character and names compare equal however the OS composed them.
 */
export function cleanFileName(name: string): string {
  return name
    .replace(LONE_SURROGATE, '\uFFFD')
    .normalize('NFC')
    .replace(BREAKS, ' ')
    .replace(INVISIBLE, '')
    .trim()
}
