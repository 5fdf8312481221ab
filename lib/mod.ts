/**
 * A typed RouteGuide client for Deno: promise and async-iterator methods for
 * the four RPCs of `routeguide.RouteGuide`, cancellation by `AbortSignal`,
 * deadlines, TLS, and a bounded retry policy for the idempotent calls; plus
 * the gRPC status codes its errors carry and helpers for E7 coordinates
 * (degrees × 10⁷).
 *
 * Every failed call rejects (or throws from its loop) with an
 * {@linkcode RpcError} whose `code` is one of {@linkcode Code}.
 *
 * @example A server in-process, and each RPC from the client
 * ```ts
 * import {
 *   Code,
 *   createRouteGuideClient,
 *   type Feature,
 *   point,
 *   type RouteNote,
 *   RpcError,
 * } from "./mod.ts";
 * import { createFeatureDb } from "./core/feature_index.ts";
 * import { serve } from "./server/serve.ts";
 * import assert from "node:assert/strict";
 *
 * const server = await serve({
 *   db: createFeatureDb([
 *     { name: "Empire State Building", location: point(40.7484, -73.9857) },
 *     { name: "Brooklyn Bridge", location: point(40.7061, -73.9969) },
 *   ]).db,
 *   host: "127.0.0.1",
 *   port: 0,
 * });
 * const client = createRouteGuideClient(`127.0.0.1:${server.port}`);
 * try {
 *   // GetFeature: one point in, one feature out.
 *   const feature: Feature = await client.getFeature(point(40.7484, -73.9857));
 *   assert.equal(feature.name, "Empire State Building");
 *
 *   // ListFeatures: a stream of the features in a rectangle.
 *   const names: string[] = [];
 *   const box = { lo: point(40.7, -74.0), hi: point(40.8, -73.9) };
 *   for await (const f of client.listFeatures(box)) names.push(f.name);
 *   assert.deepEqual(names.sort(), ["Brooklyn Bridge", "Empire State Building"]);
 *
 *   // RecordRoute: a stream of points in (an array or any async iterable),
 *   // one summary out.
 *   const summary = await client.recordRoute([point(40.7484, -73.9857), point(40.7061, -73.9969)]);
 *   assert.equal(summary.point_count, 2);
 *   assert.equal(summary.feature_count, 2);
 *   assert.ok(summary.distance > 4000);
 *
 *   // RouteChat: notes both ways; the second note at a place hears the first.
 *   const here = point(40.7, -74.0);
 *   const notes: RouteNote[] = [
 *     { location: here, message: "first" },
 *     { location: here, message: "second" },
 *   ];
 *   const heard: string[] = [];
 *   for await (const note of client.routeChat(notes)) heard.push(note.message);
 *   assert.deepEqual(heard, ["first"]);
 *
 *   // Errors carry a status code.
 *   await assert.rejects(
 *     client.getFeature({ latitude: 900000001, longitude: 0 }),
 *     (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT,
 *   );
 * } finally {
 *   client.close();
 *   await server.shutdown(1000);
 * }
 * ```
 *
 * @module
 */

export {
  type ChannelCredentials,
  type ChannelOptions,
  createRouteGuideClient,
  type Feature,
  type Point,
  type Rectangle,
  RETRY_SERVICE_CONFIG,
  type RouteGuideCallOptions,
  type RouteGuideClient,
  type RouteGuideClientOptions,
  type RouteNote,
  type RouteNote__Output,
  type RouteSummary,
  tlsChannelCredentials,
  type TlsMaterial,
} from "./grpc/client.ts";
export { Code, codeName, RpcError } from "./core/rpc_error.ts";
export type { Point__Output } from "./grpc/generated/routeguide/Point.ts";
export { type E7Point, fromE7, haversineMeters, toE7 } from "./core/geo.ts";
export { point } from "./core/points.ts";
