package steps

import (
	"time"

	"github.com/cucumber/godog"
)

// registerWaitSteps registers the waits.
func (s *scenario) registerWaitSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the suite waits (\d+) seconds?$`, s.waitSeconds)
	sc.Step(`^the suite waits the configured code reuse delay$`, s.waitCodeReuse)
	sc.Step(`^the suite waits until the code has expired$`, s.waitCodeExpiry)
}

// wait lets time pass at the issuer; it is only used where nothing can be
// polled (a code growing old, a session outliving max_age).
func (s *scenario) wait(d time.Duration) error {
	s.rec.Note("waiting %s", d)
	select {
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (s *scenario) waitSeconds(n int) error { return s.wait(time.Duration(n) * time.Second) }

func (s *scenario) waitCodeReuse() error {
	return s.wait(s.run.cfg.Waits.CodeReuse)
}

func (s *scenario) waitCodeExpiry() error {
	if s.run.cfg.Waits.CodeExpiry <= 0 {
		return s.notApplicable("the target configuration sets no waits.code_expiry")
	}
	return s.wait(s.run.cfg.Waits.CodeExpiry)
}
