/**
 * The map: an SVG plot of points by their coordinates (an equirectangular
 * projection scaled by the cosine of the middle latitude, so a degree of
 * longitude is as wide as it is on the ground there), with layers of feature
 * dots, a graticule, the rectangle being dragged, the route and markers.
 * Coordinates in and out are E7 integers, as on the wire.
 *
 * @module
 */

const SVG = "http://www.w3.org/2000/svg";
/** The viewBox's size; the SVG scales it to the page. */
const WIDTH = 1000;
const HEIGHT = 640;
/** A pointer that moves less than this (in viewBox units) between down and up clicked. */
const DRAG_THRESHOLD = 6;
/** A click this close (viewBox units) to a dot picks that dot's feature. */
const SNAP_DISTANCE = 12;
/** Lines of the graticule, in degrees: the first step that gives at most 10 lines across. */
const STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 45];

/** Creates an SVG element with attributes. */
export function svgElement(name, attributes = {}) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** The whole world, as bounds in degrees. */
export const WORLD = { minLat: -90, maxLat: 90, minLon: -180, maxLon: 180 };

/**
 * A projection fitting `bounds` (degrees) into the viewBox with a margin.
 * @param {{minLat: number, maxLat: number, minLon: number, maxLon: number}} bounds
 */
export function createProjection(bounds) {
  const latSpan = Math.max(bounds.maxLat - bounds.minLat, 0.01);
  const lonSpan = Math.max(bounds.maxLon - bounds.minLon, 0.01);
  const midLat = (bounds.maxLat + bounds.minLat) / 2;
  const midLon = (bounds.maxLon + bounds.minLon) / 2;
  const kx = Math.max(Math.cos((midLat * Math.PI) / 180), 0.2);
  const scale = Math.min((WIDTH * 0.9) / (lonSpan * kx), (HEIGHT * 0.88) / latSpan);
  return {
    /** viewBox coordinates of a point in degrees. */
    project(lat, lon) {
      return { x: WIDTH / 2 + (lon - midLon) * kx * scale, y: HEIGHT / 2 - (lat - midLat) * scale };
    },
    /** Degrees of a point in viewBox coordinates, clamped to the globe. */
    unproject(x, y) {
      const lat = midLat - (y - HEIGHT / 2) / scale;
      const lon = midLon + (x - WIDTH / 2) / (kx * scale);
      return { lat: clamp(lat, -90, 90), lon: clamp(lon, -180, 180) };
    },
  };
}

function clamp(value, lo, hi) {
  return Math.min(hi, Math.max(lo, value));
}

/** Degrees from E7. */
export const fromE7 = (value) => value / 1e7;
/** E7 from degrees, rounded to the nearest unit. */
export const toE7 = (degrees) => Math.round(degrees * 1e7);

/**
 * The map inside `svg`.
 * @param {SVGSVGElement} svg
 * @param {{onClick(point: {latitude: number, longitude: number}, feature?: object): void,
 *   onRectangle(lo: {latitude: number, longitude: number}, hi: {latitude: number, longitude: number}): void}} handlers
 */
export function createMap(svg, handlers) {
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  const groups = {};
  for (const name of ["graticule", "base", "result", "route", "markers", "labels", "drag"]) {
    groups[name] = svg.appendChild(svgElement("g", { class: `layer-${name}` }));
  }
  let projection = createProjection(WORLD);
  let bounds = WORLD;
  /** Whatever must be drawn again when the projection changes. */
  const redraws = new Set();

  const layers = {
    base: createDotLayer(groups.base, () => projection),
    result: createDotLayer(groups.result, () => projection),
  };
  redraws.add(() => layers.base.redraw());
  redraws.add(() => layers.result.redraw());

  function fit(newBounds) {
    bounds = newBounds;
    projection = createProjection(newBounds);
    drawGraticule(groups.graticule, bounds, projection);
    for (const redraw of redraws) redraw();
  }
  fit(WORLD);

  attachPointer(svg, {
    toDegrees(event) {
      const ctm = svg.getScreenCTM();
      if (ctm === null) return undefined;
      const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
      return { x: p.x, y: p.y, ...projection.unproject(p.x, p.y) };
    },
    drag: groups.drag,
    click(at) {
      const nearest = [layers.result, layers.base]
        .map((layer) => layer.nearest(at.x, at.y))
        .filter((hit) => hit !== undefined && hit.distance <= SNAP_DISTANCE)
        .sort((a, b) => a.distance - b.distance)[0];
      if (nearest) handlers.onClick(nearest.feature.location, nearest.feature);
      else handlers.onClick({ latitude: toE7(at.lat), longitude: toE7(at.lon) });
    },
    rectangle(from, to) {
      handlers.onRectangle(
        { latitude: toE7(from.lat), longitude: toE7(from.lon) },
        { latitude: toE7(to.lat), longitude: toE7(to.lon) },
      );
    },
  });

  /** A redrawable overlay: `draw(group, projection)` after clearing the group. */
  function overlay(groupName) {
    const group = svg.appendChild(svgElement("g", { class: `layer-${groupName}` }));
    groups.drag.before(group);
    let draw;
    const redraw = () => {
      group.replaceChildren();
      draw?.(group, projection);
    };
    redraws.add(redraw);
    return (next) => {
      draw = next;
      redraw();
    };
  }

  return {
    layers,
    /** Fits the view to bounds in degrees. */
    fit,
    /** The bounds in view, in degrees. */
    get bounds() {
      return bounds;
    },
    /** viewBox coordinates of an E7 point. */
    project(point) {
      return projection.project(fromE7(point.latitude), fromE7(point.longitude));
    },
    /** The element the page is drawn in. */
    svg,
    overlay,
  };
}

