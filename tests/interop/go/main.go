// Command routeguide-interop drives a RouteGuide server with grpc-go, an
// independent gRPC implementation, and prints a JSON report of its checks.
//
// It is built by tests/interop/go_test.ts in GOPATH mode from Debian's Go
// packages, with the stubs generated from protos/route_guide.proto into a
// temporary directory (import path routeguideinterop/pb); nothing generated
// is committed. By hand:
//
//	routeguide-interop --target 127.0.0.1:50051 --db data/route_guide_db.json
//
// Every answer is compared with what this program works out by itself from
// the feature database given by --db. Exit status: 0 when every check
// passed, 1 when one failed, 2 on a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	pb "routeguideinterop/pb"
)

// stepTimeout bounds any single call: generous, for a busy shared machine.
const stepTimeout = 20 * time.Second

// check is one line of the report.
type check struct {
	Group  string `json:"group"`
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// report collects the checks; safe for concurrent use.
type report struct {
	mu     sync.Mutex
	checks []check
}

func (r *report) check(group string, ok bool, name, detail string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := check{Group: group, Name: name, OK: ok}
	if !ok {
		c.Detail = detail
	}
	r.checks = append(r.checks, c)
	return ok
}

// fail records an unexpected error as a failed check.
func (r *report) fail(group, name string, err error) {
	r.check(group, false, name, "unexpected "+describe(err))
}

func describe(err error) string {
	if s, ok := status.FromError(err); ok {
		return fmt.Sprintf("RPC error %s (%q)", s.Code(), s.Message())
	}
	return err.Error()
}

// expectStatus checks that err is a gRPC status with the given code whose message holds every word in mention.
func (r *report) expectStatus(group, name string, err error, code codes.Code, mention ...string) bool {
	if err == nil {
		return r.check(group, false, name, "succeeded")
	}
	s, _ := status.FromError(err)
	ok := s.Code() == code
	for _, word := range mention {
		ok = ok && strings.Contains(s.Message(), word)
	}
	return r.check(group, ok, name, fmt.Sprintf("got %s (%q)", s.Code(), s.Message()))
}

// options are the command-line settings.
type options struct {
	target, db, ca, serverName string
	maxMessageBytes            int
	maxNoteBytes               int
	streams                    int
	keepalivePings             int
	skip                       map[string]bool
}

// env is what every check gets.
type env struct {
	r      *report
	client pb.RouteGuideClient
	db     *featureDb
	opts   options
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("routeguide-interop", flag.ContinueOnError)
	o := options{}
	var skip string
	fs.StringVar(&o.target, "target", "", "HOST:PORT of the server (required)")
	fs.StringVar(&o.db, "db", "", "the features JSON the server was started with (required)")
	fs.StringVar(&o.ca, "ca", "", "connect over TLS, trusting this CA (PEM)")
	fs.StringVar(&o.serverName, "server-name", "localhost", "with --ca: the name the server certificate must carry")
	fs.IntVar(&o.maxMessageBytes, "max-message-bytes", 4194304, "the server's --max-message-bytes")
	fs.IntVar(&o.maxNoteBytes, "max-note-bytes", 4096, "the server's --max-note-bytes")
	fs.IntVar(&o.streams, "streams", 100, "streams to hold open at once on one connection (at most the server's --max-concurrent-streams)")
	fs.IntVar(&o.keepalivePings, "keepalive-pings", 2, "keepalive pings (10 s apart, grpc-go's minimum) the server must answer")
	fs.StringVar(&skip, "skip", "", "comma-separated check groups to leave out, e.g. keepalive")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(o.target); err != nil {
		return o, fmt.Errorf("--target must be HOST:PORT, got %q", o.target)
	}
	if o.db == "" {
		return o, errors.New("--db is required")
	}
	if o.streams < 1 || o.maxMessageBytes < 64 || o.maxNoteBytes < 1 || o.keepalivePings < 1 {
		return o, errors.New("--streams, --max-message-bytes, --max-note-bytes and --keepalive-pings must be positive")
	}
	o.skip = map[string]bool{}
	for _, g := range strings.Split(skip, ",") {
		if g != "" {
			o.skip[g] = true
		}
	}
	return o, nil
}

// dialOptions for a connection through d, over TLS when --ca is given.
func dialOptions(o options, d *dialer, extra ...grpc.DialOption) ([]grpc.DialOption, error) {
	opts := []grpc.DialOption{
		grpc.WithBlock(),
		// A dialer of our own also means no proxy, whatever the environment says.
		grpc.WithContextDialer(d.dial),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(4 * o.maxMessageBytes)),
	}
	if o.ca == "" {
		opts = append(opts, grpc.WithInsecure())
	} else {
		creds, err := credentials.NewClientTLSFromFile(o.ca, o.serverName)
		if err != nil {
			return nil, fmt.Errorf("cannot use the CA %s: %w", o.ca, err)
		}
		opts = append(opts, grpc.WithTransportCredentials(creds))
	}
	return append(opts, extra...), nil
}

func dial(o options, d *dialer, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts, err := dialOptions(o, d, extra...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	return grpc.DialContext(ctx, o.target, opts...)
}

// groups in the order they run; keepalive runs alongside them on its own connection.
var groups = []struct {
	name string
	run  func(e *env)
}{
	{"get_feature", checkGetFeature},
	{"list_features", checkListFeatures},
	{"record_route", checkRecordRoute},
	{"route_chat", checkRouteChat},
	{"invalid_argument", checkInvalidArgument},
	{"deadline", checkDeadlines},
	{"cancellation", checkCancellation},
	{"large_messages", checkLargeMessages},
	{"concurrent_streams", checkConcurrentStreams},
	{"reuse_after_limit", checkReuseAfterLimit},
}

func run(o options, db *featureDb) *report {
	r := &report{}
	var keepalive sync.WaitGroup
	if !o.skip["keepalive"] {
		keepalive.Add(1)
		go func() {
			defer keepalive.Done()
			checkKeepalive(r, o, db)
		}()
	}
	d := &dialer{}
	conn, err := dial(o, d)
	if !r.check("connect", err == nil, "connected to "+o.target, fmt.Sprint(err)) {
		keepalive.Wait()
		return r
	}
	defer conn.Close()
	e := &env{r: r, client: pb.NewRouteGuideClient(conn), db: db, opts: o}
	for _, g := range groups {
		if !o.skip[g.name] {
			g.run(e)
		}
	}
	r.check("connect", d.count() == 1, "every call above shared one connection",
		fmt.Sprintf("dialled %d times", d.count()))
	keepalive.Wait()
	return r
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "routeguide-interop:", err)
		os.Exit(2)
	}
	db, err := loadDb(o.db)
	if err != nil {
		fmt.Fprintln(os.Stderr, "routeguide-interop:", err)
		os.Exit(2)
	}
	started := time.Now()
	r := run(o, db)
	passed, failed := 0, 0
	for _, c := range r.checks {
		if c.OK {
			passed++
		} else {
			failed++
		}
	}
	seen := map[string]bool{}
	var ran []string
	for _, c := range r.checks {
		if !seen[c.Group] {
			seen[c.Group] = true
			ran = append(ran, c.Group)
		}
	}
	sort.Strings(ran)
	out := map[string]interface{}{
		"client":       "grpc-go",
		"grpc_version": grpc.Version,
		"go_version":   runtime.Version(),
		"target":       o.target,
		"tls":          o.ca != "",
		"groups":       ran,
		"passed":       passed,
		"failed":       failed,
		"seconds":      time.Since(started).Seconds(),
		"checks":       r.checks,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "routeguide-interop:", err)
		os.Exit(2)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
