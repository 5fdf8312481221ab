/**
 * What the page says: numbers, coordinates and distances for people, and
 * errors as sentences rather than codes.
 *
 * @module
 */

const integer = new Intl.NumberFormat("en-US");

/** 1234567 → "1,234,567". */
export function count(n) {
  return integer.format(n);
}

/** "1 feature", "2 features". */
export function plural(n, word) {
  return `${count(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** An E7 point as degrees: "40.7484000°N, 73.9857000°W". */
export function place(point) {
  const lat = (point.latitude ?? 0) / 1e7;
  const lon = (point.longitude ?? 0) / 1e7;
  return `${Math.abs(lat).toFixed(5)}°${lat < 0 ? "S" : "N"}, ${Math.abs(lon).toFixed(5)}°${
    lon < 0 ? "W" : "E"
  }`;
}

/** Metres for people: "850 m", "12,345 m". */
export function distance(metres) {
  return `${count(metres)} m`;
}

/** Seconds for people: "0 s", "75 s (1 min 15 s)". */
export function duration(seconds) {
  if (seconds < 60) return `${count(seconds)} s`;
  return `${count(seconds)} s (${Math.floor(seconds / 60)} min ${seconds % 60} s)`;
}

/** A message with exactly one full stop at its end. */
function sentence(text) {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * A failed call as a sentence: `what` names the thing sent ("point",
 * "rectangle", "route", "note").
 * @param {{code?: string, message?: string, network?: boolean}} error
 * @param {string} what
 */
export function errorSentence(error, what) {
  const message = error?.message ?? String(error);
  if (error?.network) return sentence(message);
  if (error?.status === 505) {
    return sentence(`The server cannot take this ${what} over this HTTP version: ${message}`);
  }
  switch (error?.code) {
    case "invalid_argument":
    case "out_of_range":
      return sentence(`The server refused this ${what}: ${message}`);
    case "resource_exhausted":
      return sentence(`The server is busy and turned this ${what} away: ${message}`);
    case "deadline_exceeded":
      return sentence(`The server took too long to answer: ${message}`);
    case "unavailable":
      return sentence(`The server is not available right now: ${message}`);
    case "unimplemented":
      return sentence(`The server does not offer this call: ${message}`);
    case "canceled":
      return sentence(`The call was cancelled: ${message}`);
    default:
      return sentence(
        `Something went wrong with this ${what}${
          error?.code ? ` (${error.code})` : ""
        }: ${message}`,
      );
  }
}