/**
 * Draws lines of equal latitude and longitude with their labels, at a round
 * step that gives a handful of lines.
 */
function drawGraticule(group, bounds, projection) {
  group.replaceChildren();
  const topLeft = projection.unproject(0, 0);
  const bottomRight = projection.unproject(WIDTH, HEIGHT);
  const span = Math.max(bottomRight.lon - topLeft.lon, topLeft.lat - bottomRight.lat);
  const step = STEPS.find((s) => span / s <= 10) ?? 90;
  const decimals = Math.max(0, Math.ceil(-Math.log10(step)));
  const label = (v, pos, neg) => `${Math.abs(v).toFixed(decimals)}°${v >= 0 ? pos : neg}`;
  for (let lon = Math.ceil(topLeft.lon / step) * step; lon <= bottomRight.lon; lon += step) {
    const { x } = projection.project(0, lon);
    group.append(svgElement("line", { x1: x, x2: x, y1: 0, y2: HEIGHT, class: "grid" }));
    const text = svgElement("text", { x: x + 4, y: HEIGHT - 8, class: "grid-label" });
    text.textContent = label(lon, "E", "W");
    group.append(text);
  }
  for (let lat = Math.ceil(bottomRight.lat / step) * step; lat <= topLeft.lat; lat += step) {
    const { y } = projection.project(lat, bounds.minLon);
    group.append(svgElement("line", { x1: 0, x2: WIDTH, y1: y, y2: y, class: "grid" }));
    const text = svgElement("text", { x: 6, y: y - 4, class: "grid-label" });
    text.textContent = label(lat, "N", "S");
    group.append(text);
  }
}

/**
 * A fixed set of slots, each showing one feature as a dot: a bounded sample
 * replaces slots instead of growing the page.
 */
function createDotLayer(group, getProjection) {
  /** @type {{feature: object, dot: SVGCircleElement, x: number, y: number}[]} */
  const slots = [];

  function place(slot) {
    const { feature, dot } = slot;
    const p = getProjection().project(
      fromE7(feature.location.latitude),
      fromE7(feature.location.longitude),
    );
    slot.x = p.x;
    slot.y = p.y;
    dot.setAttribute("cx", p.x.toFixed(1));
    dot.setAttribute("cy", p.y.toFixed(1));
  }

  return {
    /** Shows `feature` in slot `index` (the next free one, or one to replace). */
    set(index, feature) {
      let slot = slots[index];
      if (slot === undefined) {
        const dot = svgElement("circle", { r: 4.5 });
        dot.append(svgElement("title"));
        group.append(dot);
        slot = slots[index] = { feature, dot, x: 0, y: 0 };
      }
      slot.feature = feature;
      const { dot } = slot;
      const name = feature.name ?? "";
      dot.setAttribute("class", name ? "dot" : "dot unnamed");
      dot.dataset.name = name;
      dot.dataset.latitude = String(feature.location.latitude ?? 0);
      dot.dataset.longitude = String(feature.location.longitude ?? 0);
      dot.firstChild.textContent = name || "(a feature without a name)";
      place(slot);
    },
    /** How many slots are shown. */
    get size() {
      return slots.length;
    },
    /** The features shown. */
    features() {
      return slots.map((slot) => slot.feature);
    },
    clear() {
      slots.length = 0;
      group.replaceChildren();
    },
    redraw() {
      for (const slot of slots) place(slot);
    },
    /** The shown feature nearest to (x, y) in viewBox units, with its distance. */
    nearest(x, y) {
      let best;
      for (const slot of slots) {
        const distance = Math.hypot(slot.x - x, slot.y - y);
        if (best === undefined || distance < best.distance) {
          best = { feature: slot.feature, distance };
        }
      }
      return best;
    },
  };
}

/**
 * Pointer handling: a press and release in (nearly) one place is a click; a
 * press, move and release draws a rectangle.
 */
function attachPointer(svg, options) {
  let start;
  let box;
  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    start = options.toDegrees(event);
    if (start === undefined) return;
    svg.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  svg.addEventListener("pointermove", (event) => {
    if (start === undefined) return;
    const at = options.toDegrees(event);
    if (at === undefined) return;
    if (!box && Math.hypot(at.x - start.x, at.y - start.y) < DRAG_THRESHOLD) return;
    box ??= options.drag.appendChild(svgElement("rect", { class: "drag" }));
    box.setAttribute("x", Math.min(start.x, at.x).toFixed(1));
    box.setAttribute("y", Math.min(start.y, at.y).toFixed(1));
    box.setAttribute("width", Math.abs(at.x - start.x).toFixed(1));
    box.setAttribute("height", Math.abs(at.y - start.y).toFixed(1));
  });
  const finish = (event, cancelled) => {
    if (start === undefined) return;
    const from = start;
    start = undefined;
    const dragged = box !== undefined;
    box?.remove();
    box = undefined;
    if (cancelled) return;
    const at = options.toDegrees(event);
    if (at === undefined) return;
    if (dragged) options.rectangle(from, at);
    else options.click(at);
  };
  svg.addEventListener("pointerup", (event) => finish(event, false));
  svg.addEventListener("pointercancel", (event) => finish(event, true));
}
