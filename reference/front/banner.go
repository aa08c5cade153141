package front

import (
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
)

// links returns the URLs a route announces: its own Links, or its root.
func (rt Route) links() []Link {
	if len(rt.Links) == 0 {
		return []Link{{Label: rt.Name, Path: rt.Prefix + "/"}}
	}
	return rt.Links
}

// Banner prints where the trio is reachable, one labelled URL per line in
// the order of the routes and their links, followed by the certificate and
// its SPKI hash for browsers started with --ignore-certificate-errors-spki-list.
func (s *Server) Banner(w io.Writer) {
	base := s.URL()
	const certLabel = "certificate"
	var lines []Link
	width := len(certLabel)
	for _, rt := range s.routes {
		for _, l := range rt.links() {
			lines = append(lines, l)
			width = max(width, len(l.Label))
		}
	}
	fmt.Fprintf(w, "oauthtrio is serving on %s (listening on %s)\n", base, s.Addr())
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s%s\n", width, l.Label, base, l.Path)
	}
	spki, err := SPKIHash(s.cfg.CertFile)
	if err != nil {
		spki = "unavailable: " + err.Error()
	}
	fmt.Fprintf(w, "  %-*s  %s  (SPKI sha256: %s)\n", width, certLabel, s.cfg.CertFile, spki)
}

// indexPage links to each part of the trio. Links are paths, so the page is
// right whatever host name the browser used.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>oauthtrio</title></head>
<body>
<h1>oauthtrio</h1>
<ul>
{{- range .}}
<li><a href="{{.Prefix}}/">{{.Name}}</a>
{{- with .Links}}
<ul>
{{- range .}}
<li><a href="{{.Path}}">{{.Label}}</a></li>
{{- end}}
</ul>
{{- end}}
</li>
{{- end}}
</ul>
</body>
</html>
`))

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexPage.Execute(w, s.routes); err != nil {
		// The template only fails when the client has gone; nothing to tell.
		s.logger.DebugContext(r.Context(), "index page", slog.Any("error", err))
	}
}
