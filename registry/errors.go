package registry

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Sentinel errors. A *Error matches them with errors.Is according to its
// HTTP status or cause, so callers branch without parsing messages.
var (
	// ErrNotFound: the registry answered 404 (unknown tag, digest or repository).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry answered 401 or 403 (missing or wrong credentials, no access).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited: the registry answered 429 and the client could not wait it out.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: the registry answered 5xx or could not be reached after retries.
	ErrUnavailable = errors.New("registry unavailable")
	// ErrTimeout: no response (or no progress on a body) within the per-request timeout.
	ErrTimeout = errors.New("request timed out")
	// ErrDigestMismatch: manifest bytes whose digest is not the one the
	// registry announced or the one requested. Such content is never used.
	ErrDigestMismatch = errors.New("manifest content does not match its digest")
	// ErrInsecure: a plain-HTTP request to a host that is neither loopback nor
	// listed as insecure.
	ErrInsecure = errors.New("plain HTTP refused")
)

// Error is a failed registry operation. Its message names the reference,
// the registry the request went to (a mirror when one is configured) and
// the HTTP status. It never contains credentials.
type Error struct {
	// Ref is the reference as files name it: docker.io/library/nginx:1-alpine.
	Ref string
	// Registry is the host the request was sent to (the mirror's, when the
	// reference's registry is mirrored).
	Registry string
	// Server says what Registry is, for messages: "registry" when empty;
	// "git host" for the action listings that share this error type.
	Server string
	// Status is the HTTP status of the final answer; 0 when there was none.
	Status int
	// Err is the underlying cause.
	Err error

	msg string // cause text with secrets removed, fixed at construction
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Ref)
	if e.Registry != "" {
		b.WriteString(": ")
		b.WriteString(cmp.Or(e.Server, "registry"))
		b.WriteString(" ")
		b.WriteString(e.Registry)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	msg := e.msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel errors by status: 404 is ErrNotFound, 401 and 403
// ErrUnauthorized, 429 ErrRateLimited, 5xx ErrUnavailable.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.Status >= 500 || (e.Status == 0 && isNetworkError(e.Err))
	}
	return false
}

// wrap turns any error from a registry operation into an *Error, keeping an
// existing one, reading the status out of go-containerregistry's errors and
// removing known secrets from the message.
func (c *Client) wrap(refStr, host string, err error) error {
	if err == nil {
		return nil
	}
	var re *Error
	if errors.As(err, &re) {
		return err
	}
	e := &Error{Ref: refStr, Registry: host, Err: err}
	var te *transport.Error
	if errors.As(err, &te) {
		e.Status = te.StatusCode
		e.msg = diagnostics(te)
		if e.msg == "" {
			e.msg = statusHint(te.StatusCode)
		}
	} else {
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL repeats the registry and reference the Error names.
			cause = ue.Err
		}
		e.msg = cause.Error()
		if errors.Is(cause, io.EOF) || errors.Is(cause, io.ErrUnexpectedEOF) {
			e.msg = "connection closed before a complete answer (" + e.msg + ")"
		}
	}
	var se *statusError
	if errors.As(err, &se) {
		e.Status = se.status
	}
	e.msg = c.redact(e.msg)
	return e
}

// diagnostics renders a registry error body without the request URL, which
// the Error already names more readably.
func diagnostics(te *transport.Error) string {
	var parts []string
	for _, d := range te.Errors {
		s := string(d.Code)
		if d.Message != "" {
			s += ": " + d.Message
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// statusHint explains a status that came without an error body (any
// answer to HEAD).
func statusHint(status int) string {
	switch status {
	case http.StatusNotFound:
		return "no such tag, digest or repository"
	case http.StatusUnauthorized:
		return "authentication required, or the credentials were rejected"
	case http.StatusForbidden:
		return "access denied"
	case http.StatusTooManyRequests:
		return "rate limited"
	}
	return "no details in the answer"
}

// statusError carries a status the transport decided on (a 429 it gave up
// waiting for) through layers that only pass errors.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }
