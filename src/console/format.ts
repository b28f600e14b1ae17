// How the console writes values for people: money in the shop's currency (Intl.NumberFormat, minor
// units as the currency defines them), times in the shop's time zone with the zone named
// (Intl.DateTimeFormat), and amounts typed by people read back into minor units. Pure functions.
import { z } from 'zod';

const LOCALE = 'en-GB';

/** How many minor units a currency has (2 for EUR, 0 for JPY); 2 when Intl does not know it. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat(LOCALE, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** "€1,234.50" from 123450 cents of EUR. */
export function formatMoney(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  try {
    return new Intl.NumberFormat(LOCALE, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits })
      .format(minor / 10 ** digits);
  } catch {
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

/** The amount in major units as an input field shows it: "1234.50" (no grouping, no symbol). */
export function majorUnits(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  if (digits === 0) return `${sign}${abs}`;
  const scale = 10 ** digits;
  return `${sign}${Math.floor(abs / scale)}.${String(abs % scale).padStart(digits, '0')}`;
}

/**
 * A person's amount in major units ("12", "12.5", "1,234.50") as minor units, exactly (no floating
 * point): at most the currency's minor digits, never negative.
 */
export function moneyInput(currency: string) {
  const digits = minorDigits(currency);
  const shape = digits === 0 ? /^\d{1,13}$/ : new RegExp(`^\\d{1,13}(\\.\\d{1,${digits}})?$`);
  return z.string().trim().transform((s) => s.replace(/[,\s_]/g, ''))
    .refine((s) => shape.test(s), digits === 0 ? 'a whole amount, 0 or more' : `an amount of 0 or more with at most ${digits} decimals`)
    .transform((s) => {
      const [whole, frac = ''] = s.split('.');
      return Number(whole) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
    });
}

export interface ShownTime {
  /** ISO 8601, for <time datetime>. */
  iso: string;
  /** "1 Dec 2026, 21:30 UTC" */
  text: string;
}

/** A moment as people of the shop read it; the zone is always named. */
export function formatTime(iso: string, timeZone = 'UTC'): ShownTime {
  const date = new Date(iso);
  let text: string;
  try {
    text = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
    const zone = new Intl.DateTimeFormat(LOCALE, { timeZone, timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value;
    text = `${text} ${zone ?? timeZone}`;
  } catch {
    text = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }
  return { iso: date.toISOString(), text };
}
