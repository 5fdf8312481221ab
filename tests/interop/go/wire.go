package main

// A passive look at the HTTP/2 frames on a plaintext connection, so the
// keepalive check can see PINGs, their ACKs and any GOAWAY without touching
// grpc-go's internals. Frame layout: RFC 9113 §4.1.

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
)

const (
	frameRst      = 0x3
	framePing     = 0x6
	frameGoaway   = 0x7
	flagAck       = 0x1
	clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

// wireLog records the control frames seen on one connection, both ways.
type wireLog struct {
	mu      sync.Mutex
	changed chan struct{}
	// Opaque data of the PINGs the client sent (not ACKs).
	pingsSent [][8]byte
	// Opaque data of the server's ACKs of them.
	acksReceived [][8]byte
	// Error codes of the GOAWAY frames the server sent.
	goaways []uint32
	// Error codes of the RST_STREAM frames the server sent.
	rsts []uint32
}

func newWireLog() *wireLog {
	return &wireLog{changed: make(chan struct{}, 1)}
}

func (w *wireLog) record(fromServer bool, typ, flags byte, payload []byte) {
	w.mu.Lock()
	switch {
	case typ == framePing && len(payload) == 8 && !fromServer && flags&flagAck == 0:
		w.pingsSent = append(w.pingsSent, *(*[8]byte)(payload))
	case typ == framePing && len(payload) == 8 && fromServer && flags&flagAck != 0:
		w.acksReceived = append(w.acksReceived, *(*[8]byte)(payload))
	case typ == frameGoaway && len(payload) >= 8 && fromServer:
		w.goaways = append(w.goaways, binary.BigEndian.Uint32(payload[4:8]))
	case typ == frameRst && len(payload) == 4 && fromServer:
		w.rsts = append(w.rsts, binary.BigEndian.Uint32(payload))
	}
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// snapshot returns copies of what was seen so far.
func (w *wireLog) snapshot() (sent, acked [][8]byte, goaways []uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][8]byte(nil), w.pingsSent...), append([][8]byte(nil), w.acksReceived...),
		append([]uint32(nil), w.goaways...)
}

// rstCodes returns the error codes of the server's RST_STREAM frames so far.
func (w *wireLog) rstCodes() []uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]uint32(nil), w.rsts...)
}

// frameScanner splits one direction of a connection into frames, keeping
// only the payloads of PING and GOAWAY frames.
type frameScanner struct {
	log        *wireLog
	fromServer bool
	skip       int    // bytes still to skip (the client preface, or a payload we ignore)
	header     []byte // a partial frame header
	keep       []byte // a payload being collected
	want       int    // its length
	typ, flags byte
	collecting bool
}

func (s *frameScanner) feed(data []byte) {
	for len(data) > 0 {
		switch {
		case s.skip > 0:
			n := min(s.skip, len(data))
			s.skip -= n
			data = data[n:]
		case s.collecting:
			n := min(s.want-len(s.keep), len(data))
			s.keep = append(s.keep, data[:n]...)
			data = data[n:]
			if len(s.keep) == s.want {
				s.collecting = false
				s.log.record(s.fromServer, s.typ, s.flags, s.keep)
				s.keep = nil
			}
		default:
			n := min(9-len(s.header), len(data))
			s.header = append(s.header, data[:n]...)
			data = data[n:]
			if len(s.header) < 9 {
				continue
			}
			length := int(s.header[0])<<16 | int(s.header[1])<<8 | int(s.header[2])
			s.typ, s.flags = s.header[3], s.header[4]
			s.header = s.header[:0]
			if s.typ == framePing || s.typ == frameGoaway || s.typ == frameRst {
				s.collecting, s.want, s.keep = true, length, make([]byte, 0, length)
				if length == 0 {
					s.collecting = false
					s.log.record(s.fromServer, s.typ, s.flags, nil)
				}
			} else {
				s.skip = length
			}
		}
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// sniffedConn is a net.Conn whose bytes are also fed to frame scanners.
type sniffedConn struct {
	net.Conn
	in, out *frameScanner
}

func (c *sniffedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.feed(p[:n])
	return n, err
}

func (c *sniffedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.feed(p[:n])
	return n, err
}

// dialer opens TCP connections, counts them and, when log is set, watches
// their frames (only meaningful on plaintext connections).
type dialer struct {
	dials int32
	log   *wireLog
}

func (d *dialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	atomic.AddInt32(&d.dials, 1)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil || d.log == nil {
		return conn, err
	}
	return &sniffedConn{
		Conn: conn,
		in:   &frameScanner{log: d.log, fromServer: true},
		out:  &frameScanner{log: d.log, skip: len(clientPreface)},
	}, nil
}

func (d *dialer) count() int {
	return int(atomic.LoadInt32(&d.dials))
}
