/**
 * Rich error details both ways: gRPC carries them in the
 * `grpc-status-details-bin` trailer, a base64 `google.rpc.Status`
 * (`code` = 1, `message` = 2, repeated `google.protobuf.Any details` = 3;
 * an `Any` is `type_url` = 1, `value` = 2); the Connect protocol in its error
 * JSON's `details`, each `{type, value}` with the `Any`'s type name and its
 * bytes in base64 (connectrpc.com/docs/protocol, "Error end-of-stream").
 * The protobuf wire is read and written by hand: three fields do not need a
 * descriptor.
 *
 * @module
 */

import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";

/** One entry of a Connect error's `details`. */
export interface ConnectErrorDetail {
  /** The message's fully-qualified type name, without a type URL prefix: `google.rpc.RetryInfo`. */
  type: string;
  /** The message's binary encoding, base64 (written unpadded, read either way). */
  value: string;
  /** Optional JSON rendering for people; never read, never written here. */
  debug?: unknown;
}

// Standard or URL-safe alphabet, with or without padding; a length of 4k+1 can encode nothing.
const BASE64 = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/;
// The prefix Any's type URLs carry by convention (google/protobuf/any.proto).
const TYPE_URL_PREFIX = "type.googleapis.com/";

/** Decodes base64 in either alphabet, padded or not; `undefined` when it is not base64. */
function decodeBase64(text: string): Uint8Array | undefined {
  const bare = text.trim();
  if (!BASE64.test(bare) || bare.replace(/=+$/, "").length % 4 === 1) return undefined;
  if (bare.includes("=") && bare.length % 4 !== 0) return undefined;
  return base64Decode(bare);
}

/**
 * The Connect `details` of a `grpc-status-details-bin` header value: each
 * `Any`'s type (its URL after the last `/`) and value (base64, unpadded).
 * A malformed value gives `[]`: the details are an extra, never a reason to fail.
 */
export function connectDetailsFromStatusBin(grpcStatusDetailsBin: string): ConnectErrorDetail[] {
  const bytes = decodeBase64(grpcStatusDetailsBin);
  if (bytes === undefined) return [];
  try {
    const details: ConnectErrorDetail[] = [];
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [fieldNo, wireType] = reader.tag();
      if (fieldNo === 3 && wireType === WireType.LengthDelimited) {
        details.push(readAny(reader.bytes()));
      } else {
        reader.skip(wireType, fieldNo);
      }
    }
    return details;
  } catch {
    return [];
  }
}

/** One `google.protobuf.Any` as a Connect detail; throws on a malformed message. */
function readAny(bytes: Uint8Array): ConnectErrorDetail {
  const reader = new BinaryReader(bytes);
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array();
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) typeUrl = reader.string();
    else if (fieldNo === 2 && wireType === WireType.LengthDelimited) value = reader.bytes();
    else reader.skip(wireType, fieldNo);
  }
  return {
    type: typeUrl.slice(typeUrl.lastIndexOf("/") + 1),
    value: base64Encode(value, "std_raw"),
  };
}

/**
 * The `grpc-status-details-bin` value (base64, unpadded, as gRPC writes `-bin`
 * headers) for a status and its Connect `details`; each type gets the
 * conventional `type.googleapis.com/` prefix. A detail whose value is not
 * base64 is left out.
 */
export function statusBinFromConnectDetails(
  code: number,
  message: string,
  details: readonly ConnectErrorDetail[],
): string {
  const writer = new BinaryWriter();
  if (code !== 0) writer.tag(1, WireType.Varint).int32(code);
  if (message !== "") writer.tag(2, WireType.LengthDelimited).string(message);
  for (const detail of details) {
    const value = typeof detail.value === "string" ? decodeBase64(detail.value) : undefined;
    if (value === undefined || typeof detail.type !== "string") continue;
    writer.tag(3, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(TYPE_URL_PREFIX + detail.type);
    if (value.length > 0) writer.tag(2, WireType.LengthDelimited).bytes(value);
    writer.join();
  }
  return base64Encode(writer.finish(), "std_raw");
}
