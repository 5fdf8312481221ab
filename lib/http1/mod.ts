/**
 * Our HTTP/1.1 (and 1.0) server (RFC 9112), on the sockets the server's
 * listener hands it when a connection does not open with the HTTP/2
 * preface: a strict parser without I/O (bytes in, request heads and body
 * pieces out), and the socket glue that serves one request at a time per
 * connection with keep-alive, pipelining, and limits on the request head.
 *
 * May import: `node:` modules only. It knows nothing of gRPC or RouteGuide.
 *
 * @module
 */
