// Number and string text exactly as Maxwell's JVM writes it (Jackson, Float/Double.toString,
// BigDecimal.toString), so our JSON is byte-compatible with Maxwell's where it defines the value.

/**
 * Java's Double.toString / Float.toString (JDK 19+): the shortest decimal that reads back to the
 * same double (or float, with `float`), but never fewer than two significant digits, in decimal
 * form for 1e-3 <= |x| < 1e7 ("100.0", "0.001") and computerized scientific form otherwise
 * ("1.0E10", "4.9E-324"). `v` is the value itself (for a FLOAT, the float32 value).
 */
export function javaFloatingString(v: number, float = false): string {
  // Fast path: in the plain range a double's shortest form is JavaScript's, plus Java's ".0".
  const abs = Math.abs(v);
  if (!float && abs >= 1e-3 && abs < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : `${s}.0`;
  }
  return javaFloatingStringBySearch(v, float);
}

/** The general case of javaFloatingString (exported for its tests). */
export function javaFloatingStringBySearch(v: number, float = false): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const abs = Math.abs(v);
  const [digits, exp] = shortestDigits(abs, float);
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1).replace(/0+$/, '') || '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits.replace(/0+$/, '')}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1).replace(/0+$/, '') || '0'}E${exp}`;
}

/** Significant digits and decimal exponent (d.ddd × 10^exp) of the Java representation. */
function shortestDigits(abs: number, float: boolean): [string, number] {
  const same = (text: string) => (float ? Math.fround(Number(text)) === abs : Number(text) === abs);
  let text = abs.toExponential();
  if (float) {
    for (let p = 1; p <= 9; p++) {
      const candidate = abs.toExponential(p - 1);
      if (same(candidate)) {
        text = candidate;
        break;
      }
    }
  }
  // Java writes at least two digits, choosing the two-digit decimal closest to the value.
  if (!text.split('e')[0].includes('.')) {
    const two = abs.toExponential(1);
    if (same(two)) text = two;
  }
  const [mantissa, expText] = text.split('e');
  return [mantissa.replace('.', ''), Number(expText)];
}

/**
 * Java's BigDecimal.toString for a plain decimal text like "-12.3400": plain unless the
 * adjusted exponent is below -6, then scientific ("0E-8", "1E-7", "-1.23E-10").
 */
export function javaBigDecimalString(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return text;
  const [, signText, intDigits, fracDigits = ''] = m;
  const scale = fracDigits.length;
  if (scale === 0) return text;
  const unscaled = `${intDigits}${fracDigits}`.replace(/^0+(?=\d)/, '');
  const adjusted = -scale + (unscaled.length - 1);
  if (adjusted >= -6) return text;
  const sign = signText === '-' && /[1-9]/.test(unscaled) ? '-' : '';
  const coefficient = unscaled.length > 1 ? `${unscaled[0]}.${unscaled.slice(1)}` : unscaled;
  return `${sign}${coefficient}E${adjusted}`;
}

const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;
const SHORT_ESCAPES: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

/**
 * A JSON string as Jackson's UTF8JsonGenerator writes it: control characters as \b \t \n \f \r
 * or \u00XX (upper-case hex), characters outside the BMP as escaped surrogate pairs
 * (😀 → \uD83D\uDE00), everything else raw.
 */
export function jacksonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff)) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
