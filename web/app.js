/**
 * The RouteGuide page: wires the map, the forms and the four RPCs (over the
 * Connect protocol with JSON, `connect.js`) together.
 *
 * @module
 */

import { createConnectClient } from "./connect.js";
import { createLister, SAMPLE_LIMIT, WORLD_RECTANGLE } from "./listing.js";
import { createMap, fromE7, svgElement, toE7 } from "./map.js";
import { count, distance, duration, errorSentence, place, plural } from "./words.js";

/** Names listed in the side panel at most; the map shows up to SAMPLE_LIMIT. */
const LIST_LIMIT = 300;
/** A rectangle's features get name labels on the map when there are at most this many. */
const LABEL_LIMIT = 30;

const $ = (id) => document.getElementById(id);

/** The page's state and its parts. */
function createApp() {
  const client = createConnectClient({
    baseUrl: location.origin,
    service: "routeguide.RouteGuide",
  });
  const lister = createLister(client);
  const map = createMap($("map"), {
    onClick: (point, feature) => clicked(point, feature),
    onRectangle: (lo, hi) => {
      fillRectangleForm(lo, hi);
      listRectangle({ lo, hi });
    },
  });
  const drawRectangle = map.overlay("rectangle");
  const drawLabels = map.overlay("labels");
  const drawRoute = map.overlay("route");
  const drawMarker = map.overlay("marker");
  /** @type {{latitude: number, longitude: number, name?: string}[]} */
  const route = [];

  function mode() {
    return document.querySelector('input[name="mode"]:checked')?.value ?? "lookup";
  }

  function clicked(point, feature) {
    if (mode() === "route") addRoutePoint(point, feature);
    else if (mode() === "note") {
      setPointInputs("note", point);
      $("note-message").focus();
      drawMarker(markerAt(point, "note"));
    } else {
      setPointInputs("lookup", point);
      lookup(point);
    }
  }

  // --- ListFeatures: the world at start, then rectangles -----------------

  /** Lists `rectangle` into `layer`; `world` fits the view to what comes. */
  function runListing(rectangle, { layer, world, status }) {
    layer.clear();
    const names = startFeatureList(world ? "Features" : "Features in the rectangle");
    lister.list(rectangle, {
      onFrame({ count: seen, changed }) {
        for (const [slot, feature] of changed) layer.set(slot, feature);
        names.add(changed.values());
        if (world) fitTo(layer.features());
        status(`Listing… ${plural(seen, "feature")} so far`, seen);
      },
      onEnd({ count: seen, error, aborted }) {
        if (aborted) return;
        names.done(seen);
        if (error) {
          status(`${errorSentence(error, "rectangle")} (${plural(seen, "feature")} before that.)`);
          return;
        }
        const shown = Math.min(seen, SAMPLE_LIMIT);
        const sample = seen > SAMPLE_LIMIT
          ? ` — showing ${count(shown)} of ${count(seen)}, a random sample`
          : "";
        status(`${plural(seen, "feature")}${world ? "" : " in this rectangle"}${sample}.`, seen);
        if (!world) {
          drawLabels(seen <= LABEL_LIMIT ? labelsFor(layer.features()) : undefined);
        }
        $("list-status").dataset.done = "true";
      },
    });
  }

  function loadWorld() {
    map.layers.result.clear();
    drawRectangle(undefined);
    drawLabels(undefined);
    setListStatus("Loading the features…");
    runListing(WORLD_RECTANGLE, {
      layer: map.layers.base,
      world: true,
      status: (text, seen) => {
        setListStatus(text, seen);
        $("status").textContent = seen === undefined ? text : `${plural(seen, "feature")}`;
      },
    });
  }

  function listRectangle(rectangle) {
    drawRectangle((group, projection) => {
      const a = projection.project(fromE7(rectangle.lo.latitude), fromE7(rectangle.lo.longitude));
      const b = projection.project(fromE7(rectangle.hi.latitude), fromE7(rectangle.hi.longitude));
      const rect = svgElement("rect", {
        class: "selection",
        x: Math.min(a.x, b.x),
        y: Math.min(a.y, b.y),
        width: Math.abs(a.x - b.x),
        height: Math.abs(a.y - b.y),
      });
      Object.assign(rect.dataset, pointData("lo", rectangle.lo));
      Object.assign(rect.dataset, pointData("hi", rectangle.hi));
      group.append(rect);
    });
    drawLabels(undefined);
    $("rect-result").textContent = "";
    const status = (text, seen) => {
      setListStatus(text, seen);
      $("rect-result").textContent = text;
    };
    status("Listing…", 0);
    runListing(rectangle, { layer: map.layers.result, world: false, status });
  }

  function setListStatus(text, seen) {
    const element = $("list-status");
    element.textContent = text;
    delete element.dataset.done;
    if (seen !== undefined) element.dataset.count = String(seen);
  }

  function fitTo(features) {
    if (features.length === 0) return;
    let minLat = 90, maxLat = -90, minLon = 180, maxLon = -180;
    for (const { location } of features) {
      const lat = fromE7(location.latitude ?? 0);
      const lon = fromE7(location.longitude ?? 0);
      minLat = Math.min(minLat, lat);
      maxLat = Math.max(maxLat, lat);
      minLon = Math.min(minLon, lon);
      maxLon = Math.max(maxLon, lon);
    }
    const b = map.bounds;
    if (b.minLat !== minLat || b.maxLat !== maxLat || b.minLon !== minLon || b.maxLon !== maxLon) {
      map.fit({ minLat, maxLat, minLon, maxLon });
    }
  }

  /** Name labels beside each named feature. */
  function labelsFor(features) {
    return (group, projection) => {
      for (const feature of features) {
        if (!feature.name) continue;
        const p = projection.project(
          fromE7(feature.location.latitude ?? 0),
          fromE7(feature.location.longitude ?? 0),
        );
        const text = svgElement("text", { x: p.x + 8, y: p.y + 4, class: "label" });
        text.textContent = shortName(feature.name);
        group.append(text);
      }
    };
  }

  /** The side panel's list of names, filled as features arrive. */
  function startFeatureList(heading) {
    $("features-heading").textContent = heading;
    const list = $("feature-list");
    list.replaceChildren();
    $("feature-list-more").textContent = "";
    let listed = 0;
    return {
      add(features) {
        for (const feature of features) {
          if (listed >= LIST_LIMIT || !feature.name) continue;
          listed++;
          list.append(featureItem(feature));
        }
      },
      done(seen) {
        $("feature-list-more").textContent = seen > listed
          ? `${plural(listed, "name")} listed of ${
            plural(seen, "feature")
          } (features without a name are not listed).`
          : "";
      },
    };
  }

  function featureItem(feature) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "feature";
    button.textContent = feature.name;
    button.title = place(feature.location);
    button.addEventListener("click", () => clicked(feature.location, feature));
    item.append(button);
    return item;
  }

  // --- GetFeature ----------------------------------------------------------

  async function lookup(point) {
    const result = $("lookup-result");
    result.textContent = "Looking up…";
    result.className = "result";
    drawMarker(markerAt(point, "lookup"));
    try {
      const feature = await client.unary("GetFeature", point);
      if (feature.name) {
        result.textContent = `${feature.name} (${place(point)})`;
        drawMarker(markerAt(point, "lookup", shortName(feature.name)));
      } else {
        result.textContent = `No feature here (${place(point)}).`;
      }
    } catch (error) {
      result.textContent = errorSentence(error, "point");
      result.className = "result error";
    }
  }

  // --- RecordRoute ---------------------------------------------------------

  function addRoutePoint(point, feature) {
    route.push({
      latitude: point.latitude ?? 0,
      longitude: point.longitude ?? 0,
      name: feature?.name,
    });
    renderRoute();
  }

  function renderRoute() {
    const list = $("route-points");
    list.replaceChildren(
      ...route.map((p) => {
        const item = document.createElement("li");
        Object.assign(item.dataset, pointData("", p));
        item.textContent = p.name ? `${shortName(p.name)} (${place(p)})` : place(p);
        return item;
      }),
    );
    $("route-send").disabled = route.length === 0;
    $("route-clear").disabled = route.length === 0;
    drawRoute((group, projection) => {
      const points = route.map((p) => projection.project(fromE7(p.latitude), fromE7(p.longitude)));
      if (points.length > 1) {
        const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(
          "",
        );
        group.append(svgElement("path", { d, class: "route-line" }));
      }
      points.forEach((p, i) => {
        group.append(svgElement("circle", { cx: p.x, cy: p.y, r: 9, class: "route-stop" }));
        const text = svgElement("text", { x: p.x, y: p.y + 3.5, class: "route-number" });
        text.textContent = String(i + 1);
        group.append(text);
      });
    });
  }

  async function sendRoute() {
    const result = $("route-result");
    const points = route.map(({ latitude, longitude }) => ({ latitude, longitude }));
    result.textContent = `Recording ${plural(points.length, "point")}…`;
    result.className = "result";
    $("route-summary").hidden = true;
    try {
      let summary;
      for await (const answer of client.stream("RecordRoute", points)) summary = answer;
      if (summary === undefined) throw new Error("the server sent no summary");
      showSummary(summary);
      result.textContent = "The server recorded the route.";
    } catch (error) {
      result.textContent = errorSentence(error, "route");
      result.className = "result error";
    }
  }

  function showSummary(summary) {
    const fields = {
      "summary-points": [summary.pointCount ?? 0, (n) => plural(n, "point")],
      "summary-features": [summary.featureCount ?? 0, (n) => plural(n, "feature")],
      "summary-distance": [summary.distance ?? 0, distance],
      "summary-elapsed": [summary.elapsedTime ?? 0, duration],
    };
    for (const [id, [value, format]] of Object.entries(fields)) {
      $(id).textContent = format(value);
      $(id).dataset.value = String(value);
    }
    $("route-summary").hidden = false;
  }

  // --- RouteChat -----------------------------------------------------------

  async function leaveNote() {
    const location = readPoint("note");
    const message = $("note-message").value;
    const result = $("note-result");
    const earlier = $("note-earlier");
    result.textContent = "Sending the note…";
    result.className = "result";
    earlier.replaceChildren();
    drawMarker(markerAt(location, "note"));
    try {
      const notes = [];
      for await (const note of client.stream("RouteChat", [{ location, message }])) {
        notes.push(note);
      }
      result.textContent = notes.length === 0
        ? `Your note is the first at ${place(location)}.`
        : `Your note joins ${plural(notes.length, "earlier note")} at ${place(location)}:`;
      earlier.replaceChildren(
        ...notes.map((note) => {
          const item = document.createElement("li");
          item.textContent = note.message ?? "";
          return item;
        }),
      );
      $("note-message").value = "";
    } catch (error) {
      result.textContent = errorSentence(error, "note");
      result.className = "result error";
    }
  }

  // --- forms -----------------------------------------------------------------

  function setPointInputs(prefix, point) {
    $(`${prefix}-lat`).value = String(fromE7(point.latitude ?? 0));
    $(`${prefix}-lon`).value = String(fromE7(point.longitude ?? 0));
  }

  function readPoint(prefix) {
    return {
      latitude: toE7(Number($(`${prefix}-lat`).value)),
      longitude: toE7(Number($(`${prefix}-lon`).value)),
    };
  }

  function fillRectangleForm(lo, hi) {
    setPointInputs("rect-lo", lo);
    setPointInputs("rect-hi", hi);
  }

  function markerAt(point, kind, label) {
    return (group, projection) => {
      const p = projection.project(fromE7(point.latitude ?? 0), fromE7(point.longitude ?? 0));
      group.append(svgElement("circle", { cx: p.x, cy: p.y, r: 11, class: `marker ${kind}` }));
      if (label) {
        const text = svgElement("text", { x: p.x + 14, y: p.y - 10, class: "marker-label" });
        text.textContent = label;
        group.append(text);
      }
    };
  }

  function wire() {
    $("lookup-form").addEventListener("submit", (event) => {
      event.preventDefault();
      lookup(readPoint("lookup"));
    });
    $("rect-form").addEventListener("submit", (event) => {
      event.preventDefault();
      listRectangle({ lo: readPoint("rect-lo"), hi: readPoint("rect-hi") });
    });
    $("rect-world").addEventListener("click", loadWorld);
    $("route-send").addEventListener("click", sendRoute);
    $("route-clear").addEventListener("click", () => {
      route.length = 0;
      renderRoute();
      $("route-summary").hidden = true;
      $("route-result").textContent = "";
    });
    $("note-form").addEventListener("submit", (event) => {
      event.preventDefault();
      leaveNote();
    });
  }

  return { wire, loadWorld };
}

/** Data attributes for an E7 point: `{loLatitude, loLongitude}` for prefix "lo". */
function pointData(prefix, point) {
  const key = (name) => (prefix ? prefix + name[0].toUpperCase() + name.slice(1) : name);
  return {
    [key("latitude")]: String(point.latitude ?? 0),
    [key("longitude")]: String(point.longitude ?? 0),
  };
}

/** "Empire State Building, New York, NY" → "Empire State Building". */
function shortName(name) {
  return name.split(",")[0];
}

const app = createApp();
app.wire();
app.loadWorld();
