package report

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// WriteHTML writes one self-contained HTML file: styles inline, screenshots
// as data URIs, nothing fetched, so it can be attached to a CI run or mailed.
func (r *Report) WriteHTML(path string) error {
	return writeFile(path, r.html)
}

type htmlTag struct {
	Name, URL, Class string
}

type htmlScenario struct {
	ScenarioRecord
	ID          string
	Open        bool
	ShowError   bool
	TagLinks    []htmlTag
	Shots       []htmlShot
	Exchanges   []htmlExchange
	DurationTxt string
}

type htmlShot struct {
	Caption string
	Src     template.URL
}

type htmlExchange struct {
	Exchange
	ReqHeaders, RespHeaders string
	Failed                  bool
	DurationTxt             string
}

type htmlFeature struct {
	Name      string
	Scenarios []htmlScenario
	Counts    Counts
}

type htmlPage struct {
	Title, Target string
	Generated     string
	Duration      string
	Counts        Counts
	Failed        bool
	// Interrupted says why the run stopped early; "" for a whole run.
	Interrupted string
	Features    []htmlFeature
	// Attention lists the failures and warnings, linked, at the top.
	Attention []htmlScenario
	// Coverage tallies the scenarios by the specification sections they
	// cite; empty without a catalogue.
	Coverage []SectionCoverage
	// CoverageFailed counts the sections with a failed scenario.
	CoverageFailed int
}

func (r *Report) html(w io.Writer) error {
	list := r.Scenarios()
	page := htmlPage{
		Title:     r.Title,
		Target:    r.Target,
		Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Duration:  r.elapsedTime().Round(time.Millisecond).String(),
		Counts:    countOf(list),
	}
	page.Failed = page.Counts.Failed > 0
	page.Interrupted = r.Interrupted()
	if len(r.Sections) > 0 {
		isSection := r.IsSection
		if isSection == nil {
			isSection = func(tag string) bool { _, ok := SpecURL(tag); return ok }
		}
		page.Coverage = Coverage(r.Sections, list, isSection)
		for _, c := range page.Coverage {
			if c.Counts.Failed > 0 {
				page.CoverageFailed++
			}
		}
	}
	idx := map[string]int{}
	for n, s := range list {
		i, ok := idx[s.Feature]
		if !ok {
			i = len(page.Features)
			idx[s.Feature] = i
			page.Features = append(page.Features, htmlFeature{Name: s.Feature})
		}
		hs := htmlScenario{
			ScenarioRecord: s,
			ID:             fmt.Sprintf("s%d", n+1),
			Open:           s.Status == StatusFailed || s.Status == StatusWarning,
			ShowError:      s.Error != "",
			DurationTxt:    s.Duration.Round(time.Millisecond).String(),
		}
		// The failing step already shows the error; say it once.
		for _, st := range s.Steps {
			if st.Error != "" && st.Error == s.Error {
				hs.ShowError = false
			}
		}
		if hs.Open {
			page.Attention = append(page.Attention, hs)
		}
		for _, t := range s.Tags {
			tag := htmlTag{Name: t, Class: "tag"}
			if u, ok := SpecURL(t); ok {
				tag.URL, tag.Class = u, "tag spec"
			} else if strings.HasPrefix(t, "@needs:") {
				tag.Class = "tag needs"
			}
			hs.TagLinks = append(hs.TagLinks, tag)
		}
		for _, sh := range s.Screenshots {
			hs.Shots = append(hs.Shots, htmlShot{Caption: sh.Caption, Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(sh.PNG))})
		}
		for _, e := range s.Exchanges {
			hs.Exchanges = append(hs.Exchanges, htmlExchange{
				Exchange:    e,
				ReqHeaders:  headerText(e.RequestHeaders),
				RespHeaders: headerText(e.ResponseHeaders),
				// In a scenario that passed, an error answer is the one a
				// negative scenario asked for: not styled as a failure.
				Failed:      (e.Error != "" || e.Status >= 400) && s.Status != StatusPassed,
				DurationTxt: e.Duration.Round(time.Millisecond).String(),
			})
		}
		f := &page.Features[i]
		f.Scenarios = append(f.Scenarios, hs)
	}
	for i := range page.Features {
		recs := make([]ScenarioRecord, len(page.Features[i].Scenarios))
		for j, s := range page.Features[i].Scenarios {
			recs[j] = s.ScenarioRecord
		}
		page.Features[i].Counts = countOf(recs)
	}
	return htmlTemplate.Execute(w, page)
}

