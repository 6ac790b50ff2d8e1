/**
 * Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `1G`, `129e6`), read exactly as the API
 * server reads them and kept exact: a value is an integer coefficient times a power of ten (BigInt),
 * never a float, so `1e3` equals `1k` and a request compares with its limit without rounding.
 *
 * The grammar is upstream's, k8s.io/apimachinery/pkg/api/resource/quantity.go (the `Quantity` doc
 * comment, `parseQuantityString` and `ParseQuantity`) and suffix.go (`interpret`):
 *
 * ```
 * <quantity>        ::= <signedNumber><suffix>
 * <signedNumber>    ::= <number> | <sign><number>
 * <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
 * <sign>            ::= "+" | "-"
 * <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
 * <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
 * <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
 * <decimalExponent> ::= "e" <signedInteger> | "E" <signedInteger>
 * ```
 *
 * As upstream's scanner does (rather than its comment), the digits may be missing altogether: `.`,
 * `-`, `Mi` and `e5` are all zero. Suffixes are case-sensitive (`1ki`, `1KiB`, `1e` are refused),
 * and nothing may surround the quantity (`1 Gi`, ` 1` are refused).
 *
 * Where this module differs from upstream, it refuses or keeps exact instead of changing a value:
 * - upstream rounds values finer than 1n up to 1n and caps binary-SI values at 2^63-1; here the
 *   value stays exact, and {@link checkQuantity} refuses CPU finer than 1m (Kubernetes allocates
 *   whole millicores), memory finer than a byte and anything above 2^63-1 millicores or bytes;
 * - upstream truncates an exponent beyond 32 bits (`1e4294967299` is `1e3` there); here it is refused.
 *
 * The accept/reject and rendering tables of test/quantity.test.ts come from upstream's
 * quantity_test.go (`TestQuantityParse`, `TestParseQuantityString`, `TestQuantityString`,
 * `TestQuantityParseEmit`).
 */

/** The three notations of a quantity; a canonical rendering keeps the one the value was written in. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** What a container quantity measures: CPU (cores) or memory (bytes). */
export type ResourceKind = 'cpu' | 'memory';

/** Result of {@link Quantity.parse}: the quantity, or why the text is not one. */
export type QuantityParse =
  | { readonly quantity: Quantity; readonly reason?: undefined }
  | { readonly quantity?: undefined; readonly reason: string };

const DECIMAL_SI: { readonly [suffix: string]: number } = {
  '': 0, 'n': -9, 'u': -6, 'm': -3, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18,
};
const BINARY_SI: { readonly [suffix: string]: number } = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
/** The decimal-SI suffix of each power of ten that has one. */
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL_SI).map(([suffix, exponent]) => [exponent, suffix]));
/** Binary-SI suffixes by power of 1024. */
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const SUFFIX_LETTERS = 'eEinumkKMGTP';
const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2n ** 63n - 1n;

/** The longest quantity accepted, in characters. */
const MAX_LENGTH = 64;

/**
 * An exact Kubernetes quantity: `coefficient * 10^exponent`, with the notation it was written in.
 * Obtain one with {@link Quantity.parse}.
 */
export class Quantity {
  /**
   * Reads `value` as the API server would. Returns the quantity, or the reason `value` is not one
   * (`not a string`, `empty`, `unexpected "b" at position 2`, `unknown suffix "ki"`, ...).
   */
  public static parse(value: unknown): QuantityParse {
    if (typeof value !== 'string') return { reason: `not a string but ${value === null ? 'null' : typeof value}` };
    if (value === '') return { reason: 'empty' };
    // No resource needs more digits than this; a longer string is a mistake (and costs time to read).
    if (value.length > MAX_LENGTH) return { reason: `longer than ${MAX_LENGTH} characters (${value.length})` };
    const scanned = scan(value);
    if (typeof scanned === 'string') return { reason: scanned };
    const { negative, digits, fractionDigits, suffix } = scanned;
    const sign = negative ? -1n : 1n;
    if (Object.hasOwn(BINARY_SI, suffix)) {
      const coefficient = sign * BigInt(digits) * 2n ** BigInt(BINARY_SI[suffix]);
      return { quantity: new Quantity(coefficient, -fractionDigits, 'BinarySI', value) };
    }
    if (Object.hasOwn(DECIMAL_SI, suffix)) {
      return { quantity: new Quantity(sign * BigInt(digits), DECIMAL_SI[suffix] - fractionDigits, 'DecimalSI', value) };
    }
    if (/^[eE][+-]?\d+$/.test(suffix)) {
      const exponent = Number(suffix.slice(1));
      if (Math.abs(exponent) > INT32_MAX) return { reason: `exponent ${suffix.slice(1)} is beyond the 32 bits Kubernetes keeps` };
      return { quantity: new Quantity(sign * BigInt(digits), exponent - fractionDigits, 'DecimalExponent', value) };
    }
    return { reason: `unknown suffix ${JSON.stringify(suffix)} (known: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, e<exponent>)` };
  }

