package main

import (
	"flag"
	"fmt"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/browser"
)

// scaleFlags are the check flags that spread a run over CI jobs and
// browsers elsewhere.
type scaleFlags struct {
	shard, durations, browserURL *string
}

func addScaleFlags(fs *flag.FlagSet) scaleFlags {
	return scaleFlags{
		shard:      fs.String("shard", "", "run part K of N of the selected scenarios (K/N, e.g. 2/3); merge the parts' reports with oauthtrio report merge"),
		durations:  fs.String("shard-durations", "", "balance --shard by the durations of an earlier run: its report directory or cucumber.json"),
		browserURL: fs.String("browser-url", "", "drive a running Chromium/Chrome instead of starting one: its DevTools websocket (ws://...) or endpoint (http://host:port)"),
	}
}

// checkBrowserURL checks --browser-url before anything starts.
func (f scaleFlags) checkBrowserURL() error {
	if *f.browserURL == "" {
		return nil
	}
	if err := browser.CheckEndpoint(*f.browserURL); err != nil {
		return fmt.Errorf("--browser-url %s: %w", *f.browserURL, err)
	}
	return nil
}

// parseShard reads --shard and --shard-durations; the error names the
// flag. No --shard is the zero Shard: the whole selection.
func (f scaleFlags) parseShard() (steps.Shard, error) {
	if *f.shard == "" {
		if *f.durations != "" {
			return steps.Shard{}, fmt.Errorf("--shard-durations %s: it balances --shard, which is not given", *f.durations)
		}
		return steps.Shard{}, nil
	}
	s, err := steps.ParseShard(*f.shard)
	if err != nil {
		return steps.Shard{}, fmt.Errorf("--shard %w", err)
	}
	if *f.durations != "" {
		if s.Durations, err = steps.ReadDurations(*f.durations); err != nil {
			return steps.Shard{}, fmt.Errorf("--shard-durations: %w", err)
		}
	}
	return s, nil
}