func headerText(h map[string][]string) string {
	var b strings.Builder
	for _, k := range sortedHeaderNames(h) {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"label": func(s Status) string { return s.Label() },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"stepIcon": func(s StepStatus) string {
		switch s {
		case StepPassed:
			return "✓"
		case StepFailed:
			return "✗"
		case StepSkipped:
			return "–"
		}
		return "?"
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}{{if .Target}} — {{.Target}}{{end}}</title>
<style>
:root { --pass:#1a7f37; --fail:#cf222e; --warn:#9a6700; --na:#6e7781; --xfail:#8250df; --bg:#f6f8fa; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#1f2328; margin:0; background:#fff; }
header { padding:18px 28px; border-bottom:1px solid var(--line); background:var(--bg); }
h1 { font-size:20px; margin:0 0 4px; }
.meta { color:#57606a; }
.verdict { display:inline-block; font-weight:600; padding:2px 10px; border-radius:12px; color:#fff; margin-left:8px; font-size:13px; }
.verdict.pass { background:var(--pass); } .verdict.fail { background:var(--fail); }
.counts { margin-top:12px; display:flex; flex-wrap:wrap; gap:8px; }
.counts button { font:inherit; border:1px solid var(--line); background:#fff; border-radius:16px; padding:3px 12px; cursor:pointer; }
.counts button.active { outline:2px solid #0969da; }
.counts b { margin-right:4px; }
main { padding:8px 28px 40px; max-width:1200px; }
h2 { font-size:16px; margin:24px 0 8px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h2 small { font-weight:normal; color:#57606a; margin-left:8px; }
details.scenario { border:1px solid var(--line); border-left:5px solid var(--na); border-radius:6px; margin:8px 0; background:#fff; }
details.scenario > summary { padding:8px 12px; cursor:pointer; list-style:none; display:flex; flex-wrap:wrap; align-items:baseline; gap:6px 10px; }
details.scenario > summary::-webkit-details-marker { display:none; }
.name { font-weight:600; }
.dur { color:#57606a; font-size:12px; margin-left:auto; }
.badge { font-size:12px; font-weight:600; text-transform:uppercase; letter-spacing:.02em; padding:1px 8px; border-radius:10px; color:#fff; white-space:nowrap; }
.status-passed { border-left-color:var(--pass)!important; } .status-passed .badge { background:var(--pass); }
.status-failed { border-left-color:var(--fail)!important; } .status-failed .badge { background:var(--fail); }
.status-warning { border-left-color:var(--warn)!important; } .status-warning .badge { background:var(--warn); }
.status-not_applicable { border-left-color:var(--na)!important; } .status-not_applicable .badge { background:var(--na); }
.status-expected_failure { border-left-color:var(--xfail)!important; } .status-expected_failure .badge { background:var(--xfail); }
.status-not_run { border-left-color:var(--na)!important; border-style:dashed; } .status-not_run .badge { background:#fff; color:var(--na); border:1px solid var(--na); }
.verdict.interrupted { background:var(--warn); }
.banner { margin:12px 0 0; padding:8px 12px; border-radius:6px; background:#fff8c5; border:1px solid #eed888; font-weight:600; }
.tags { display:inline-flex; flex-wrap:wrap; gap:4px; }
.tag { font:12px ui-monospace, SFMono-Regular, Menlo, monospace; padding:0 6px; border-radius:4px; background:var(--bg); border:1px solid var(--line); color:#57606a; text-decoration:none; }
a.tag.spec { color:#0969da; border-color:#b6d4fe; background:#ddf4ff; }
a.tag.spec:hover { text-decoration:underline; }
.tag.needs { border-style:dashed; }
.body { padding:4px 16px 12px; border-top:1px solid var(--line); overflow-wrap:anywhere; }
.reason, .error { margin:8px 0; padding:8px 10px; border-radius:4px; white-space:pre-wrap; word-break:break-word; }
.reason { background:var(--bg); }
.error { background:#ffebe9; border:1px solid #ffcecb; font:12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; }
.status-warning .error { background:#fff8c5; border-color:#eed888; }
.status-expected_failure .error { background:#fbefff; border-color:#e4c7f7; }
ol.steps { list-style:none; padding:0; margin:8px 0; }
ol.steps li { padding:2px 0; }
.step-icon { display:inline-block; width:1.2em; font-weight:700; }
.step-passed .step-icon { color:var(--pass); } .step-failed .step-icon { color:var(--fail); }
.step-skipped { color:#8c959f; } .step-undefined .step-icon, .step-pending .step-icon { color:var(--warn); }
.kw { font-weight:600; color:#57606a; }
.step-err { margin:2px 0 4px 1.4em; font:12px ui-monospace, SFMono-Regular, Menlo, monospace; color:var(--fail); white-space:pre-wrap; word-break:break-word; }
h3 { font-size:13px; margin:14px 0 6px; color:#57606a; text-transform:uppercase; letter-spacing:.03em; }
details.x { border:1px solid var(--line); border-radius:4px; margin:4px 0; }
details.x > summary { padding:4px 8px; cursor:pointer; font:12px ui-monospace, SFMono-Regular, Menlo, monospace; word-break:break-all; }
details.x.bad > summary { background:#ffebe9; }
.code { font-weight:700; } .x .ok { color:var(--pass); } .x .ko { color:var(--fail); }
.x pre { margin:0; padding:8px; background:var(--bg); border-top:1px solid var(--line); white-space:pre-wrap; word-break:break-all; font:12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; max-height:360px; overflow:auto; }
.x .lbl { padding:4px 8px 0; font-size:11px; color:#57606a; text-transform:uppercase; }
figure { margin:8px 0; } figure img { max-width:100%; border:1px solid var(--line); border-radius:4px; }
figcaption { color:#57606a; font-size:12px; }
ul.notes { margin:4px 0; padding-left:20px; }
.why { flex-basis:100%; color:#57606a; font-size:12.5px; padding-left:2px; }
details[open] > summary .why { display:none; }
nav.attention ul { list-style:none; padding:0; margin:4px 0 8px; }
nav.attention li { padding:3px 0; }
nav.attention a { color:#0969da; text-decoration:none; } nav.attention a:hover { text-decoration:underline; }
.hidden { display:none; }
details.coverage { margin:16px 0; } details.coverage > summary { cursor:pointer; font-size:16px; font-weight:600; padding-bottom:4px; border-bottom:1px solid var(--line); }
table.coverage { border-collapse:collapse; margin:8px 0; font-size:13px; }
table.coverage th, table.coverage td { border:1px solid var(--line); padding:3px 8px; text-align:left; vertical-align:top; }
table.coverage td.n { text-align:right; font-variant-numeric:tabular-nums; }
table.coverage td.zero { color:#8c959f; }
table.coverage td.passed { color:var(--pass); font-weight:600; } table.coverage td.failed { background:#ffebe9; color:var(--fail); font-weight:700; }
table.coverage td.warning { background:#fff8c5; color:var(--warn); font-weight:600; } table.coverage td.xfail { color:var(--xfail); }
table.coverage tr.unrun td:first-child::after { content:" (no scenario in this run)"; color:#8c959f; font-size:12px; }
</style></head>
<body>
<header>
<h1>{{.Title}}{{if .Interrupted}}<span class="verdict interrupted">INTERRUPTED</span>{{else if .Failed}}<span class="verdict fail">FAILED</span>{{else}}<span class="verdict pass">PASSED</span>{{end}}</h1>
<div class="meta">{{if .Target}}Target <b>{{.Target}}</b> · {{end}}{{.Generated}} · run time {{.Duration}}</div>
{{if .Interrupted}}<div class="banner" role="alert">INTERRUPTED ({{.Interrupted}}): this report is partial. {{.Counts.NotRun}} {{plural .Counts.NotRun "scenario" "scenarios"}} did not finish and count as not run, never as failed.</div>{{end}}
<div class="counts" id="filters">
<button data-filter="" class="active"><b>{{.Counts.Total}}</b>all</button>
<button data-filter="status-passed"><b>{{.Counts.Passed}}</b>passed</button>
<button data-filter="status-failed"><b>{{.Counts.Failed}}</b>failed</button>
<button data-filter="status-warning"><b>{{.Counts.Warnings}}</b>warnings</button>
<button data-filter="status-not_applicable"><b>{{.Counts.NotApplicable}}</b>not applicable</button>
<button data-filter="status-expected_failure"><b>{{.Counts.ExpectedFailures}}</b>expected failures</button>
{{if .Counts.NotRun}}<button data-filter="status-not_run"><b>{{.Counts.NotRun}}</b>not run</button>{{end}}
</div>
</header>
<main>
{{if .Attention}}<nav class="attention"><h2>Needs attention</h2><ul>{{range .Attention}}<li class="status-{{.Status}}"><span class="badge">{{label .Status}}</span> <a href="#{{.ID}}" onclick="document.getElementById('{{.ID}}').open = true">{{.Feature}} › {{.Name}}</a></li>{{end}}</ul></nav>{{end}}
{{if .Coverage}}<details class="coverage" id="coverage"{{if .CoverageFailed}} open{{end}}><summary>Coverage by specification section<small> · {{len .Coverage}} sections{{if .CoverageFailed}} · {{.CoverageFailed}} with a failure{{end}}</small></summary>
<table class="coverage"><thead><tr><th>section</th><th>level</th><th>requirement</th><th>passed</th><th>failed</th><th>warnings</th><th>not applicable</th><th>expected failures</th></tr></thead><tbody>
{{range .Coverage}}<tr{{if not .Counts.Total}} class="unrun"{{end}}><td>{{if .URL}}<a href="{{.URL}}" target="_blank" rel="noopener">{{.Tag}}</a>{{else}}{{.Tag}}{{end}}</td><td>{{.Level}}</td><td>{{if .Uncatalogued}}<i>not in the requirements catalogue</i>{{else}}{{.Text}}{{end}}</td>{{with .Counts}}<td class="n {{if .Passed}}passed{{else}}zero{{end}}">{{.Passed}}</td><td class="n {{if .Failed}}failed{{else}}zero{{end}}">{{.Failed}}</td><td class="n {{if .Warnings}}warning{{else}}zero{{end}}">{{.Warnings}}</td><td class="n {{if not .NotApplicable}}zero{{end}}">{{.NotApplicable}}</td><td class="n {{if .ExpectedFailures}}xfail{{else}}zero{{end}}">{{.ExpectedFailures}}</td>{{end}}</tr>
{{end}}</tbody></table></details>{{end}}
{{range .Features}}<section class="feature">
<h2>{{.Name}}<small>{{.Counts.Total}} {{plural .Counts.Total "scenario" "scenarios"}} · {{.Counts.Passed}} passed{{if .Counts.Failed}} · {{.Counts.Failed}} failed{{end}}{{if .Counts.Warnings}} · {{.Counts.Warnings}} {{plural .Counts.Warnings "warning" "warnings"}}{{end}}{{if .Counts.NotApplicable}} · {{.Counts.NotApplicable}} not applicable{{end}}{{if .Counts.ExpectedFailures}} · {{.Counts.ExpectedFailures}} expected {{plural .Counts.ExpectedFailures "failure" "failures"}}{{end}}</small></h2>
{{range .Scenarios}}<details class="scenario status-{{.Status}}" id="{{.ID}}"{{if .Open}} open{{end}}>
<summary><span class="badge">{{label .Status}}</span><span class="name">{{.Name}}</span>
<span class="tags">{{range .TagLinks}}{{if .URL}}<a class="{{.Class}}" href="{{.URL}}" target="_blank" rel="noopener">{{.Name}}</a>{{else}}<span class="{{.Class}}">{{.Name}}</span>{{end}}{{end}}</span>
<span class="dur">{{.Level}} · {{.DurationTxt}}</span>
{{if and .Reason (not .Open)}}<span class="why">{{.Reason}}</span>{{end}}</summary>
<div class="body">
{{if .Reason}}<div class="reason">{{if eq .Status "not_applicable"}}Not applicable: {{else if eq .Status "expected_failure"}}Expected failure: {{end}}{{.Reason}}</div>{{end}}
{{if .ShowError}}<div class="error">{{.Error}}</div>{{end}}
{{if .Steps}}<ol class="steps">{{range .Steps}}<li class="step-{{.Status}}"><span class="step-icon">{{stepIcon .Status}}</span><span class="kw">{{.Keyword}}</span> {{.Text}}{{if .Error}}<div class="step-err">{{.Error}}</div>{{end}}</li>{{end}}</ol>{{end}}
{{if .Notes}}<h3>Notes</h3><ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Exchanges}}<h3>HTTP exchanges ({{len .Exchanges}})</h3>
{{range .Exchanges}}<details class="x{{if .Failed}} bad{{end}}"><summary>{{.Method}} {{.URL}} → {{if .Error}}<span class="ko">{{.Error}}</span>{{else}}<span class="code {{if .Failed}}ko{{else}}ok{{end}}">{{.Status}}</span>{{end}} · {{.DurationTxt}}</summary>
<div class="lbl">Request</div><pre>{{.Method}} {{.URL}}
{{.ReqHeaders}}{{if .RequestBody}}
{{.RequestBody}}{{end}}</pre>
{{if not .Error}}<div class="lbl">Response</div><pre>{{.Status}}
{{.RespHeaders}}{{if .ResponseBody}}
{{.ResponseBody}}{{end}}</pre>{{end}}
</details>{{end}}{{end}}
{{if .Shots}}<h3>Screenshots</h3>{{range .Shots}}<figure><img src="{{.Src}}" alt="{{.Caption}}" loading="lazy"><figcaption>{{.Caption}}</figcaption></figure>{{end}}{{end}}
</div></details>
{{end}}</section>
{{else}}<p>No scenarios were recorded.</p>
{{end}}</main>
<script>
document.getElementById("filters").addEventListener("click", function (ev) {
  var b = ev.target.closest("button"); if (!b) return;
  document.querySelectorAll("#filters button").forEach(function (x) { x.classList.toggle("active", x === b); });
  var f = b.getAttribute("data-filter");
  document.querySelectorAll("details.scenario").forEach(function (d) { d.classList.toggle("hidden", f !== "" && !d.classList.contains(f)); });
  document.querySelectorAll("section.feature").forEach(function (s) { s.classList.toggle("hidden", !s.querySelector("details.scenario:not(.hidden)")); });
  var nav = document.querySelector("nav.attention"); if (nav) nav.classList.toggle("hidden", f !== "");
});
</script>
</body></html>
`))