  /** Significant digits of the value, with its sign; no trailing zeros (0n for zero). */
  private readonly coefficient: bigint;
  /** Power of ten the coefficient is multiplied by. */
  private readonly exponent: number;

  private constructor(
    coefficient: bigint,
    exponent: number,
    /** The notation the value was written in, which its canonical rendering keeps. */
    public readonly format: QuantityFormat,
    /** The text the quantity was read from. */
    public readonly text: string,
  ) {
    let c = coefficient;
    let e = c === 0n ? 0 : exponent;
    while (c !== 0n && c % 10n === 0n) {
      c /= 10n;
      e += 1;
    }
    this.coefficient = c;
    this.exponent = e;
  }

  /** -1, 0 or 1: the sign of the value. */
  public get sign(): -1 | 0 | 1 {
    return this.coefficient === 0n ? 0 : this.coefficient < 0n ? -1 : 1;
  }

  /** -1, 0 or 1 as this value is less than, equal to or greater than `other`'s (exactly). */
  public compare(other: Quantity): -1 | 0 | 1 {
    if (this.sign !== other.sign) return this.sign < other.sign ? -1 : 1;
    const magnitude = compareMagnitudes(abs(this.coefficient), this.exponent, abs(other.coefficient), other.exponent);
    return this.sign < 0 ? negate(magnitude) : magnitude;
  }

  /**
   * The value times `10^scale` (`scale` 3: millis) when that is an integer no larger than 2^63-1 in
   * magnitude, as Kubernetes counts it (`MilliValue()`, `Value()`); otherwise `undefined`.
   */
  public scaledInteger(scale: number): bigint | undefined {
    if (this.coefficient === 0n) return 0n;
    const exponent = this.exponent + scale;
    // the coefficient has no trailing zeros, so a negative exponent leaves a fraction
    if (exponent < 0 || decimalDigits(this.coefficient) + exponent > 19) return undefined;
    const value = this.coefficient * 10n ** BigInt(exponent);
    return abs(value) > INT64_MAX ? undefined : value;
  }

  /**
   * Kubernetes' canonical form of the value (what `Quantity.String()` emits): the notation it was
   * written in, no fraction digits, the largest suffix that keeps it exact (`1.5` -> `1500m`,
   * `1.5Gi` -> `1536Mi`, `1000M` -> `1G`, `129e6` -> `129e6`). Binary values below 1Ki or not
   * whole bytes are written in decimal SI, as upstream does. The value is never rounded: one finer
   * than 1n (which Kubernetes would round up) is written with an exponent: `3.001n` -> `3001e-12`.
   */
  public toString(): string {
    if (this.coefficient === 0n) return '0';
    const sign = this.coefficient < 0n ? '-' : '';
    const magnitude = abs(this.coefficient);
    if (this.format === 'BinarySI' && this.exponent >= 0 && compareMagnitudes(magnitude, this.exponent, 1024n, 0) >= 0) {
      let whole = magnitude * 10n ** BigInt(this.exponent);
      let power = 0;
      while (power < BINARY_SUFFIX.length - 1 && whole % 1024n === 0n) {
        whole /= 1024n;
        power += 1;
      }
      return `${sign}${whole}${BINARY_SUFFIX[power]}`;
    }
    // decimal: make the exponent a multiple of three, as upstream's AsCanonicalBytes does
    const shift = ((this.exponent % 3) + 3) % 3;
    let digits = magnitude * 10n ** BigInt(shift);
    let exponent = this.exponent - shift;
    if (this.format === 'DecimalExponent' || exponent < -9) {
      return `${sign}${digits}${exponent === 0 ? '' : `e${exponent}`}`;
    }
    if (exponent > 18) {
      digits *= 10n ** BigInt(exponent - 18);
      exponent = 18;
    }
    return `${sign}${digits}${DECIMAL_SUFFIX.get(exponent)}`;
  }

