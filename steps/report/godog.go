package report

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v34"
)

// Attach registers hooks that record every scenario and step of a godog
// run into the report. Call it from the ScenarioInitializer. The scenario's
// context then carries its *Scenario (FromContext), which Transport and the
// step code use.
//
// godog's own exit status still counts @should failures and expected
// failures as failures; decide the run's result with Failed instead.
func (r *Report) Attach(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
		if deselected(ctx) {
			return ctx, nil
		}
		tags := make([]string, 0, len(p.Tags))
		for _, t := range p.Tags {
			tags = append(tags, t.Name)
		}
		// A run narrowed to FILE:LINE gets URIs with the line appended.
		uri := p.Uri
		if i := strings.LastIndex(uri, ".feature:"); i >= 0 {
			uri = uri[:i+len(".feature")]
		}
		s := r.Start(p.Name, r.featureName(uri), tags)
		s.mu.Lock()
		s.rec.FeatureURI = uri
		s.mu.Unlock()
		return WithScenario(ctx, s), nil
	})
	sc.StepContext().Before(func(ctx context.Context, _ *godog.Step) (context.Context, error) {
		if s := FromContext(ctx); s != nil {
			s.mu.Lock()
			s.stepStart = time.Now()
			s.mu.Unlock()
		}
		return ctx, nil
	})
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		s := FromContext(ctx)
		if s == nil {
			return ctx, nil
		}
		s.mu.Lock()
		var d time.Duration
		if !s.stepStart.IsZero() {
			d = time.Since(s.stepStart)
			s.stepStart = time.Time{}
		}
		s.mu.Unlock()
		s.Step(stepKeyword(st.Type), st.Text, stepStatus(status), err, d)
		return ctx, nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		s := FromContext(ctx)
		switch {
		case s == nil:
		case ctx.Err() != nil:
			// The run was stopped: what the scenario saw last was the
			// cancellation, not the issuer.
			s.notRun(context.Cause(ctx).Error())
		default:
			s.Finish(err)
		}
		return ctx, nil
	})
}

type deselectedKey struct{}

// Deselect marks the scenario starting in ctx as left out of the run by
// its caller (a go test -run pattern): Attach records nothing of it.
// Call it from a Before hook registered ahead of Attach.
func Deselect(ctx context.Context) context.Context {
	return context.WithValue(ctx, deselectedKey{}, true)
}

func deselected(ctx context.Context) bool {
	v, _ := ctx.Value(deselectedKey{}).(bool)
	return v
}

// NotApplicable marks the scenario in ctx as not applicable and returns
// godog.ErrSkip, so a step discovering that the target lacks something
// (an opaque token where a JWT was needed) ends it with a reason:
//
//	return report.NotApplicable(ctx, "the issuer's access tokens are opaque")
func NotApplicable(ctx context.Context, reason string) error {
	if s := FromContext(ctx); s != nil {
		s.NotApplicable(reason)
	}
	return errors.Join(godog.ErrSkip, errors.New(reason))
}

// stepKeyword maps a pickle step's type back to a Gherkin keyword; pickles
// do not keep the keyword the feature used.
func stepKeyword(t messages.PickleStepType) string {
	switch t {
	case messages.PickleStepType_CONTEXT:
		return "Given"
	case messages.PickleStepType_ACTION:
		return "When"
	case messages.PickleStepType_OUTCOME:
		return "Then"
	}
	return "*"
}

func stepStatus(s godog.StepResultStatus) StepStatus {
	switch s.String() {
	case "passed":
		return StepPassed
	case "failed":
		return StepFailed
	case "skipped":
		return StepSkipped
	case "pending":
		return StepPending
	case "ambiguous":
		return StepAmbiguous
	}
	return StepUndefined
}

// featureName reads the "Feature:" line of a feature file, once per file;
// pickles carry only the file's URI.
func (r *Report) featureName(uri string) string {
	r.mu.Lock()
	if name, ok := r.features[uri]; ok {
		r.mu.Unlock()
		return name
	}
	r.mu.Unlock()

	name := strings.TrimSuffix(filepath.Base(uri), filepath.Ext(uri))
	var f io.ReadCloser
	var err error
	if r.FeatureFS != nil {
		f, err = r.FeatureFS.Open(uri)
	} else {
		f, err = os.Open(uri)
	}
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Feature:"); ok {
				name = strings.TrimSpace(rest)
				break
			}
		}
		f.Close()
	}
	r.mu.Lock()
	if r.features == nil {
		r.features = map[string]string{}
	}
	r.features[uri] = name
	r.mu.Unlock()
	return name
}
