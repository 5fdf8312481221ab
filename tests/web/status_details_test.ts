/**
 * `lib/web/status_details.ts`: `grpc-status-details-bin` (a base64
 * `google.rpc.Status`, google/rpc/status.proto) ↔ Connect error `details`
 * (`{type, value}`, connectrpc.com/docs/protocol). The Status bytes are
 * written by hand from the protobuf wire format.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  connectDetailsFromStatusBin,
  statusBinFromConnectDetails,
} from "../../lib/web/status_details.ts";

const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));
const TYPE_URL = ascii("type.googleapis.com/google.rpc.BadRequest"); // 41 bytes
// Any{type_url, value: BadRequest{field_violations: [{}]} = 0a 00}
const ANY = [0x0a, TYPE_URL.length, ...TYPE_URL, 0x12, 2, 0x0a, 0x00];
// Status{code: 3, message: "bad", details: [ANY]}
const STATUS = [0x08, 3, 0x12, 3, ...ascii("bad"), 0x1a, ANY.length, ...ANY];
const padded = (bytes: number[]) => btoa(String.fromCharCode(...bytes));
const unpadded = (bytes: number[]) => padded(bytes).replace(/=+$/, "");

Deno.test("connectDetailsFromStatusBin() gives each Any's type name and base64 value", () => {
  assert.notEqual(padded(STATUS), unpadded(STATUS), "the fixture needs padding");
  for (const header of [padded(STATUS), unpadded(STATUS)]) {
    assert.deepEqual(connectDetailsFromStatusBin(header), [
      { type: "google.rpc.BadRequest", value: "CgA" },
    ]);
  }
});

Deno.test("connectDetailsFromStatusBin() keeps the order, and takes the type after the last slash", () => {
  const other = [0x0a, 7, ...ascii("a.b/c.D"), 0x12, 1, 0xff];
  const bare = [0x0a, 5, ...ascii("x.Foo")];
  const status = [
    0x1a,
    ANY.length,
    ...ANY,
    0x1a,
    other.length,
    ...other,
    0x1a,
    bare.length,
    ...bare,
  ];
  assert.deepEqual(connectDetailsFromStatusBin(unpadded(status)), [
    { type: "google.rpc.BadRequest", value: "CgA" },
    { type: "c.D", value: "/w" },
    { type: "x.Foo", value: "" },
  ]);
});

Deno.test("connectDetailsFromStatusBin() gives [] for malformed values, and for none", () => {
  for (
    const header of [
      "",
      "!!!!",
      "abcde",
      "CgA=x",
      unpadded(STATUS.slice(0, 12)), // truncated inside the message
      unpadded([0x1a, 5, 0x0a]), // a detail longer than the bytes left
      unpadded([0x08, 3, 0x12, 3, ...ascii("bad")]), // a Status without details
    ]
  ) assert.deepEqual(connectDetailsFromStatusBin(header), [], header);
});

Deno.test("statusBinFromConnectDetails() writes the google.rpc.Status bytes, unpadded", () => {
  const details = [{ type: "google.rpc.BadRequest", value: "CgA", debug: { any: 1 } }];
  assert.equal(statusBinFromConnectDetails(3, "bad", details), unpadded(STATUS));
  // A padded value is read too.
  assert.equal(
    statusBinFromConnectDetails(3, "bad", [{ type: "google.rpc.BadRequest", value: "CgA=" }]),
    unpadded(STATUS),
  );
});

Deno.test("statusBinFromConnectDetails() leaves out a detail whose value is not base64", () => {
  const details = [
    { type: "bad.Value", value: "***" },
    { type: "google.rpc.BadRequest", value: "CgA" },
  ];
  assert.equal(statusBinFromConnectDetails(3, "bad", details), unpadded(STATUS));
});

Deno.test("the two directions round-trip", () => {
  const details = [
    { type: "google.rpc.RetryInfo", value: "CgIIAQ" },
    { type: "google.rpc.ErrorInfo", value: "" },
  ];
  const header = statusBinFromConnectDetails(14, "try later", details);
  assert.deepEqual(connectDetailsFromStatusBin(header), details);
});

Deno.test("connectDetailsFromStatusBin(): a header value's surrounding spaces are ignored", () => {
  assert.deepEqual(connectDetailsFromStatusBin(` ${padded(STATUS)} `), [
    { type: "google.rpc.BadRequest", value: "CgA" },
  ]);
});

Deno.test("connectDetailsFromStatusBin(): fields of other wire types than length-delimited are skipped, in the Status and in each Any", () => {
  // Any with: field 1 as a varint (skipped), the type URL, the value, an unknown field 3, field 2 as a varint.
  const any = [0x08, 1, 0x0a, 5, ...ascii("a.b/C"), 0x12, 1, 0x41, 0x1a, 1, 0x42, 0x10, 7];
  // Status with: field 3 as a varint (skipped), then the Any.
  const status = [0x18, 5, 0x1a, any.length, ...any];
  assert.deepEqual(connectDetailsFromStatusBin(unpadded(status)), [{ type: "C", value: "QQ" }]);
});

Deno.test("statusBinFromConnectDetails(): code 0 and an empty message are left out; an empty value writes no value field", () => {
  assert.equal(statusBinFromConnectDetails(0, "", []), "");
  const typeUrl = ascii("type.googleapis.com/x.Y");
  const any = [0x0a, typeUrl.length, ...typeUrl];
  assert.equal(
    statusBinFromConnectDetails(0, "", [{ type: "x.Y", value: "" }]),
    unpadded([0x1a, any.length, ...any]),
  );
});

Deno.test("statusBinFromConnectDetails(): a detail without a string type or value, or with bad padding, is left out; URL-safe base64 is read", () => {
  const status = unpadded([0x08, 3, 0x12, 3, ...ascii("bad")]);
  const left = [
    { type: "x.Y", value: 5 },
    { value: "CgA" },
    { type: "x.Y", value: "CgA==" },
  ] as unknown as { type: string; value: string }[];
  assert.equal(statusBinFromConnectDetails(3, "bad", left), status);
  const typeUrl = ascii("type.googleapis.com/x.Y");
  const any = [0x0a, typeUrl.length, ...typeUrl, 0x12, 2, 0xfb, 0xff];
  assert.equal(
    statusBinFromConnectDetails(0, "", [{ type: "x.Y", value: "-_8" }]),
    unpadded([0x1a, any.length, ...any]),
  );
});
