package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxCapture bounds how much of a body the recorder keeps; the server and
// the caller still get the whole body.
const maxCapture = 1 << 20

// Transport records every exchange, redacted, into the scenario carried by
// the request's context (see WithScenario), so one http.Client serves
// concurrent scenarios; a request without one passes through unrecorded.
//
// Like golang.org/x/oauth2's Transport it never changes the caller's
// request: a body it has to read is read into a clone. A body it cannot
// read is an error of the round trip; a response body it cannot read is
// recorded and handed to the caller as the same error.
type Transport struct {
	// Base sends the requests (nil: http.DefaultTransport).
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	s := FromContext(req.Context())
	if s == nil {
		return base.RoundTrip(req)
	}
	reqBody, req, err := requestBody(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the request body: %w", req.Method, req.URL.Redacted(), err)
	}

	e := Exchange{Time: time.Now(), Method: req.Method, URL: req.URL.String(), RequestHeaders: req.Header.Clone(), RequestBody: string(reqBody)}
	if e.RequestHeaders == nil {
		e.RequestHeaders = http.Header{}
	}
	if u := req.URL.User; u != nil {
		e.RequestHeaders.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.String())))
	}
	resp, err := base.RoundTrip(req)
	e.Duration = time.Since(e.Time)
	if err != nil {
		e.Error = err.Error()
		s.RecordExchange(e)
		return resp, err
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxCapture))
	// Hand the caller the whole body: what was read, then the rest, or the
	// error that stopped the reading.
	rest := io.Reader(resp.Body)
	if rerr != nil {
		e.Error = "reading the response body: " + rerr.Error()
		rest = errorReader{rerr}
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), rest), resp.Body}
	e.Status = resp.StatusCode
	e.ResponseHeaders = resp.Header.Clone()
	e.ResponseBody = string(data)
	s.RecordExchange(e)
	return resp, nil
}

// requestBody returns the start of req's body and the request to send:
// req itself when GetBody gives the body again, otherwise a clone carrying
// the body read from req. A RoundTripper closes the request body even on
// errors (net/http.RoundTripper), so every error path closes it.
func requestBody(req *http.Request) ([]byte, *http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, req, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			req.Body.Close()
			return nil, req, err
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxCapture))
		if err != nil {
			req.Body.Close()
			return nil, req, err
		}
		return data, req, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, req, err
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(data))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return data[:min(len(data), maxCapture)], out, nil
}

// errorReader fails every read with err.
type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }
