// Timestamps without V8's date cache: its first use loads the host's time zone (/etc/localtime
// and ICU, ~1 ms of a create), which a UTC timestamp never needs.

/** Milliseconds since the epoch as RFC 3339 UTC, exactly as Date#toISOString prints them
 *  (years 0 to 9999). */
export function isoTime(ms = Date.now()): string {
  const day = Math.floor(ms / 86_400_000);
  const t = ms - day * 86_400_000;
  // The civil date of a day number: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  const hms = `${p(Math.floor(t / 3_600_000))}:${p(Math.floor(t / 60_000) % 60)}:${p(Math.floor(t / 1000) % 60)}`;
  return `${p(y, 4)}-${p(m)}-${p(d)}T${hms}.${p(t % 1000, 3)}Z`;
}
