/** Distance and validation costs: `deno task bench`. */

import { haversineMeters, pointProblem } from "../lib/core/geo.ts";

const a = { latitude: 407484000, longitude: -739857000 };
const b = { latitude: 407061000, longitude: -739969000 };

Deno.bench("haversineMeters between two E7 points", () => {
  haversineMeters(a, b);
});

Deno.bench("pointProblem on a valid point", () => {
  pointProblem(a);
});