  /** An approximation of the value as a float (for display only: compare with {@link compare}). */
  public toNumber(): number {
    return Number(this.coefficient) * 10 ** this.exponent;
  }
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b` (exactly: `1e3` equals `1k`). */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.compare(b);
}

/** Kubernetes' canonical rendering of `quantity` (see {@link Quantity.toString}). */
export function formatQuantity(quantity: Quantity): string {
  return quantity.toString();
}

const NAMES: { readonly [kind in ResourceKind]: string } = { cpu: 'CPU', memory: 'memory' };
const EXAMPLES: { readonly [kind in ResourceKind]: string } = { cpu: 'such as "250m" or "1"', memory: 'such as "256Mi" or "1Gi"' };
/** Millicores for CPU, bytes for memory: the unit Kubernetes counts each in (`MilliValue()`, `Value()`). */
const UNIT_SCALE: { readonly [kind in ResourceKind]: number } = { cpu: 3, memory: 0 };
const MEBIBYTE = 2n ** 20n;

/**
 * Rule broken by `value` as the CPU or memory of a container (a request, a limit, an emptyDir size),
 * as a phrase completing "<field> ...", or `undefined` when it is fine. It must be a quantity
 * string Kubernetes accepts, greater than 0, exact for Kubernetes (whole millicores of CPU, whole
 * bytes of memory) and at most 2^63-1 of those units.
 */
export function checkQuantity(value: unknown, what: ResourceKind): string | undefined {
  const { quantity } = Quantity.parse(value);
  if (quantity === undefined) return `must be a ${NAMES[what]} quantity ${EXAMPLES[what]}`;
  return checkResourceQuantity(quantity, what);
}

/** {@link checkQuantity} for a quantity already parsed. */
export function checkResourceQuantity(quantity: Quantity, what: ResourceKind): string | undefined {
  if (quantity.sign <= 0) return `must be a ${NAMES[what]} quantity greater than 0 ${EXAMPLES[what]}`;
  if (quantity.scaledInteger(UNIT_SCALE[what]) !== undefined) return undefined;
  if (quantity.compare(INT64_MAX_UNITS[what]) > 0) {
    return what === 'cpu'
      ? 'must be a CPU quantity of at most 9223372036854775807m (2^63-1 millicores, the most Kubernetes counts)'
      : 'must be a memory quantity of at most 9223372036854775807 (2^63-1 bytes, the most Kubernetes counts)';
  }
  if (what === 'cpu') return 'must be a CPU quantity in whole millicores such as "250m" or "0.25" (1m is the finest CPU unit Kubernetes allocates)';
  return `must be a memory quantity in whole bytes such as "256Mi" or "1G"${
    quantity.text.endsWith('m') ? ' ("m" means thousandths; mebibytes are "Mi")' : ''}`;
}

/**
 * Rule broken by `value` when it exceeds `bound` (a request above its limit), as
 * `must not exceed <boundField> (<bound>)`, compared exactly; `undefined` when it does not, or when
 * either is not a quantity (its own check reports that).
 */
export function checkQuantityNotAbove(value: unknown, bound: unknown, boundField: string): string | undefined {
  const a = Quantity.parse(value).quantity;
  const b = Quantity.parse(bound).quantity;
  if (a === undefined || b === undefined || a.compare(b) <= 0) return undefined;
  return `must not exceed ${boundField} (${String(bound)})`;
}

/**
 * How the construct library writes a container's CPU or memory: CPU in millicores (`250m`,
 * `1000m`), memory in mebibytes when it is a whole number of them (`512Mi`, `1024Mi`), and any
 * other value in its exact canonical form (`1G`, `300000Ki`, `129e6`). Never rounds.
 * @throws when `value` is not a quantity (check it with {@link checkQuantity} first).
 */
export function renderResourceQuantity(value: string, what: ResourceKind): string {
  const { quantity, reason } = Quantity.parse(value);
  if (quantity === undefined) throw new Error(`cannot render ${JSON.stringify(value)} as a ${what} quantity: ${reason}`);
  if (what === 'cpu') {
    const millis = quantity.scaledInteger(3);
    return millis === undefined ? quantity.toString() : `${millis}m`;
  }
  const bytes = quantity.scaledInteger(0);
  return bytes !== undefined && bytes % MEBIBYTE === 0n ? `${bytes / MEBIBYTE}Mi` : quantity.toString();
}

/**
 * The numeric value of a quantity in base units (cores, bytes), approximated as a float, or
 * `undefined` when `value` is not a quantity. For display only: compare quantities exactly with
 * {@link compareQuantities} or {@link checkQuantityNotAbove}.
 */
export function parseQuantity(value: unknown): number | undefined {
  return Quantity.parse(value).quantity?.toNumber();
}

interface Scanned {
  readonly negative: boolean;
  /** Integer and fraction digits together, without the point (`"0"` when there are none). */
  readonly digits: string;
  /** How many of `digits` follow the decimal point. */
  readonly fractionDigits: number;
  readonly suffix: string;
}

/** Upstream's `parseQuantityString`: splits sign, digits and suffix, or says what is malformed. */
function scan(text: string): Scanned | string {
  let pos = 0;
  const negative = text[0] === '-';
  if (text[0] === '-' || text[0] === '+') pos += 1;
  const integer = /^\d*/.exec(text.slice(pos))![0];
  pos += integer.length;
  let fraction = '';
  if (text[pos] === '.') {
    fraction = /^\d*/.exec(text.slice(pos + 1))![0];
    pos += 1 + fraction.length;
  }
  const suffixStart = pos;
  while (pos < text.length && SUFFIX_LETTERS.includes(text[pos])) pos += 1;
  if (text[pos] === '+' || text[pos] === '-') pos += 1;
  while (pos < text.length && /\d/.test(text[pos])) pos += 1;
  if (pos < text.length) return `unexpected ${JSON.stringify(text[pos])} at position ${pos + 1}`;
  return { negative, digits: `${integer}${fraction}` || '0', fractionDigits: fraction.length, suffix: text.slice(suffixStart) };
}

/** The largest count Kubernetes keeps (2^63-1) of each kind's unit: millicores, bytes. */
const INT64_MAX_UNITS: { readonly [kind in ResourceKind]: Quantity } = {
  cpu: Quantity.parse(`${INT64_MAX}m`).quantity!,
  memory: Quantity.parse(`${INT64_MAX}`).quantity!,
};

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function negate(n: -1 | 0 | 1): -1 | 0 | 1 {
  return n === 0 ? 0 : n === 1 ? -1 : 1;
}

function decimalDigits(n: bigint): number {
  return abs(n).toString().length;
}

/** Compares `a * 10^ea` with `b * 10^eb` (a, b >= 0) without building numbers larger than the inputs. */
function compareMagnitudes(a: bigint, ea: number, b: bigint, eb: number): -1 | 0 | 1 {
  if (a === 0n || b === 0n) return a === b ? 0 : a === 0n ? -1 : 1;
  const orderA = decimalDigits(a) + ea;
  const orderB = decimalDigits(b) + eb;
  if (orderA !== orderB) return orderA < orderB ? -1 : 1;
  // same order of magnitude: the exponents differ by at most the digit counts
  const low = Math.min(ea, eb);
  const x = a * 10n ** BigInt(ea - low);
  const y = b * 10n ** BigInt(eb - low);
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * CPU and memory as Kubernetes quantity strings in any form the API server accepts, e.g.
 * `{ cpu: '250m', memory: '256Mi' }`, `{ cpu: '0.5', memory: '1G' }`. Each must be greater than 0,
 * CPU in whole millicores and memory in whole bytes; they are rendered exactly (see
 * {@link renderResourceQuantity}).
 */
export interface ResourceQuantities {
  readonly cpu: string;
  readonly memory: string;
}

/** Requests and limits of a container; every request must be <= its limit. */
export interface ContainerResources {
  readonly requests: ResourceQuantities;
  readonly limits: ResourceQuantities;
}
